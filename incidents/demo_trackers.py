"""Demo tracker: the Payments team's items become GitHub issues, and a few already have theirs.

Runs after incidents.demo_remediation; idempotent (a team that already has a
tracker is left alone). The issues are only records: nothing is called.
"""

from django.utils import timezone

from incidents.models import RemediationItem, TeamTracker, TrackerIssue, TrackerIssueStatus, TrackerKind
from incidents.models.remediation import UNFINISHED
from incidents.models.tracker import default_base_url, marker_for
from morgue.models import Team

REPOSITORY = "acme/payments"
LINKED = 3


def seed(stdout=None) -> None:
    team = Team.objects.filter(slug="payments").first()
    if team is None or TeamTracker.objects.filter(team=team).exists():
        if stdout is not None:
            stdout.write("trackers: nothing to add")
        return
    TeamTracker.objects.create(team=team, kind=TrackerKind.GITHUB, project=REPOSITORY)
    items = list(
        RemediationItem.objects.filter(team=team, tracker_issue__isnull=True, incident__isnull=False)
        .exclude(ticket_url__contains="jira")
        .order_by("created_at", "id")[:LINKED]
    )
    now = timezone.now()
    for number, item in enumerate(items, start=101):
        url = f"https://github.com/{REPOSITORY}/issues/{number}"
        TrackerIssue.objects.create(
            item=item,
            kind=TrackerKind.GITHUB,
            base_url=default_base_url(TrackerKind.GITHUB),
            project=REPOSITORY,
            marker=marker_for(item.pk),
            status=TrackerIssueStatus.LINKED,
            remote_id=str(900000 + number),
            key=f"{REPOSITORY}#{number}",
            url=url,
            number=str(number),
            remote_state="open" if item.status in UNFINISHED else "closed",
            attempts=1,
            requested_at=item.created_at,
            linked_at=item.created_at,
            synced_at=now,
        )
        RemediationItem.objects.filter(pk=item.pk).update(ticket_url=url)
    if stdout is not None:
        stdout.write(f"trackers: the Payments team files issues in GitHub {REPOSITORY}; {len(items)} linked")
