"""The demo: incidents with roles (one handed over), status updates, followers, templates, a public page."""

import pytest

from incidents.models import PostmortemTemplate, RoleAssignment, StatusUpdate, Subscription, TimelineEvent


@pytest.mark.django_db
def test_the_demo_runs_incidents_with_roles_updates_and_a_public_page(demo):
    assert RoleAssignment.objects.filter(role__slug="lead").exists()
    assert RoleAssignment.objects.filter(role__slug="communications").exists()
    assert RoleAssignment.objects.filter(ended_at__isnull=False).exists()
    assert StatusUpdate.objects.count() >= 4
    assert Subscription.objects.filter(team__isnull=False).exists()
    assert TimelineEvent.objects.filter(starred=True).exists()
    assert PostmortemTemplate.objects.count() == 2
    public = StatusUpdate.objects.filter(incident__is_public=True).first()
    assert public is not None and len(public.incident.public_token) >= 32
    # Every current holder holds a role once: the demo keeps the one-holder rule.
    for assignment in RoleAssignment.objects.current():
        assert (
            not RoleAssignment.objects.current()
            .filter(incident=assignment.incident, role=assignment.role)
            .exclude(pk=assignment.pk)
            .exists()
        )
