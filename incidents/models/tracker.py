"""Remediation items followed up in the team's own tracker (Jira, GitHub, GitLab).

A team names its tracker (`TeamTracker`: kind, address, project); the
credentials come from the environment only (incidents/trackers.py). An item's
issue is one `TrackerIssue` row, made before the tracker is called: the row is
the claim that makes creation happen once, and what a tracker's webhook is
matched against.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class TrackerKind(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    JIRA = "jira", "Jira Cloud"
    JIRA_SERVER = "jira-server", "Jira Server / Data Center"


# Where each tracker's address comes from when a team gives none (settings, from the environment).
DEFAULT_URL_SETTING = {
    TrackerKind.GITHUB: "GITHUB_API_URL",
    TrackerKind.GITLAB: "GITLAB_URL",
    TrackerKind.JIRA: "JIRA_URL",
    TrackerKind.JIRA_SERVER: "JIRA_URL",
}

# What `project` holds, per kind, for the forms and the sentences refusing one.
PROJECT_HELP = {
    TrackerKind.GITHUB: "the repository as owner/name",
    TrackerKind.GITLAB: "the project's id or its path (group/project)",
    TrackerKind.JIRA: "the project key, such as OPS",
    TrackerKind.JIRA_SERVER: "the project key, such as OPS",
}


def default_base_url(kind: str) -> str:
    return str(getattr(settings, DEFAULT_URL_SETTING[TrackerKind(kind)], "") or "").rstrip("/")


def check_project(kind: str, project: str) -> None:
    """Refuse a project that cannot name one in this kind of tracker, saying what it should be."""
    project = project.strip()
    shape = PROJECT_HELP[TrackerKind(kind)]
    if not project:
        raise ValidationError({"project": [f"Give {shape}."]})
    if kind == TrackerKind.GITHUB and (
        project.count("/") != 1 or project.startswith("/") or project.endswith("/")
    ):
        raise ValidationError({"project": [f"“{project}” is not a GitHub repository; give {shape}."]})
    if kind in (TrackerKind.JIRA, TrackerKind.JIRA_SERVER) and not project.replace("_", "").isalnum():
        raise ValidationError({"project": [f"“{project}” is not a Jira project key; give {shape}."]})


class TeamTracker(models.Model):
    """Where a team's remediation items become issues."""

    team = models.OneToOneField("morgue.Team", on_delete=models.CASCADE, related_name="tracker")
    kind = models.CharField(max_length=12, choices=TrackerKind)
    base_url = models.URLField(
        "address",
        max_length=300,
        blank=True,
        help_text=(
            "The tracker's API address (https://api.github.com, https://gitlab.com, "
            "https://example.atlassian.net); empty for the one configured in the environment."
        ),
    )
    project = models.CharField(
        max_length=200, help_text="GitHub: owner/repository. GitLab: project id or path. Jira: project key."
    )
    issue_type = models.CharField(
        max_length=50, default="Task", help_text="Jira only: the issue type to create."
    )
    create_automatically = models.BooleanField(
        default=False, help_text="Create the issue as soon as a remediation item is written for this team."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=TrackerKind.values), name="team_tracker_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.project}"

    def clean(self) -> None:
        if self.kind in TrackerKind.values:
            check_project(self.kind, self.project)
            self.project = self.project.strip()
            if not self.base_url and not default_base_url(self.kind):
                raise ValidationError(
                    {
                        "base_url": [
                            f"Give the address: no {DEFAULT_URL_SETTING[TrackerKind(self.kind)]} is set."
                        ]
                    }
                )


class TrackerIssueStatus(models.TextChoices):
    # Claimed: the issue is being (or is to be) created; a retry looks for it by its marker first.
    PENDING = "pending", "Being created"
    LINKED = "linked", "Linked"
    # The tracker refused (a wrong project, a token without rights): asking again retries.
    FAILED = "failed", "Could not be created"


class RemoteState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class TrackerIssueQuerySet(models.QuerySet["TrackerIssue"]):
    def claimable(self, now) -> "TrackerIssueQuerySet":
        """Issues still to create whose last claim (if any) has lapsed."""
        return self.filter(status=TrackerIssueStatus.PENDING).filter(
            models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now)
        )


def marker_for(item_id: int) -> str:
    """The label put on an item's issue, by which a retry finds an issue an earlier attempt made."""
    return f"morgue-item-{item_id}"


class TrackerIssue(models.Model):
    """A remediation item's issue in a tracker: being created, linked, or refused."""

    item = models.OneToOneField(
        "incidents.RemediationItem", on_delete=models.CASCADE, related_name="tracker_issue"
    )
    # Copied from the team's tracker (or the request) when asked for: the issue stays
    # where it was made when the team later moves to another tracker.
    kind = models.CharField(max_length=12, choices=TrackerKind)
    base_url = models.URLField(max_length=300)
    project = models.CharField(max_length=200)
    issue_type = models.CharField(max_length=50, blank=True)
    marker = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=TrackerIssueStatus, default=TrackerIssueStatus.PENDING)
    # The tracker's own id of the issue (GitHub's and GitLab's `id`, Jira's `id`): what webhooks carry.
    remote_id = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=200, blank=True, help_text="owner/repo#12, group/project#5, OPS-12")
    url = models.URLField(max_length=500, blank=True)
    # Internal numbers needed to change the issue: GitHub's `number`, GitLab's `iid`, Jira's key.
    number = models.CharField(max_length=64, blank=True)
    remote_state = models.CharField(max_length=10, choices=RemoteState, blank=True)
    # When the tracker last changed the issue, as its webhook said: older deliveries are ignored.
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    linked_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = TrackerIssueQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "remote_id"], name="tracker_issue_remote"),
            models.Index(fields=["status", "claimed_until"], name="tracker_issue_pending"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "base_url", "remote_id"],
                condition=~models.Q(remote_id=""),
                name="tracker_issue_once_per_remote",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=TrackerIssueStatus.LINKED) | ~models.Q(remote_id=""),
                name="tracker_issue_linked_has_id",
            ),
        ]

    def __str__(self) -> str:
        return self.key or f"{self.get_kind_display()} issue for item {self.item_id}"

    @property
    def is_linked(self) -> bool:
        return self.status == TrackerIssueStatus.LINKED
