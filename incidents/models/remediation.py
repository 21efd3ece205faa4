import datetime as dt
import re
from typing import Self
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from morgue.counters import Counts

from .incident import Incident, Status


class RemediationKind(models.TextChoices):
    # The dev/ops split is the point: every postmortem ends with work for both.
    DEV = "dev", "Dev"
    OPS = "ops", "Ops"


class RemediationCategory(models.TextChoices):
    DETECT = "detect", "Detect"
    MITIGATE = "mitigate", "Mitigate"
    PREVENT = "prevent", "Prevent"
    PROCESS = "process", "Process"


class RemediationPriority(models.TextChoices):
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class RemediationStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in-progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont-do", "Won't do"


UNFINISHED = (RemediationStatus.OPEN, RemediationStatus.IN_PROGRESS)

# A tracker key such as OPS-1234 or PAY2-17, found anywhere in a ticket URL.
TICKET_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]{1,9}-[0-9]{1,7})(?![0-9])")


def ticket_key(url: str) -> str:
    """The tracker key (ABC-123) when a ticket URL carries one, else empty."""
    match = TICKET_KEY.search(url or "")
    return match.group(1) if match else ""


# Weeks from the day an item is written to its default due date, by incident
# severity; override with settings.MORGUE_REMEDIATION_DUE_WEEKS.
DEFAULT_DUE_WEEKS = {1: 4, 2: 4, 3: 8, 4: 8, 5: 8}
FALLBACK_DUE_WEEKS = 8
# An item without an incident (decided in an alerts review) follows no outage:
# it gets the due date of a non-severe incident.
NON_SEVERE = 3


def default_due_date(*, severity: int | None, written_on: dt.date) -> dt.date:
    """The due date an item gets when nobody gives one: sooner for worse incidents."""
    severity = NON_SEVERE if severity is None else severity
    weeks_by_severity = getattr(settings, "MORGUE_REMEDIATION_DUE_WEEKS", DEFAULT_DUE_WEEKS)
    weeks = weeks_by_severity.get(severity, weeks_by_severity.get(str(severity), FALLBACK_DUE_WEEKS))
    return written_on + dt.timedelta(weeks=weeks)


def incident_origin(incident: Incident) -> tuple[str, str]:
    """Where an item written for an incident comes from: the incident's title and its remediation page."""
    return incident.title, reverse("incidents:remediation-incident", args=[incident.pk])


class RemediationItemQuerySet(models.QuerySet["RemediationItem"]):
    def visible(self) -> Self:
        """Items of incidents that are not soft-deleted, and items born in an alerts review (no incident)."""
        # NOT IN the (few) deleted incidents rather than a join to every
        # incident: counts over the board's index then need no join at all.
        # `NULL NOT IN (...)` is NULL, not true, so items without an incident
        # are kept explicitly.
        deleted = Incident.objects.filter(deleted_at__isnull=False).values("pk")
        return self.filter(models.Q(incident_id__isnull=True) | ~models.Q(incident_id__in=deleted))

    def unfinished(self) -> Self:
        return self.filter(status__in=UNFINISHED)

    @staticmethod
    def overdue_condition(today: dt.date) -> models.Q:
        """RemediationItem.is_overdue in SQL, for filters and conditional counts (a test holds them equal)."""
        return models.Q(status__in=UNFINISHED, due_date__lt=today)

    def overdue(self, today: dt.date) -> Self:
        """Still to do and past the due date, where `today` is a local calendar date."""
        return self.filter(self.overdue_condition(today))

    def due_by(self, day: dt.date) -> Self:
        return self.unfinished().filter(due_date__lte=day)

    def with_people(self) -> Self:
        return self.select_related("incident", "owner__profile", "team", "tracker_issue")

    def for_listing(self) -> Self:
        """Owner, team and tracker issue joined; of the incident only its title (`incident_title_shown`)."""
        joined = self.select_related("owner", "team", "tracker_issue")
        return joined.annotate(incident_title_shown=F("incident__title"))


