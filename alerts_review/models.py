import datetime as dt
from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from morgue import tokens
from morgue.counters import Counts, month_of_day_sql
from morgue.validators import validate_time_zone

from . import paging_rules
from .alertmanager import validate_alertmanager_url


def new_source_token() -> str:
    """The token's old default, named by migration 0001; tokens are now made by AlertSource.issue_token."""
    return tokens.new_token()


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana"
    NAGIOS = "nagios", "Nagios"
    GENERIC = "generic", "Generic JSON"


class AlertSourceQuerySet(models.QuerySet["AlertSource"]):
    def active(self) -> Self:
        return self.filter(revoked_at__isnull=True)


class AlertSource(models.Model):
    """A system that sends alerts in, authenticated by its own token."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind)
    team = models.ForeignKey(
        "morgue.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alert_sources",
        help_text="The team for alerts that name none and match no routing rule.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Zone of the sender's clock, for Nagios LONGDATETIME values that are not UTC.",
    )
    alertmanager_url = models.URLField(
        "Alertmanager URL",
        max_length=500,
        blank=True,
        validators=[validate_alertmanager_url],
        help_text="Base URL of the Alertmanager (http://alertmanager:9093): acknowledging a page of its "
        "alerts silences them there until they resolve.",
    )
    # The token itself is shown once, when made (issue_token); only these are kept.
    token_prefix = models.CharField(
        max_length=tokens.PREFIX_LENGTH, blank=True, db_index=True, editable=False
    )
    token_hash = models.CharField(max_length=tokens.HASH_LENGTH, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AlertSourceQuerySet.as_manager()

    # The plain token, only on the instance that made it (issue_token).
    token: str | None = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def issue_token(self) -> str:
        """Give the source a new token (the old one stops working) and return it: the only copy."""
        token = tokens.new_token()
        self.token_prefix = tokens.prefix_of(token)
        self.token_hash = tokens.hash_token(token)
        self.token = token
        return token

    @classmethod
    def for_token(cls, token: str) -> "AlertSource | None":
        """The source (revoked or not) this token belongs to, or None."""
        candidates = cls.objects.select_related("team").filter(token_prefix=tokens.prefix_of(token))
        return tokens.first_match(candidates, token, hash_of=lambda source: source.token_hash)

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class CategoryKind(models.TextChoices):
    ACTIONABLE = "actionable", "Actionable"
    NOT_ACTIONABLE = "not_actionable", "Not actionable"
    NEITHER = "neither", "Neither"


class CategoryHint(models.TextChoices):
    """What a check mostly put in this category probably needs."""

    NONE = "", "Nothing in particular"
    THRESHOLD = "threshold", "Adjust the check's thresholds"
    TIME_PERIOD = "timeperiod", "Change the check's notification period"


class Category(models.Model):
    """One answer to "was this alert worth it?"; kept as data so the admin can edit the taxonomy."""

    slug = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CategoryKind)
    hint = models.CharField(max_length=20, choices=CategoryHint, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.slug


class RoutingRule(models.Model):
    """Sends alerts whose check name matches a pattern to a team, when the alert names no team."""

    check_pattern = models.CharField(
        max_length=200, help_text="Shell-style pattern on the check name, e.g. Disk* or *Checkout*."
    )
    team = models.ForeignKey("morgue.Team", on_delete=models.CASCADE, related_name="alert_routing_rules")
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower positions are tried first.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.check_pattern} → {self.team}"


QUARTER_HOUR = 900  # seconds


def quarter_of(instant: dt.datetime) -> int:
    """The quarter hour an instant falls in, counted from the epoch (Alert.fired_quarter)."""
    return int(instant.timestamp()) // QUARTER_HOUR


class QuarterHourField(models.IntegerField):
    """Quarter hours since the UNIX epoch of another field's instant, set on every save and bulk_create.

    The monthly report groups a million alerts by time; grouping by this
    integer (which the planner has statistics for) is several times cheaper
    than truncating each timestamp in the query. Every IANA offset is a whole
    number of quarter hours, so local days and hours in any zone are exact.
    """

    def __init__(self, *args, source: str = "fired_at", **kwargs):
        self.source = source
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        instant = getattr(model_instance, self.source)
        value = None if instant is None else quarter_of(instant)
        setattr(model_instance, self.attname, value)
        return value


class AlertQuerySet(models.QuerySet["Alert"]):
    def fired_between(self, since: dt.datetime, until: dt.datetime) -> Self:
        return self.filter(fired_at__gte=since, fired_at__lt=until)

    def unclassified(self) -> Self:
        return self.filter(category__isnull=True)

    def counted(self) -> Self:
        """Real alerts: without senders' test notifications (as the counts tables see them)."""
        return self.filter(is_test=False)


