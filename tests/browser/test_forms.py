"""Every form, in a real browser: refused once, corrected where the error is shown, saved once.

A person types a bad value, sees the form again with what they typed and
the error, corrects it and submits; the page that follows opens (2xx, never
the 405 of a form's POST-only address), and exactly one row is new. The
walk reuses one signed-in page; the table of forms and their views is in
tests/morgue/test_form_submissions.py. Forms whose only input is a button
(link, acknowledge, answer a swap) have no bad value to type, and fields the
browser itself caps (the review notes' maxlength) cannot be sent too long;
those are refused and corrected in the client tests there.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts_review.models import Category, ReviewAction
from incidents.models import GraphSnapshot, Incident, RemediationItem, ReviewMeeting, TimelineEvent
from oncall.models import Level, Override, Page, Shift, Swap
from tests.factories import AlertFactory, IncidentFactory, ProfileFactory, make_rotation, responder
from tests.incidents.graph_server import PNG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAR_ROOM = "14:02 < jsmith> seeing elevated 500s on listings\n14:03 < akim> confirmed, rolling back"


@pytest.fixture(autouse=True)
def patient_expectations():
    # Two cores shared by several test runs.
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


def submit(page, button) -> int:
    """Press a submit button; the status of the page the browser ends on."""
    with page.expect_navigation() as navigation:
        button.click()
    return navigation.value.status


def refused_then_saved(page, form: str, bad: dict, good: dict, error: str, button="button[type=submit]"):
    """In the form `form`, fill `bad` and submit: the error, and what was typed, are shown.
    Fill `good` there and submit: the page that follows opens."""
    for field, value in bad.items():
        page.locator(form).locator(field).fill(value)
    assert submit(page, page.locator(form).locator(button).first) in (200, 400)
    expect(page.get_by_text(error).first).to_be_visible()
    for field, value in bad.items():
        expect(page.locator(form).locator(field)).to_have_value(value)
    for field, value in good.items():
        page.locator(form).locator(field).fill(value)
    status = submit(page, page.locator(form).locator(button).first)
    assert 200 <= status < 300, status


def local(at: dt.datetime) -> str:
    return timezone.localtime(at, dt.UTC).strftime("%Y-%m-%dT%H:%M")


def test_every_form_survives_a_refusal_and_saves_once(page, live_server, login):
    now = timezone.now()
    rotation = make_rotation(
        slug="ops-primary",
        people=("ana", "ben", "cy"),
        first_shift_date=timezone.localdate() - dt.timedelta(days=3),
        now=now,
        has_l2=False,
    )
    at = now + dt.timedelta(days=1)
    shift = Shift.objects.covering(at).get(rotation=rotation, level=Level.L1)
    me = shift.user
    me.is_staff = True
    me.save()
    ProfileFactory._meta.model.objects.filter(user=me).update(time_zone="UTC")
    other = next(member.user for member in rotation.members.all() if member.user != me)
    resolved = IncidentFactory(title="Resolved outage", status="resolved", resolved_at=now)
    # The migration's categories are gone after an earlier test's flush; this one is made again.
    threshold, _ = Category.objects.get_or_create(
        slug="threshold",
        defaults={"description": "No action taken: threshold needs adjustment", "kind": "not_actionable",
                  "hint": "threshold"},
    )  # fmt: skip
    for day in (1, 2, 3):
        fired = dt.datetime(2026, 10, day, 14, tzinfo=dt.UTC)
        AlertFactory(team=rotation.team, check_name="Disk", fired_at=fired, category=threshold)
    base = live_server.url
    login(me.username)

    # A new incident: the title left out.
    page.goto(f"{base}/incidents/new/")
    refused_then_saved(
        page,
        "form.incident-form",
        {"#id_title": "", "#id_tldr": "Checkout failing"},
        {
            "#id_title": "Checkout outage",
            "#id_impact_started_at": local(now - dt.timedelta(hours=2)),
            "#id_detected_at": local(now - dt.timedelta(hours=1)),
        },
        "This field is required.",
    )
    incident = Incident.objects.get(title="Checkout outage")
    assert incident.tldr == "Checkout failing"
    expect(page).to_have_url(f"{base}/incidents/{incident.pk}/")

    # Its edit: the title cleared, then given back.
    revisions = incident.revisions.count()
    page.goto(f"{base}/incidents/{incident.pk}/edit/")
    refused_then_saved(
        page, "form.incident-form", {"#id_title": ""}, {"#id_title": "Checkout down"},
        "This field is required.",
    )  # fmt: skip
    assert incident.revisions.count() == revisions + 1

    # A timeline event with a link no browser should follow.
    events = TimelineEvent.objects.filter(incident=incident).count()
    timeline = f"form[action='/incidents/{incident.pk}/timeline/']"
    refused_then_saved(
        page, timeline, {"#id_text": "Rolled back", "#id_link": "javascript:alert(1)"},
        {"#id_link": "https://deploys.example.com/42"}, "Enter a valid URL.",
    )  # fmt: skip
    assert TimelineEvent.objects.filter(incident=incident).count() == events + 1

    # A graph whose address cannot be fetched, then its image dropped instead.
    graph = page.locator("form.add-graph")
    graph.locator("#graph-url").fill("ftp://graphs.example.com/errors.png")
    assert submit(page, graph.locator("button[type=submit]")) == 400
    expect(page.get_by_text("Only http and https URLs can be fetched.")).to_be_visible()
    expect(page.locator("#graph-url")).to_have_value("ftp://graphs.example.com/errors.png")
    page.locator("#graph-url").fill("")
    with page.expect_navigation() as navigation:
        page.locator("#graph-image").set_input_files(
            {"name": "errors.png", "mimeType": "image/png", "buffer": PNG}
        )
    assert navigation.value.status == 200
    assert GraphSnapshot.objects.filter(incident=incident).count() == 1

    # A chat log nothing can be read from, corrected on its preview page, then imported.
    page.locator("#chatlog-text").fill("hello\nnothing to read here")
    assert submit(page, page.locator("form.chatlog button[value=preview]")) == 400
    expect(page.locator("#chatlog-text")).to_have_value("hello\nnothing to read here")
    page.locator("#chatlog-text").fill(WAR_ROOM)
    assert submit(page, page.locator("form.chatlog button[value=preview]")) == 200
    events = TimelineEvent.objects.filter(incident=incident).count()
    # Signed-in pages are never cached (no-store), so a second import is a second click, not "back".
    with page.expect_navigation():
        page.get_by_role("button", name="Import 2 lines").dblclick()
    assert TimelineEvent.objects.filter(incident=incident).count() == events + 2

    # A remediation item for nobody, corrected on its error page; then clicked twice.
    ops = "form[data-kind=ops]"
    page.locator(".remediation-column[data-kind=ops] summary").click()
    refused_then_saved(
        page, ops, {"input[name=title]": "Alert on error rate", "input[name=owner]": "nobdy"},
        {"input[name=owner]": other.username}, "No person has the username",
    )  # fmt: skip
    expect(page).to_have_url(f"{base}/incidents/{incident.pk}/")
    item = RemediationItem.objects.get(incident=incident)
    page.locator(".remediation-column[data-kind=dev] summary").click()
    dev = page.locator("form[data-kind=dev]")
    dev.locator("input[name=title]").fill("Feature-flag the checkout")
    dev.locator("input[name=owner]").fill(me.username)
    with page.expect_navigation():
        dev.locator("button[type=submit]").dblclick()
    assert RemediationItem.objects.filter(incident=incident, kind="dev").count() == 1

    # Won't do without a reason.
    status = f"#remediation-{item.pk} form.remediation-status"
    page.locator(status).locator("select[name=status]").select_option("wont-do")
    page.locator(status).locator("input[name=reason]").fill("")
    assert submit(page, page.locator(status).locator("button[type=submit]")) == 400
    expect(page.locator(status).locator("select[name=status]")).to_have_value("wont-do")
    page.locator(status).locator("input[name=reason]").fill("Covered by the new alert")
    assert submit(page, page.locator(status).locator("button[type=submit]")) == 200
    item.refresh_from_db()
    assert item.status == "wont-do"

    # The item's edit, refused for an unknown owner.
    page.locator(f"#remediation-{item.pk} details summary").click()
    refused_then_saved(
        page, f"form[action='/remediations/{item.pk}/edit/']",
        {"input[name=owner]": "ghost"}, {"input[name=owner]": me.username}, "No person has the username",
    )  # fmt: skip
    item.refresh_from_db()
    assert item.owner == me

    # The review meeting of a resolved incident, first set in the past.
    page.goto(f"{base}/incidents/{resolved.pk}/review/")
    refused_then_saved(
        page, "main form.stacked", {"#id_starts_at": local(now - dt.timedelta(days=1))},
        {"#id_starts_at": local(now + dt.timedelta(days=7))}, "The review meeting must start in the future.",
    )  # fmt: skip
    assert ReviewMeeting.objects.filter(incident=resolved).count() == 1

    # An override for nobody, and a swap that ends before it starts.
    page.goto(f"{base}/oncall/rotations/ops-primary/")
    starts = (now + dt.timedelta(days=3)).replace(hour=9, minute=0)
    ends = starts + dt.timedelta(hours=2)
    refused_then_saved(
        page, "form[data-form=override]",
        {"#id_user": "ghost", "#id_starts_at": local(starts), "#id_ends_at": local(ends)},
        {"#id_user": other.username}, "There is no person with username ghost.",
    )  # fmt: skip
    assert Override.objects.count() == 1
    window_start = max(shift.starts_at, at)
    window_end = min(shift.ends_at, window_start + dt.timedelta(hours=2))
    refused_then_saved(
        page, "form[data-form=swap]",
        {"#id_swap-taken_by": other.username, "#id_swap-starts_at": local(window_end),
         "#id_swap-ends_at": local(window_start)},
        {"#id_swap-starts_at": local(window_start), "#id_swap-ends_at": local(window_end)},
        "The window must end after it starts.",
    )  # fmt: skip
    assert Swap.objects.count() == 1

    # Paging a team with a message too long to send.
    page.goto(f"{base}/oncall/page/")
    refused_then_saved(
        page, "form[data-team=ops]", {"textarea[name=message]": "x" * 2001},
        {"textarea[name=message]": "Card auths failing"}, "at most 2000 characters",
    )  # fmt: skip
    assert Page.objects.count() == 1

    # Acting on a recommendation of October's alerts review, for an owner who does not exist.
    page.goto(f"{base}/alerts/reports/2026-10/?team=ops")
    act = "form[data-recommendation='Disk:threshold']"
    refused_then_saved(
        page, act, {"input[name=owner]": "nobdy"}, {"input[name=owner]": other.username},
        "Nobody active has the username", button="button[value=ops]",
    )  # fmt: skip
    assert ReviewAction.objects.count() == 1

    # The profile, with an address that is not one.
    page.goto(f"{base}/profile/")
    profile = page.locator("main form.stacked")
    profile.locator("#id_email").fill("ana@example")
    assert submit(page, profile.locator("button[type=submit]")) in (200, 400)
    expect(page.locator("main form.stacked .error, main form.stacked .errorlist").first).to_be_visible()
    expect(page.locator("#id_email")).to_have_value("ana@example")
    page.locator("#id_email").fill("ana@example.com")
    assert submit(page, page.locator("main form.stacked button[type=submit]")) == 200
    me.refresh_from_db()
    assert me.email == "ana@example.com"


def test_delete_asks_first_and_undo_brings_the_incident_back(page, live_server, login):
    from tests.factories import UserFactory

    ProfileFactory(user=UserFactory(username="sam", is_staff=True))
    incident = IncidentFactory(title="Checkout outage")
    login("sam")

    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete “Checkout outage”?")).to_be_visible()
    incident.refresh_from_db()
    assert not incident.is_deleted

    assert submit(page, page.get_by_role("button", name="Delete “Checkout outage”")) == 200
    expect(page.get_by_role("heading", name="“Checkout outage” is deleted")).to_be_visible()
    incident.refresh_from_db()
    assert incident.is_deleted

    assert submit(page, page.get_by_role("button", name="Undo")) == 200
    expect(page).to_have_url(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.get_by_text("is restored")).to_be_visible()
    incident.refresh_from_db()
    assert not incident.is_deleted


def test_a_sent_form_disables_its_button_until_the_next_page(page, live_server, login):
    from tests.factories import UserFactory

    responder(ProfileFactory(user=UserFactory(username="robin")).user)
    incident = IncidentFactory()
    login("robin")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    held, posts = [], []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    # The answer is held back, as on a slow network; meanwhile the page notes whether the
    # button is disabled and tries to send the form again (kept across the navigation).
    page.route("**/timeline/", lambda route: held.append(route))
    page.evaluate("""() => document.addEventListener("submit", (event) => {
        const form = event.target;
        if (sessionStorage.getItem("disabled") !== null) { return; }
        setTimeout(() => {
            sessionStorage.setItem("disabled", String(form.querySelector("button").disabled));
            form.requestSubmit();
        }, 50);
    })""")
    form = page.locator(f"form[action='/incidents/{incident.pk}/timeline/']")
    form.locator("#id_text").fill("Rolled back")
    form.get_by_role("button", name="Add event").click(no_wait_after=True)
    page.wait_for_timeout(500)
    with page.expect_navigation():
        for route in held:
            route.continue_()

    assert page.evaluate("() => sessionStorage.getItem('disabled')") == "true"
    assert len(posts) == 1
    assert TimelineEvent.objects.filter(incident=incident).count() == 1
