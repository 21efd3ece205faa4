import datetime as dt
from collections.abc import Sequence
from typing import Self

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import NotSupportedError, models
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from incidents.durations import FIELDS as DURATION_MILESTONES
from incidents.durations import SPANS, Span, measure
from incidents.exceptions import IncidentHasOpenItems, StatusChangeRefused, StatusContradictsTimes
from morgue.counters import Counts


class Severity(models.IntegerChoices):
    # 1 is the worst. The words shown for each level are configurable
    # (settings.MORGUE_SEVERITY_LABELS); these are the defaults.
    SEV1 = 1, "1 – critical: site down or data loss"
    SEV2 = 2, "2 – major: a core feature broken for many"
    SEV3 = 3, "3 – moderate: degraded for some"
    SEV4 = 4, "4 – minor: small or internal impact"
    SEV5 = 5, "5 – negligible: near miss"


def severity_labels() -> dict[int, str]:
    """Each level's meaning: the defaults, overridden by settings.MORGUE_SEVERITY_LABELS ({1: "…"})."""
    labels = {level.value: level.label for level in Severity}
    for level, text in (getattr(settings, "MORGUE_SEVERITY_LABELS", None) or {}).items():
        if int(level) in labels:
            labels[int(level)] = str(text)
    return labels


def severity_choices() -> list[tuple[int, str]]:
    return sorted(severity_labels().items())


class Status(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    REVIEW_SCHEDULED = "review-scheduled", "Review scheduled"
    REVIEWED = "reviewed", "Reviewed"
    CLOSED = "closed", "Closed"


class ProblemType(models.TextChoices):
    INTERNAL = "internal", "Internal"
    VENDOR = "vendor", "Vendor"


class Impact(models.TextChoices):
    CUSTOMER = "customer", "Customer-facing"
    INTERNAL = "internal", "Internal only"
    DATA = "data", "Data integrity"
    PERFORMANCE = "performance", "Performance"
    SECURITY = "security", "Security"


# The milestones in the order they must happen: each name is a field `<name>_at`
# with a note `<name>_source`. Only impact_started_at and detected_at are required.
MILESTONES: tuple[tuple[str, str], ...] = (
    ("impact_started", "Impact started"),
    ("detected", "Detected"),
    ("acknowledged", "Acknowledged"),
    ("status_posted", "Status page updated"),
    ("mitigated", "Mitigated"),
    ("resolved", "Resolved"),
)

# The ordering rules: (earlier, later). Only these pairs are enforced; a
# status post may legitimately come before acknowledgement, for instance.
ORDER_RULES: tuple[tuple[str, str], ...] = (
    ("impact_started_at", "detected_at"),
    ("detected_at", "acknowledged_at"),
    ("impact_started_at", "status_posted_at"),
    ("impact_started_at", "mitigated_at"),
    ("detected_at", "resolved_at"),
    ("mitigated_at", "resolved_at"),
)

POSTMORTEM_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("tldr", "tl;dr", "Two or three sentences: what broke, for whom, for how long, and what fixed it."),
    ("what_happened", "What happened?", "The story in order, in the words of the people who were there."),
    (
        "why_surprised",
        "Why were we surprised?",
        "What did we believe about the system that turned out not to hold?",
    ),
    ("went_well", "What went well?", "What helped: tools, people, habits, luck we can keep."),
    ("got_lucky", "Where did we get lucky?", "What could have made this worse, and did not, by chance?"),
    (
        "contributing_factors",
        "Contributing factors",
        "The conditions that combined: technical, organisational, timing. Not a single root cause.",
    ),
)
POSTMORTEM_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in POSTMORTEM_SECTIONS)


# What full-text search indexes, weighted: title first, then the tl;dr, then the rest.
SEARCH_CONFIG = "english"


def search_vector_expression() -> CombinedExpression:
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("tldr", weight="B", config=SEARCH_CONFIG)
        + SearchVector(*POSTMORTEM_FIELDS[1:], weight="C", config=SEARCH_CONFIG)
    )


def field_label(name: str) -> str:
    return name.removesuffix("_at").replace("_", " ")


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JSONList(models.Aggregate):
    """Values gathered into a JSON list: jsonb_agg on PostgreSQL, json_group_array on SQLite."""

    function = "json_group_array"
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="jsonb_agg", **extra_context)