class PagingDecision(models.TextChoices):
    """What became of an alert once stored: decided after the receiver answered (services.paging)."""

    UNDECIDED = "", "Not decided yet"
    PAGED = "paged", "Paged"
    RECORDED = "recorded", "Recorded only"
    MAINTENANCE = "maintenance", "During maintenance"
    HEARTBEAT = "heartbeat", "Heartbeat"


class Alert(models.Model):
    source = models.CharField(max_length=40, help_text="alertmanager, grafana, nagios, generic, import…")
    alert_source = models.ForeignKey(
        AlertSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    identity = models.CharField(
        max_length=255, help_text="Stable per alerting thing: a fingerprint, or host and service."
    )
    check_name = models.CharField("check", max_length=200)
    host = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=40, blank=True, help_text="firing, resolved, CRITICAL, OK…")
    severity = models.CharField(max_length=40, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    summary = models.TextField(blank=True)
    fired_at = models.DateTimeField()
    fired_quarter = QuarterHourField(source="fired_at")
    resolved_at = models.DateTimeField(null=True, blank=True)
    problem_id = models.CharField(
        max_length=40,
        blank=True,
        help_text="Nagios' problem id: its re-notifications update this alert instead of adding one.",
    )
    is_test = models.BooleanField(
        default=False, help_text="A sender's test notification (Grafana's contact point Test), not counted."
    )
    team = models.ForeignKey(
        "morgue.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    paged = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts_paged",
        help_text="The team's L1 on call when the alert fired.",
    )
    out_of_hours = models.BooleanField(
        default=False, help_text="Fired inside the paged person's sleep hours, on their own clock."
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    note = models.TextField(blank=True)
    woke_me_up = models.BooleanField(default=False)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paging = models.CharField(
        max_length=12, choices=PagingDecision, blank=True, default=PagingDecision.UNDECIDED
    )
    page = models.ForeignKey(
        "oncall.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        help_text="The page this alert opened or was attached to.",
    )

    objects = AlertQuerySet.as_manager()

    # Not stored: what the review suggests for it (set by selectors.shift_review).
    suggested_category: str | None = None

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            # The same notification delivered twice, or its `resolved` follow-up,
            # lands on the same row.
            models.UniqueConstraint(fields=["source", "identity", "fired_at"], name="alert_unique_firing"),
        ]
        indexes = [
            # Lists by time, and the hours at a month's edges that the report
            # counts from the alerts (the rest comes from AlertDayCount).
            models.Index(fields=["fired_at"], name="alert_fired_at"),
            models.Index(fields=["team", "fired_at"], name="alert_team_fired_at"),
            models.Index(fields=["paged", "fired_at"], name="alert_paged_fired_at"),
            # The paging sweep's "decided yet?" is a short range of recent rows.
            models.Index(fields=["created_at"], name="alert_undecided", condition=models.Q(paging="")),
        ]

    def __str__(self) -> str:
        return f"{self.check_name} on {self.host or '—'} at {self.fired_at:%Y-%m-%d %H:%M}"

    def classify(self, *, category: Category | None, note: str, woke_me_up: bool, by) -> None:
        self.category = category
        self.note = note
        self.woke_me_up = woke_me_up
        self.classified_by = by if category else None
        self.classified_at = timezone.now() if category else None

    @property
    def during_maintenance(self) -> bool:
        return self.paging == PagingDecision.MAINTENANCE

    @property
    def is_firing(self) -> bool:
        return self.resolved_at is None and self.state.lower() not in ("resolved", "ok", "up")


def default_paging_rules() -> list[dict[str, object]]:
    return [dict(rule) for rule in paging_rules.DEFAULT_RULES]


class PagingPolicy(models.Model):
    """Which of a team's incoming alerts page and which are only recorded (alerts_review.paging_rules)."""

    team = models.OneToOneField("morgue.Team", on_delete=models.CASCADE, related_name="paging_policy")
    rules = models.JSONField(
        default=default_paging_rules,
        help_text='In order, first match wins: [{"match": ["severity=critical"], "action": "page"}, …]. '
        "No match: recorded.",
    )
    grouping_window_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Alerts of the same check this soon after a page opened attach to it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "paging policies"

    def __str__(self) -> str:
        return f"{self.team} paging policy"

    def parsed_rules(self) -> list[paging_rules.Rule]:
        return paging_rules.parse_rules(self.rules)

    @property
    def grouping_window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.grouping_window_minutes)