class RemediationItem(models.Model):
    # Empty for items born in a monthly alerts review rather than a postmortem.
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="remediation_items",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    kind = models.CharField(max_length=10, choices=RemediationKind)
    category = models.CharField(max_length=10, choices=RemediationCategory)
    # People are deactivated, not deleted: an owner with items cannot vanish.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="remediation_items"
    )
    team = models.ForeignKey(
        "morgue.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="remediation_items"
    )
    priority = models.CharField(
        max_length=10, choices=RemediationPriority, default=RemediationPriority.NORMAL
    )
    ticket_url = models.URLField(max_length=500, blank=True)
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=RemediationStatus, default=RemediationStatus.OPEN)
    wont_do_reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminders_muted = models.BooleanField(default=False, help_text="No digest emails for this item.")
    # Where the item came from, recorded when it is written: its incident (the
    # title follows the incident's), or the alerts review that decided it.
    # Stored so this app never has to know the pages of the apps above it.
    origin_title = models.CharField("from", max_length=300)
    origin_url = models.CharField(max_length=500, help_text="The page the item came from.")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RemediationItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # The board: filter by kind and status, sort by due date; incident_id
            # last so its counts are index-only scans.
            models.Index(
                fields=["kind", "status", "due_date", "id", "incident_id"], name="remediation_kind_status_due"
            ),
            models.Index(fields=["status", "due_date", "id", "incident_id"], name="remediation_status_due"),
            # Every item by due date (the API list and the board unfiltered): the first page
            # is read off the index instead of sorting every item.
            models.Index(fields=["due_date", "id"], name="remediation_due"),
            # Digests and "mine".
            models.Index(fields=["owner", "status", "due_date"], name="remediation_owner_status_due"),
            # An incident's items; and, index-only, the board's count of the
            # items of soft-deleted incidents, which the kept counts include,
            # and the report's items done on time.
            models.Index(
                fields=["incident", "kind", "status", "due_date", "completed_at"],
                name="remediation_incident_done",
            ),
            # Figures: opened and completed per month, index-only (with what
            # they count by: kind, status, due date, and the incident for visibility).
            models.Index(
                fields=["created_at", "kind", "status", "due_date", "incident", "id"],
                name="remediation_opened_figures",
            ),
            models.Index(
                fields=["completed_at", "kind", "status", "due_date", "incident", "id"],
                name="remediation_done_figures",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=RemediationKind.values), name="remediation_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RemediationStatus.WONT_DO) | ~models.Q(wont_do_reason=""),
                name="remediation_wont_do_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RemediationStatus.DONE) | models.Q(completed_at__isnull=False),
                name="remediation_done_has_completed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """Where the item is worked on: its card on its incident's page, or the page it came from."""
        if self.incident_id:
            return f"{self.origin_url}#remediation-{self.pk}"
        return self.origin_url

    @property
    def permission_team(self):
        """Whose roles govern the item (morgue.permissions): its team, else its incident's."""
        if self.team_id is not None or self.incident is None:
            return self.team
        return self.incident.team

    @property
    def is_unfinished(self) -> bool:
        return self.status in UNFINISHED

    @property
    def ticket_key(self) -> str:
        """The tracker key (ABC-123) when the ticket URL carries one, else empty."""
        return ticket_key(self.ticket_url)

    def board_url(self) -> str:
        """The item's card on the remediation board (its status column, filtered to its owner and kind)."""
        query = urlencode({"status": self.status, "owner": self.owner.username, "kind": self.kind})
        return reverse("incidents:remediation-board") + f"?{query}#remediation-{self.pk}"

    def is_overdue(self, today: dt.date) -> bool:
        """Still to do and past the due date, where `today` is a local calendar date."""
        return self.is_unfinished and self.due_date < today

    @property
    def completed_on_time(self) -> bool | None:
        if self.status != RemediationStatus.DONE or self.completed_at is None:
            return None
        return self.completed_at.astimezone(dt.UTC).date() <= self.due_date

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        started = getattr(self.incident, "impact_started_at", None) if self.incident_id else None
        # Compared with the UTC date the impact started: a due date is a calendar
        # day with no zone, and the earliest reading is the forgiving one.
        if started is not None and self.due_date and self.due_date < started.astimezone(dt.UTC).date():
            errors["due_date"] = [
                f"The due date {self.due_date.isoformat()} is before the incident started "
                f"({started.astimezone(dt.UTC).date().isoformat()})."
            ]
        if self.status == RemediationStatus.WONT_DO and not self.wont_do_reason.strip():
            errors["wont_do_reason"] = ["Say why this item won't be done: a reason is required for won't do."]
        # The other half of Incident.move_to's closing rule: a closed incident
        # has no work still to do, so none can be added to it or reopened on it.
        if self.is_unfinished and self.incident is not None and self.incident.status == Status.CLOSED:
            errors["status"] = [
                f"Incident #{self.incident_id} is closed: reopen it before giving it work still to do."
            ]
        if errors:
            raise ValidationError(errors)

    def set_status(self, status: str, *, reason: str = "", at: dt.datetime) -> None:
        """Move to `status`; done stamps completed_at, anything else clears it."""
        if status not in RemediationStatus.values:
            choices = ", ".join(RemediationStatus.values)
            raise ValidationError({"status": [f"{status!r} is not a status; use one of {choices}."]})
        self.status = status
        if status == RemediationStatus.DONE:
            if self.completed_at is None:
                self.completed_at = at
        else:
            self.completed_at = None
        self.wont_do_reason = reason.strip() if status == RemediationStatus.WONT_DO else ""


class RemediationCount(models.Model):
    """Items per kind, status, team and category, kept by database triggers.

    The board's column counts are summed from these few rows instead of
    counting every item when only these keys narrow it
    (incidents.selectors.board). Django never writes them; see
    morgue.counters. They count every item, those of soft-deleted incidents
    too: whether an item is shown depends on its incident, which the item's
    own row does not carry, so the board subtracts those few.
    """

    kind = models.CharField(max_length=10)
    status = models.CharField(max_length=12)
    team_key = models.BigIntegerField(help_text="The team's id; 0 for none.")
    category = models.CharField(max_length=10)
    total = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "status", "team_key", "category"], name="remediation_count_keys"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}: {self.total}"


REMEDIATION_COUNTS = Counts(
    name="incidents_remediation_counts",
    source="incidents_remediationitem",
    table="incidents_remediationcount",
    keys={
        "kind": "{row}.kind",
        "status": "{row}.status",
        "team_key": "COALESCE({row}.team_id, 0)",
        "category": "{row}.category",
    },
    measures={"total": "1"},
)