def tag_names_subquery() -> models.Subquery:
    """An incident's tag names as one JSON list per row (NULL when it has none).

    A list page reads 50 rows; a correlated subquery runs for those rows only,
    and costs far less than a prefetch building a queryset per incident.
    """
    through = Incident.tags.through.objects.filter(incident_id=models.OuterRef("pk"))
    # The stubs' plugin does not follow an annotation made after values() (`names` is one).
    names = through.order_by().values("incident_id").annotate(names=JSONList("tag__name")).values("names")  # type: ignore[misc]
    return models.Subquery(names)


def resolved_condition() -> models.Q:
    """Incident.is_resolved as SQL: no longer open."""
    return ~models.Q(status=Status.OPEN)


# What Incident.durations() reads: load these (`.only(*DURATION_FIELDS)`) to time incidents.
DURATION_FIELDS: tuple[str, ...] = ("status", *DURATION_MILESTONES)


class Seconds(models.Func):
    """A duration as float seconds: date_part on PostgreSQL, Django's microseconds ÷ 10⁶ on SQLite."""

    output_field = models.FloatField()

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context):
        raise NotSupportedError(f"Incident durations are not computed in SQL on {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        # date_part gives a float directly; EXTRACT computes a numeric first, twice as slow.
        return super().as_sql(compiler, connection, template="date_part('epoch', %(expressions)s)")

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s) / 1000000.0")


def span_expression(span: Span) -> models.Expression:
    """incidents.durations.span_seconds as SQL (tests/incidents/test_durations.py proves they agree)."""
    ends = [models.F(name) for name in span.ends]
    end = ends[0] if len(ends) == 1 else Coalesce(*ends)
    between = models.ExpressionWrapper(end - models.F(span.start), output_field=models.DurationField())
    seconds = Seconds(between)
    if not span.once_resolved:
        return seconds
    return models.Case(
        models.When(resolved_condition(), then=seconds), default=None, output_field=models.FloatField()
    )


class IncidentQuerySet(models.QuerySet["Incident"]):
    def visible(self) -> Self:
        """Not soft-deleted: what every list, page and metric shows."""
        return self.filter(deleted_at__isnull=True)

    def open(self) -> Self:
        return self.visible().filter(status=Status.OPEN)

    def deleted(self) -> Self:
        return self.filter(deleted_at__isnull=False)

    def for_list(self) -> Self:
        """What a list row shows, in one query whatever the page size (tags: Incident.tag_names)."""
        return (
            self.select_related("team", "facilitator")
            .annotate(listed_tag_names=tag_names_subquery())
            .defer("search_vector", *POSTMORTEM_FIELDS[1:])
        )

    def with_durations(self) -> Self:
        """Each incident's durations (incidents.durations) as SQL columns of float seconds, and `resolved`.

        The columns are named as the spans: time_to_detect, time_to_resolve, impact.
        """
        return self.annotate(
            resolved=models.ExpressionWrapper(resolved_condition(), output_field=models.BooleanField()),
            **{span.name: span_expression(span) for span in SPANS},
        )

    def started_between(self, since: dt.datetime | None, until: dt.datetime | None) -> Self:
        queryset = self
        if since is not None:
            queryset = queryset.filter(impact_started_at__gte=since)
        if until is not None:
            queryset = queryset.filter(impact_started_at__lt=until)
        return queryset


def _whole_seconds(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)