class MaintenanceWindowQuerySet(models.QuerySet["MaintenanceWindow"]):
    def covering(self, at: dt.datetime) -> Self:
        """Windows in force at an instant: starts_at <= at < ends_at."""
        return self.filter(starts_at__lte=at, ends_at__gt=at)


class MaintenanceWindow(models.Model):
    """A planned span when a team's alerts on some checks are stored but never page."""

    team = models.ForeignKey("morgue.Team", on_delete=models.CASCADE, related_name="maintenance_windows")
    check_pattern = models.CharField(
        max_length=200, default="*", help_text="Shell-style pattern on the check name; * for every check."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="maintenance_window_order"
            ),
        ]
        indexes = [models.Index(fields=["team", "ends_at"], name="maintenance_team_ends")]

    def __str__(self) -> str:
        return f"{self.team} {self.check_pattern} {self.starts_at:%Y-%m-%d %H:%M}"

    def covers(self, *, check: str, at: dt.datetime) -> bool:
        return self.starts_at <= at < self.ends_at and paging_rules.check_matches(self.check_pattern, check)


class Heartbeat(models.Model):
    """An alert a source sends all the time (Alertmanager's Watchdog); its silence pages the team."""

    alert_source = models.ForeignKey(AlertSource, on_delete=models.CASCADE, related_name="heartbeats")
    check_name = models.CharField("check", max_length=200, default="Watchdog")
    interval_minutes = models.PositiveIntegerField(default=5, help_text="How often it arrives.")
    grace_minutes = models.PositiveIntegerField(default=10, help_text="How late it may be before paging.")
    last_seen_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Watched for silence; off while the sender is being set up."
    )
    created_at = models.DateTimeField(default=timezone.now)
    page = models.ForeignKey(
        "oncall.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The open page saying monitoring is silent.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert_source", "check_name"], name="heartbeat_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.check_name} from {self.alert_source}"

    def silent_since(self, now: dt.datetime) -> dt.datetime | None:
        """When it was due and did not come, if it is now later than its grace; None while it beats."""
        last = self.last_seen_at or self.created_at
        due = last + dt.timedelta(minutes=self.interval_minutes)
        return due if now > due + dt.timedelta(minutes=self.grace_minutes) else None


class TruncatedAlerts(models.Model):
    """Alerts Alertmanager left out of one notification (its webhook's max_alerts), by its own count.

    They never reach Morgue, so the monthly report can only say how many there were.
    """

    alert_source = models.ForeignKey(
        AlertSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="truncations"
    )
    team = models.ForeignKey(
        "morgue.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="alert_truncations"
    )
    group_key = models.TextField(blank=True, help_text="Alertmanager's groupKey of the notification.")
    count = models.PositiveIntegerField(help_text="Alertmanager's truncatedAlerts.")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "truncated alerts"
        indexes = [models.Index(fields=["received_at"], name="alert_truncation_received")]

    def __str__(self) -> str:
        return f"{self.count} alerts left out at {self.received_at:%Y-%m-%d %H:%M}"


