"""Running an incident in a browser: declare, roles and a handover, status updates, following, a template."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from incidents.models import Incident, PostmortemTemplate, RoleAssignment, StatusUpdate
from incidents.services import running as services
from incidents.tasks.running import deliver_status_update
from tests.factories import ProfileFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def patient_expectations():
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def people():
    # A transactional test starts from an empty database: the built-in roles come back first.
    for slug in services.BUILT_IN_ROLES:
        services.role_kind(slug)
    team = TeamFactory(slug="payments", name="Payments", email="payments@example.com")
    lena = ProfileFactory(
        user=UserFactory(username="lena", email="lena@example.com"), display_name="Lena Ortiz"
    ).user
    omar = ProfileFactory(
        user=UserFactory(username="omar", email="omar@example.com"), display_name="Omar Haddad"
    ).user
    team.members.add(lena, omar)
    return team, lena, omar


def test_declare_from_home_hand_roles_over_and_post_two_updates_to_followers(
    page, live_server, login, people
):
    _team, _lena, omar = people
    login("lena")
    card = page.locator("form[aria-label='Declare an incident']")
    card.locator("#id_title").fill("Card payments failing")
    card.locator("#id_severity").select_option("2")
    card.locator("#id_team").select_option("payments")
    card.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Card payments failing")
    incident = Incident.objects.get()
    expect(page.locator("#roles")).to_contain_text("Lena Ortiz")

    # Omar takes communications; the lead is handed over to him and back is on the timeline.
    roles = page.locator("form[aria-label='Assign a role']")
    roles.locator("#id_role").select_option("communications")
    roles.locator("#id_user").fill("omar")
    roles.locator("button[type=submit]").click()
    expect(page.locator("#roles")).to_contain_text("Omar Haddad")
    roles = page.locator("form[aria-label='Assign a role']")
    roles.locator("#id_role").select_option("lead")
    roles.locator("#id_user").fill("omar")
    roles.locator("button[type=submit]").click()
    expect(page.locator("#timeline table")).to_contain_text(
        "Incident lead handed over from Lena Ortiz to Omar Haddad"
    )
    assert RoleAssignment.objects.current().get(incident=incident, role__slug="lead").user == omar

    # Two status updates; each reaches the followers (Lena and the Payments team) once.
    for affected, doing in [("Card payments in the EU", "Rolling back"), ("Nothing any more", "Watching")]:
        form = page.locator("form[aria-label='Post a status update']")
        form.locator("#id_affected").fill(affected)
        form.locator("#id_doing").fill(doing)
        form.locator("button[type=submit]").click()
        expect(page.locator("#status-updates")).to_contain_text(doing)
    for update in StatusUpdate.objects.all():
        deliver_status_update(update.pk)
        deliver_status_update(update.pk)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "lena@example.com",
        "lena@example.com",
        "payments@example.com",
        "payments@example.com",
    ]
    expect(page.locator("main")).to_contain_text("Status page updated")

    # Lena stops following; she no longer leads, so her home page says nothing about leading.
    page.click("text=Unfollow")
    expect(page.locator("#status-updates")).to_contain_text("Follow")
    page.goto(f"{live_server.url}/")
    expect(page.locator("main")).not_to_contain_text("You lead")


def test_a_template_defined_in_the_admin_shapes_the_next_postmortem(page, live_server, login, people):
    team, _lena, _ = people
    ProfileFactory(user=UserFactory(username="sam", is_staff=True, is_superuser=True))
    login("sam")
    page.goto(f"{live_server.url}/admin/incidents/postmortemtemplate/add/")
    page.fill("#id_name", "Payments, critical")
    page.fill("#id_severity", "1")
    page.select_option("#id_team", str(team.pk))
    page.fill(
        "#id_sections",
        '[{"section": "what_happened", "prompt": "Which card networks failed, minute by minute?"}]',
    )
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert PostmortemTemplate.objects.get().team == team

    page.goto(f"{live_server.url}/")
    card = page.locator("form[aria-label='Declare an incident']")
    card.locator("#id_title").fill("Visa declines everything")
    card.locator("#id_severity").select_option("1")
    card.locator("#id_team").select_option("payments")
    card.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Which card networks failed, minute by minute?")
    expect(page.locator("main")).not_to_contain_text("Where did we get lucky?")