class Incident(models.Model):
    title = models.CharField(max_length=200)
    severity = models.PositiveSmallIntegerField(choices=Severity, default=Severity.SEV3)
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN, db_index=True)

    team = models.ForeignKey(
        "morgue.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        help_text="The owning team.",
    )
    affected_service = models.CharField(max_length=100, blank=True)
    problem_type = models.CharField(max_length=20, choices=ProblemType, blank=True)
    impact_type = models.CharField(max_length=20, choices=Impact, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="incidents")
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitated_incidents",
    )

    # Milestones, stored in UTC. Each may carry a note on where it came from.
    impact_started_at = models.DateTimeField(db_index=True)
    impact_started_source = models.CharField(max_length=200, blank=True)
    detected_at = models.DateTimeField()
    detected_source = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_source = models.CharField(max_length=200, blank=True)
    status_posted_at = models.DateTimeField(null=True, blank=True)
    status_posted_source = models.CharField(max_length=200, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    mitigated_source = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_source = models.CharField(max_length=200, blank=True)

    # The postmortem document: Markdown, rendered and sanitised on display.
    tldr = models.TextField(blank=True)
    what_happened = models.TextField(blank=True)
    why_surprised = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    got_lucky = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)

    # Optimistic locking: every accepted edit increments it; an edit based on
    # an older version is refused rather than silently overwriting.
    version = models.PositiveIntegerField(default=1)

    # Kept up to date by the services on every save (PostgreSQL only; empty on
    # SQLite, where search falls back to substring matching). GIN-indexed.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    # The postmortem's sections and prompts (incidents.services.running.template_for); none: every section.
    postmortem_template = models.ForeignKey(
        "incidents.PostmortemTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The read-only public page: shown only while `is_public`, at an unguessable address.
    is_public = models.BooleanField(default=False)
    # The postmortem on the public page too: only once published and through the redaction check.
    public_postmortem = models.BooleanField(default=False)
    public_token = models.CharField(max_length=40, blank=True, db_index=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-impact_started_at", "-id"]
        indexes = [
            models.Index(fields=["deleted_at", "-impact_started_at"], name="incident_visible_start"),
            # The incident report's figures over a period (durations, buckets,
            # follow-through) are index-only scans of the period's range: the
            # visible incidents' start with every column they read.
            models.Index(
                fields=[
                    "impact_started_at",
                    "id",
                    "detected_at",
                    "mitigated_at",
                    "resolved_at",
                    "status",
                    "severity",
                    "team",
                ],
                condition=models.Q(deleted_at__isnull=True),
                name="incident_report_figures",
            ),
            # The review queue's pages and the home page's list, oldest resolution first:
            # read a page of rows, not every incident awaiting review.
            models.Index(
                fields=["resolved_at", "id"],
                condition=models.Q(
                    status__in=[Status.RESOLVED, Status.REVIEW_SCHEDULED], deleted_at__isnull=True
                ),
                name="incident_awaiting_review",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.pk])

    @property
    def tag_names(self) -> list[str]:
        """The tags' names, sorted; read from the list query's annotation when it has one."""
        if "listed_tag_names" in self.__dict__:
            return sorted(self.__dict__["listed_tag_names"] or [])
        return sorted(tag.name for tag in self.tags.all())

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def severity_label(self) -> str:
        return severity_labels().get(self.severity, str(self.severity))

    @property
    def is_multi_day(self) -> bool:
        """Whether the milestones span more than one local date (in the active time zone)."""
        times = [at for _, _, at in self.milestones()]
        local_dates = {timezone.localtime(at).date() for at in times}
        return len(local_dates) > 1

    def milestones(self) -> list[tuple[str, str, dt.datetime]]:
        """(name, label, time) for every milestone that has a time, in the documented order."""
        out = []
        for name, label in MILESTONES:
            at = getattr(self, f"{name}_at")
            if at is not None:
                out.append((name, label, at))
        return out

    def order_errors(self) -> dict[str, list[str]]:
        """Out-of-order milestones, each message naming both fields; empty when in order."""
        errors: dict[str, list[str]] = {}
        for earlier, later in ORDER_RULES:
            start, end = getattr(self, earlier), getattr(self, later)
            if start is not None and end is not None and end < start:
                errors.setdefault(later, []).append(
                    f"{later} ({field_label(later)}) cannot be before {earlier} ({field_label(earlier)})."
                )
        return errors

    def validate_order(self) -> None:
        errors = self.order_errors()
        if errors:
            raise ValidationError(errors)

    def postmortem_text(self) -> str:
        return "\n\n".join(getattr(self, name) for name in POSTMORTEM_FIELDS if getattr(self, name))

    @property
    def is_resolved(self) -> bool:
        """No longer open: its time to resolve and customer impact are known (incidents.durations)."""
        return self.status != Status.OPEN

    def durations(self) -> dict[str, float | None]:
        """Time to detect, time to resolve and customer impact in seconds (None while not known)."""
        return measure({name: getattr(self, name) for name in DURATION_MILESTONES}, resolved=self.is_resolved)

    @property
    def time_to_detect_seconds(self) -> int | None:
        return _whole_seconds(self.durations()["time_to_detect"])

    @property
    def time_to_resolve_seconds(self) -> int | None:
        return _whole_seconds(self.durations()["time_to_resolve"])

    @property
    def impact_seconds(self) -> int | None:
        return _whole_seconds(self.durations()["impact"])

    def move_to(
        self, status: str | None, *, at: dt.datetime, open_items: Sequence, resolved_at_given: bool = False
    ) -> None:
        """Change the status if the rules allow it; the one place status changes are checked.

        The status and the resolution time never contradict each other: an
        incident is open exactly when it has no `resolved_at`.

        - `status=None` (none asked for) follows the times: an open incident
          given a resolution time is resolved.
        - Moving on from open stamps `resolved_at` with `at` when it has none;
          moving back to open clears it (a reopened incident is not resolved).
        - A resolution time the caller gave or cleared (`resolved_at_given`,
          already set on the incident) that contradicts the status asked for or
          kept is refused, naming both fields (StatusContradictsTimes).

        `open_items` are the incident's unfinished remediation items
        (incidents.selectors.remediation.items_blocking_close): while any exist it
        cannot close. Raises StatusChangeRefused (400) or IncidentHasOpenItems (409).
        """
        if status is None:
            if self.resolved_at is not None and self.status == Status.OPEN:
                status = Status.RESOLVED
            else:
                status = self.status
        if status not in Status.values:
            raise StatusChangeRefused(
                f"{status} is not a status: use one of {', '.join(Status.values)}.", field="status"
            )
        if resolved_at_given and (status == Status.OPEN) != (self.resolved_at is None):
            raise StatusContradictsTimes(status=status, resolved_at=self.resolved_at)
        if status != self.status:
            if status == Status.REVIEW_SCHEDULED and not hasattr(self, "review"):
                raise StatusChangeRefused(
                    "Schedule the review meeting to set the status to review-scheduled.", field="status"
                )
            if status == Status.CLOSED and open_items:
                raise IncidentHasOpenItems(open_items)
        if status == Status.OPEN:
            self.resolved_at = None
        elif self.resolved_at is None:
            # Resolving without a time stamps it now; every later state needs it too.
            self.resolved_at = at
        self.status = status


def revision_field_label(name: str) -> str:
    """What people call a field a revision records (its snapshot key: `team_id`, `what_happened`, …)."""
    for milestone, label in MILESTONES:
        if name == f"{milestone}_at":
            return label
        if name == f"{milestone}_source":
            return f"{label}: source"
    for section, label, _ in POSTMORTEM_SECTIONS:
        if name == section:
            return label
    if name == "tags":
        return "Tags"
    try:
        field = Incident._meta.get_field(name.removesuffix("_id"))
    except FieldDoesNotExist:
        return name.replace("_", " ").capitalize()
    return capfirst(str(getattr(field, "verbose_name", name)))


class IncidentCount(models.Model):
    """Incidents per status, severity, team and deleted-or-not, kept by database triggers.

    The list's "1–50 of 100,000" is summed from these few rows when only
    status, severity and team narrow it (incidents.selectors.incident.count_incidents).
    Django never writes them; see morgue.counters.
    """

    status = models.CharField(max_length=20)
    severity = models.PositiveSmallIntegerField()
    team_key = models.IntegerField(help_text="The team's id; 0 for none.")
    deleted = models.BooleanField()
    total = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["status", "severity", "team_key", "deleted"], name="incident_count_keys"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status}, severity {self.severity}: {self.total}"


INCIDENT_COUNTS = Counts(
    name="incidents_incident_counts",
    source="incidents_incident",
    table="incidents_incidentcount",
    keys={
        "status": "{row}.status",
        "severity": "{row}.severity",
        "team_key": "COALESCE({row}.team_id, 0)",
        "deleted": "{row}.deleted_at IS NOT NULL",
    },
    measures={"total": "1"},
)