class AlertReview(models.Model):
    """The record of one team's monthly alerts review: notes and what was decided."""

    team = models.ForeignKey("morgue.Team", on_delete=models.CASCADE, related_name="alert_reviews")
    month = models.DateField(help_text="The first day of the month reviewed.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "team__name"]
        constraints = [models.UniqueConstraint(fields=["team", "month"], name="alert_review_unique_month")]

    def __str__(self) -> str:
        return f"{self.team} alerts review {self.month:%Y-%m}"


class Track(models.TextChoices):
    DEV = "dev", "Dev"
    OPS = "ops", "Ops"


class ReviewAction(models.Model):
    """A recommendation the reviewers chose to act on, for dev or ops to fix."""

    review = models.ForeignKey(AlertReview, on_delete=models.CASCADE, related_name="actions")
    check_name = models.CharField("check", max_length=200)
    reason = models.CharField(max_length=40, help_text="The recommendation's kind, e.g. threshold.")
    summary = models.CharField(max_length=300)
    track = models.CharField(max_length=3, choices=Track)
    # The work itself, tracked to done on the remediation board.
    remediation = models.OneToOneField(
        "incidents.RemediationItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_action",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "check_name", "reason"], name="alert_review_action_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.track}: {self.summary}"


# --- Counts kept by the database, for the monthly report -------------------------------
#
# The report over a month of a million alerts sums these small tables instead
# of grouping the alerts. Database triggers keep them (morgue.counters); they
# are never written by Django. Keys use 0 for "no team", "no category" and
# "nobody paged". Changing a spec needs a migration that uninstalls the old
# triggers and installs the new ones.
#
# The grains are chosen so that a month of counts is bounded whatever the
# number of alerts: days × checks × categories, and hours × people paged.
# (Quarter hours were too fine: a million alerts filled 822,000 rows.)
#
# On PostgreSQL the triggers append to the *Delta tables, which beat folds
# into the counts every minute (compact_alert_counts): concurrent senders
# never wait on each other's counts rows. Reads sum both tables.

QUARTERS_PER_DAY = 96
QUARTERS_PER_HOUR = 4


class _DayCounts(models.Model):
    day = models.IntegerField(help_text="Days since 1970-01-01 (UTC).")
    team_key = models.IntegerField(help_text="The team's id; 0 for none.")
    check_name = models.CharField(max_length=200)
    category_key = models.IntegerField(help_text="The category's id; 0 for unclassified.")
    total = models.IntegerField()
    out_of_hours = models.IntegerField()
    woke = models.IntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.check_name} on day {self.day}: {self.total}"


class AlertDayCount(_DayCounts):
    """Alerts per UTC day, team, check and category."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_key", "check_name", "category_key"], name="alert_day_count_keys"
            )
        ]


class AlertDayDelta(_DayCounts):
    """Changes to AlertDayCount not yet folded in: appended by the triggers, never updated."""

    class Meta:
        indexes = [models.Index(fields=["day"], name="alert_day_delta_day")]


class _HourCounts(models.Model):
    hour = models.IntegerField(help_text="Hours since the UNIX epoch.")
    team_key = models.IntegerField(help_text="The team's id; 0 for none.")
    paged_key = models.IntegerField(help_text="The paged person's id; 0 for nobody.")
    total = models.IntegerField()
    out_of_hours = models.IntegerField()
    woke = models.IntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"hour {self.hour}: {self.total}"


class AlertHourCount(_HourCounts):
    """Alerts per UTC hour, team and person paged."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "team_key", "paged_key"], name="alert_hour_count_keys")
        ]


class AlertHourDelta(_HourCounts):
    """Changes to AlertHourCount not yet folded in: appended by the triggers, never updated."""

    class Meta:
        indexes = [models.Index(fields=["hour"], name="alert_hour_delta_hour")]


class AlertMonthCount(models.Model):
    """AlertDayCount summed per UTC calendar month: a month's report reads checks, not checks × days."""

    month = models.IntegerField(help_text="Year × 12 + month − 1 (UTC).")
    team_key = models.IntegerField(help_text="The team's id; 0 for none.")
    check_name = models.CharField(max_length=200)
    category_key = models.IntegerField(help_text="The category's id; 0 for unclassified.")
    total = models.IntegerField()
    out_of_hours = models.IntegerField()
    woke = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "team_key", "check_name", "category_key"], name="alert_month_count_keys"
            )
        ]

    def __str__(self) -> str:
        return f"{self.check_name} in month {self.month}: {self.total}"


class AlertMonthPagedCount(models.Model):
    """AlertHourCount summed per UTC calendar month: who was paged how often, without the hours."""

    month = models.IntegerField(help_text="Year × 12 + month − 1 (UTC).")
    team_key = models.IntegerField(help_text="The team's id; 0 for none.")
    paged_key = models.IntegerField(help_text="The paged person's id; 0 for nobody.")
    total = models.IntegerField()
    out_of_hours = models.IntegerField()
    woke = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "team_key", "paged_key"], name="alert_month_paged_keys")
        ]

    def __str__(self) -> str:
        return f"month {self.month}: {self.total}"


