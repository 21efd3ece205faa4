"""Roles per team: what each may do, setting a member's role, directory groups → roles, the migration."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from morgue import permissions
from morgue.models import AuditEntry, TeamMembership
from morgue.roles import parse_group_roles, team_roles_for
from morgue.services import set_member_role, sign_in_from_directory
from tests.factories import IncidentFactory, ProfileFactory, TeamFactory, UserFactory, member_of

# --- The rules ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_role_counts_in_its_own_team_and_outside_it_everyone_is_a_viewer():
    ops, payments = TeamFactory(slug="ops"), TeamFactory(slug="payments")
    responder = member_of(ops, "responder")
    assert permissions.allowed(responder, "edit", IncidentFactory(team=ops))
    assert not permissions.allowed(responder, "edit", IncidentFactory(team=payments))
    assert permissions.allowed(responder, "view", IncidentFactory(team=payments))
    # An unowned incident is any responder's.
    assert permissions.allowed(responder, "edit", IncidentFactory(team=None))
    assert not permissions.allowed(member_of(ops, "viewer"), "edit", IncidentFactory(team=None))


@pytest.mark.django_db
def test_managers_run_their_team_and_staff_everything():
    ops = TeamFactory(slug="ops")
    responder, manager = member_of(ops, "responder"), member_of(ops, "manager")
    staff = ProfileFactory(user=UserFactory(is_staff=True)).user
    assert not permissions.allowed(responder, "edit", ops, kind="pagingpolicy")
    assert permissions.allowed(manager, "edit", ops, kind="pagingpolicy")
    assert not permissions.allowed(manager, "delete", IncidentFactory(team=ops))
    assert permissions.allowed(staff, "delete", IncidentFactory(team=ops))
    assert permissions.allowed(staff, "edit", TeamFactory(slug="elsewhere"), kind="rotation")


@pytest.mark.django_db
def test_the_person_paged_may_classify_their_alert_whatever_their_role():
    from tests.factories import AlertFactory

    paged = ProfileFactory().user
    alert = AlertFactory(paged=paged)
    assert permissions.allowed(paged, "classify", alert)
    assert not permissions.allowed(ProfileFactory().user, "classify", alert)


@pytest.mark.django_db
def test_a_refusal_names_the_role_and_the_team():
    ops = TeamFactory(slug="ops", name="Ops")
    with pytest.raises(permissions.PermissionDenied) as refused:
        permissions.require(member_of(ops, "responder"), "edit", ops, kind="rotation")
    assert refused.value.message == "Only a team manager of Ops may change its rotations."
    assert refused.value.status_code == 403


def test_every_rule_has_a_sentence():
    for verb, kind in permissions.RULES:
        assert permissions.sentence(verb, kind, None).startswith("Only ")


@pytest.mark.django_db
def test_a_page_answers_a_refusal_with_403_and_its_sentence(client):
    ops = TeamFactory(slug="ops", name="Ops")
    incident = IncidentFactory(team=ops)
    client.force_login(member_of(TeamFactory(slug="db"), "responder"))
    response = client.get(f"/incidents/{incident.pk}/edit/")
    assert response.status_code == 403
    assert "Only a responder of Ops may edit its incidents" in response.content.decode()
    api = client.patch(
        f"/api/v1/incidents/{incident.pk}/", {"version": 1, "title": "x"}, content_type="application/json"
    )
    assert api.status_code == 403
    assert api.json()["detail"].startswith("Only a responder of Ops may edit")


# --- Members and their roles ------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_member_makes_a_responder():
    ops = TeamFactory(slug="ops")
    person = ProfileFactory().user
    ops.members.add(person)
    assert TeamMembership.objects.get(team=ops, user=person).role == "responder"


@pytest.mark.django_db
def test_a_manager_sets_a_members_role_and_it_is_recorded():
    ops = TeamFactory(slug="ops")
    manager, person = member_of(ops, "manager"), member_of(ops, "responder")
    set_member_role(team=ops, user=person, role="manager", by=manager)
    assert TeamMembership.objects.get(team=ops, user=person).role == "manager"
    entry = AuditEntry.objects.filter(kind="morgue.teammembership").latest("id")
    assert entry.changes["role"] == ["responder", "manager"]
    with pytest.raises(permissions.PermissionDenied):
        set_member_role(team=ops, user=manager, role="viewer", by=member_of(ops, "responder"))


@pytest.mark.django_db
def test_the_team_members_api_lists_sets_and_removes_roles(client):
    ops = TeamFactory(slug="ops", name="Ops")
    manager = member_of(ops, "manager", user=ProfileFactory(user=UserFactory(username="max")).user)
    newcomer = ProfileFactory(user=UserFactory(username="nia")).user
    client.force_login(manager)
    url = "/api/v1/teams/ops/members/"

    answer = client.post(url, {"username": "nia", "role": "responder"}, content_type="application/json")
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"username": "nia", "role": "responder", "from_directory": False}
    assert [row["username"] for row in client.get(url).json()] == ["max", "nia"]
    bad = client.post(url, {"username": "nia", "role": "owner"}, content_type="application/json")
    assert bad.status_code == 400 and "role" in bad.json()["errors"]
    assert client.delete(f"{url}?username=nia").status_code == 204
    assert not TeamMembership.objects.filter(user=newcomer).exists()

    client.force_login(member_of(ops, "responder"))
    refused = client.post(url, {"username": "nia", "role": "manager"}, content_type="application/json")
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == "Only a team manager of Ops may change who is in the team and their roles."
    )


# --- Directory groups → roles -------------------------------------------------------------------


def test_the_group_role_map_is_read_from_one_line():
    assert parse_group_roles("sre-leads=ops:manager, sre=ops:responder,sre=db:viewer") == {
        "sre-leads": {"ops": "manager"},
        "sre": {"ops": "responder", "db": "viewer"},
    }
    assert team_roles_for(
        {"sre", "sre-leads"}, parse_group_roles("sre-leads=ops:manager,sre=ops:responder")
    ) == {"ops": "manager"}
    assert parse_group_roles("") == {}


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("sre", "'sre' is not group=team-slug:role"),
        ("sre=ops:owner", "names the role 'owner'"),
        ("sre=ops:admin", "admin is staff status"),
    ],
)
def test_a_bad_group_role_map_is_refused_with_a_sentence(text, sentence):
    with pytest.raises(ValueError, match=sentence):
        parse_group_roles(text)


@pytest.mark.django_db
def test_signing_in_gives_and_takes_the_roles_the_directory_groups_map_to(settings):
    settings.MORGUE_GROUP_ROLES = parse_group_roles(
        "sre-leads=ops:manager,sre=ops:responder,dba=db:responder"
    )
    ops, db, payments = TeamFactory(slug="ops"), TeamFactory(slug="db"), TeamFactory(slug="payments")
    profile = sign_in_from_directory(
        user=None, username="kim", email="kim@example.com", display_name="Kim", time_zone=None,
        groups=["sre", "sre-leads", "dba"],
    )  # fmt: skip
    user = profile.user
    member_of(payments, "manager", user=user)  # given by hand: the directory leaves it alone
    roles = dict(TeamMembership.objects.filter(user=user).values_list("team__slug", "role"))
    assert roles == {"ops": "manager", "db": "responder", "payments": "manager"}
    assert permissions.allowed(user, "edit", ops, kind="rotation")

    sign_in_from_directory(
        user=user, username="kim", email="kim@example.com", display_name="Kim", time_zone=None, groups=["sre"]
    )
    roles = dict(TeamMembership.objects.filter(user=user).values_list("team__slug", "role"))
    assert roles == {"ops": "responder", "payments": "manager"}
    user.refresh_from_db()
    assert not permissions.allowed(user, "edit", ops, kind="rotation")
    assert not TeamMembership.objects.filter(team=db, user=user).exists()


# --- The migration --------------------------------------------------------------------------------

BEFORE = [("morgue", "0009_audit_entries")]
AFTER = [("morgue", "0010_team_roles")]


@pytest.mark.django_db(transaction=True)
def test_members_from_before_roles_become_responders():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    team = apps.get_model("morgue", "Team").objects.create(name="Ops", slug="ops")
    person = apps.get_model("auth", "User").objects.create(username="old-timer")
    team.members.add(person)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    membership = executor.loader.project_state(AFTER).apps.get_model("morgue", "TeamMembership")
    assert membership.objects.get(team_id=team.pk, user_id=person.pk).role == "responder"

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_the_incident_page_offers_editing_only_to_who_may_edit(client):
    ops = TeamFactory(slug="ops", name="Ops")
    incident = IncidentFactory(team=ops)
    client.force_login(member_of(ops, "viewer"))
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Edit postmortem" not in page and 'aria-label="Add a timeline event"' not in page
    assert "Only a responder of Ops may add to the timeline and edit the postmortem." in page
    client.force_login(member_of(ops, "responder"))
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Edit postmortem" in page and 'aria-label="Add a timeline event"' in page