# A sender's test notification is stored but counts for nothing (Alert.objects.counted()).
_ALERT_MEASURES = {
    "total": "CASE WHEN {row}.is_test THEN 0 ELSE 1 END",
    "out_of_hours": "CASE WHEN {row}.out_of_hours AND NOT {row}.is_test THEN 1 ELSE 0 END",
    "woke": "CASE WHEN {row}.woke_me_up AND NOT {row}.is_test THEN 1 ELSE 0 END",
}
ALERT_DAY_COUNTS = Counts(
    name="alerts_review_day_counts",
    source="alerts_review_alert",
    table="alerts_review_alertdaycount",
    deltas="alerts_review_alertdaydelta",
    keys={
        "day": f"{{row}}.fired_quarter / {QUARTERS_PER_DAY}",
        "team_key": "COALESCE({row}.team_id, 0)",
        "check_name": "{row}.check_name",
        "category_key": "COALESCE({row}.category_id, 0)",
    },
    measures=_ALERT_MEASURES,
    age_key="day",
    age_seconds=QUARTERS_PER_DAY * 15 * 60,
)
ALERT_HOUR_COUNTS = Counts(
    name="alerts_review_hour_counts",
    source="alerts_review_alert",
    table="alerts_review_alerthourcount",
    deltas="alerts_review_alerthourdelta",
    keys={
        "hour": f"{{row}}.fired_quarter / {QUARTERS_PER_HOUR}",
        "team_key": "COALESCE({row}.team_id, 0)",
        "paged_key": "COALESCE({row}.paged_id, 0)",
    },
    measures=_ALERT_MEASURES,
    age_key="hour",
    age_seconds=QUARTERS_PER_HOUR * 15 * 60,
)
ALERT_COUNTS = (ALERT_DAY_COUNTS, ALERT_HOUR_COUNTS)

# Monthly rollups, kept by triggers on the day and hour counts themselves
# (not on the alerts): on PostgreSQL those tables change only when beat folds
# the deltas in (compact_alert_counts) or on a recount, so ingest pays nothing
# for them and a rollup always equals its counts table summed by month. The
# deltas not yet folded in are read by day or hour beside the rollup.
_SUMMED = {column: f"{{row}}.{column}" for column in _ALERT_MEASURES}
ALERT_MONTH_COUNTS = Counts(
    name="alerts_review_month_counts",
    source="alerts_review_alertdaycount",
    table="alerts_review_alertmonthcount",
    keys={
        "month": month_of_day_sql("{row}.day"),
        "team_key": "{row}.team_key",
        "check_name": "{row}.check_name",
        "category_key": "{row}.category_key",
    },
    measures=_SUMMED,
)
ALERT_MONTH_PAGED_COUNTS = Counts(
    name="alerts_review_month_paged_counts",
    source="alerts_review_alerthourcount",
    table="alerts_review_alertmonthpagedcount",
    keys={
        "month": month_of_day_sql("{row}.hour / 24"),
        "team_key": "{row}.team_key",
        "paged_key": "{row}.paged_key",
    },
    measures=_SUMMED,
)
ALERT_ROLLUPS = (ALERT_MONTH_COUNTS, ALERT_MONTH_PAGED_COUNTS)


class AlertsPruned(models.Model):
    """One row: alerts fired before `before` were pruned; the counts before it outlive them."""

    before = models.DateTimeField()
    pruned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "alerts pruned"

    def __str__(self) -> str:
        return f"alerts before {self.before:%Y-%m-%d} pruned"


def counts_floor(connection, tables=None) -> int | None:
    """Seconds since the epoch before which the alert counts outlive pruned alerts (None: nothing pruned)."""
    table = AlertsPruned._meta.db_table
    if tables is not None and table not in tables:
        return None
    value = AlertsPruned.objects.using(connection.alias).aggregate(before=models.Max("before"))["before"]
    if value is None:
        return None
    return int(value.timestamp())


class AlertSilence(models.Model):
    """A silence Morgue created in an Alertmanager when someone acknowledged the page of one of its alerts.

    One per (page, alert): a task run twice, or retried after a timeout,
    finds this row (and, without an id yet, the silence by its comment) and
    creates nothing more. Expired when the alert resolves or the page does.
    """

    page = models.ForeignKey("oncall.Page", on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="silences")
    alertmanager_url = models.URLField(max_length=500)
    silence_id = models.CharField(
        max_length=64, blank=True, help_text="Alertmanager's id; empty until created."
    )
    comment = models.CharField(max_length=500)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Its end as last sent to Alertmanager.")
    created_at = models.DateTimeField(default=timezone.now)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["page", "alert"], name="alert_silence_unique")]
        indexes = [models.Index(fields=["expired_at"], name="alert_silence_expired")]

    def __str__(self) -> str:
        return f"{self.silence_id or 'pending'} for {self.alert_id} in {self.alertmanager_url}"
