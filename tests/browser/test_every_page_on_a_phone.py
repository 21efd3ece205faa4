"""Every HTML page of Morgue, on a 390 px phone, in the light and the dark theme.

The list of pages comes from the URLconf (django.urls.get_resolver), so a new
page cannot be forgotten: each route is either opened here, with real demo
objects in its parameters, or listed in SKIPPED with the reason. A route that
is neither fails the test.

On each page: no sideways scroll (document.documentElement.scrollWidth <=
clientWidth), no console error, no static file answered with an error, and
readable text in both themes (contrast of at least 3:1 against what is behind it).
"""

import io
import pprint
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from alerts_review.models import Alert
from incidents.models import GraphSnapshot, Incident, RemediationItem, Status
from incidents.services.incident import delete_incident
from morgue.models import Team
from oncall.models import Page, PageStatus, PageStep, Rotation, Shift
from oncall.services.notifications import acknowledge_token
from tests.browser.conftest import REDOC_LOGO

PHONE = {"width": 390, "height": 844}


@dataclass
class Demo:
    """The demo objects whose ids fill the routes' parameters."""

    incident: Incident
    reviewed: Incident
    deleted: Incident
    remediation: RemediationItem
    rotation: Rotation
    team: Team
    open_page: Page
    exhausted_page: Page
    alert_shift: Shift
    person: User
    token: str


Build = Callable[[Demo], str]

# Route (as the URLconf spells it) -> the address opened for it.
PAGES: dict[str, Build] = {
    "": lambda demo: "/",
    "profile/": lambda demo: "/profile/",
    "api/docs/": lambda demo: "/api/docs/",
    "api/redoc/": lambda demo: "/api/redoc/",
    "reports/incidents/": lambda demo: "/reports/incidents/",
    "incidents/": lambda demo: "/incidents/",
    "incidents/new/": lambda demo: "/incidents/new/",
    "incidents/review-queue/": lambda demo: "/incidents/review-queue/",
    "incidents/<int:pk>/": lambda demo: f"/incidents/{demo.incident.pk}/",
    "incidents/<int:pk>/edit/": lambda demo: f"/incidents/{demo.incident.pk}/edit/",
    "incidents/<int:pk>/history/": lambda demo: f"/incidents/{demo.reviewed.pk}/history/",
    "incidents/<int:pk>/review/": lambda demo: f"/incidents/{demo.incident.pk}/review/",
    "incidents/<int:pk>/delete/": lambda demo: f"/incidents/{demo.incident.pk}/delete/",
    "incidents/<int:pk>/deleted/": lambda demo: f"/incidents/{demo.deleted.pk}/deleted/",
    "deploys/": lambda demo: "/deploys/",
    "incidents/<int:incident_id>/evidence/graphs/": lambda demo: (
        f"/incidents/{demo.incident.pk}/evidence/graphs/"
    ),
    "incidents/<int:incident_id>/evidence/chatlog/": lambda demo: (
        f"/incidents/{demo.incident.pk}/evidence/chatlog/"
    ),
    "remediations/": lambda demo: "/remediations/",
    "remediations/incident/<int:incident_id>/": lambda demo: (
        f"/remediations/incident/{demo.remediation.incident_id}/"
    ),
    "remediations/incident/<int:incident_id>/add/": lambda demo: (
        f"/remediations/incident/{demo.remediation.incident_id}/add/"
    ),
    "remediations/<int:item_id>/edit/": lambda demo: f"/remediations/{demo.remediation.pk}/edit/",
    "oncall/": lambda demo: "/oncall/",
    "oncall/page/": lambda demo: "/oncall/page/",
    "oncall/pages/<int:pk>/": lambda demo: f"/oncall/pages/{demo.exhausted_page.pk}/",
    "oncall/ack/<str:token>/": lambda demo: f"/oncall/ack/{demo.token}/",
    "oncall/fairness/": lambda demo: "/oncall/fairness/",
    "oncall/rotations/<slug:slug>/": lambda demo: f"/oncall/rotations/{demo.rotation.slug}/",
    "oncall/rotations/<slug:slug>/schedule/": lambda demo: (
        f"/oncall/rotations/{demo.rotation.slug}/schedule/"
    ),
    "alerts/": lambda demo: "/alerts/",
    "alerts/shifts/<int:shift_id>/": lambda demo: f"/alerts/shifts/{demo.alert_shift.pk}/",
    "alerts/reports/<str:month>/": lambda demo: f"/alerts/reports/{_last_month()}/?team={demo.team.slug}",
    "alerts/paging/": lambda demo: "/alerts/paging/",
    "alerts/paging/<slug:slug>/": lambda demo: f"/alerts/paging/{demo.team.slug}/",
    "alerts/import-oncall/": lambda demo: "/alerts/import-oncall/",
    "audit/": lambda demo: "/audit/",
    "audit/<str:kind>/<str:object_id>/": lambda demo: f"/audit/incidents.incident/{demo.incident.pk}/",
    "incidents/declare/": lambda demo: "/incidents/declare/",
    "status/<str:token>/": lambda demo: "/status/{}/".format(
        Incident.objects.filter(is_public=True)
        .exclude(public_token="")
        .values_list("public_token", flat=True)[0]
    ),
}

# The page a signed-out person sees, opened before signing in.
SIGNED_OUT = {"accounts/login/": "/accounts/login/"}

REDIRECT = "answers GET with a redirect to a page opened here"
POST_ONLY = "POST only (a form's action); GET is refused or redirected"
SKIPPED: dict[str, str] = {
    "admin/": "Django's admin (staff), styled by Django's own responsive stylesheet; Morgue adds no template",
    "api/v1/": "the JSON API, no HTML",
    "api/schema/": "the OpenAPI document (YAML), no HTML",
    "healthz": "a health check answering plain text",
    "favicon.ico": REDIRECT,
    "people/suggest/": "JSON for the owner fields' suggestions",
    "accounts/logout/": POST_ONLY,
    "incidents/<int:pk>/postmortem.md": "a Markdown download",
    "feeds/postmortems.atom": "an Atom feed",
    "incidents/<int:pk>/editing/": "JSON (who else is editing), POST only",
    "incidents/<int:pk>/timeline/": REDIRECT + " (the incident's timeline)",
    "incidents/<int:pk>/history/<int:number>/restore/": POST_ONLY,
    "incidents/<int:pk>/review/invite/": POST_ONLY,
    "incidents/<int:pk>/review/unschedule/": POST_ONLY,
    "incidents/<int:pk>/review.ics": "an iCalendar download",
    "incidents/<int:pk>/restore/": POST_ONLY,
    "incidents/<int:incident_id>/evidence/deploys/": POST_ONLY,
    "incidents/<int:incident_id>/evidence/deploys/<int:deploy_id>/unlink/": POST_ONLY,
    "graphs/<int:snapshot_id>/image": "an image file",
    "remediations/export.csv": "a CSV download",
    "remediations/<int:item_id>/status/": REDIRECT + " (the item's incident)",
    "remediations/<int:item_id>/tracker/": REDIRECT + " (the item's incident)",
    "integrations/github/": "GitHub's signed webhook, POST only, JSON",
    "integrations/github/webhook/": "GitHub's signed webhook, POST only, JSON",
    "integrations/gitlab/": "GitLab's webhook (its token), POST only, JSON",
    "integrations/gitlab/webhook/": "GitLab's webhook (its token), POST only, JSON",
    "integrations/jira/": "Jira's signed webhook, POST only, JSON",
    "integrations/jira/webhook/": "Jira's signed webhook, POST only, JSON",
    "oncall/twilio/status/<int:pk>/": "Twilio's signed delivery callback, POST only",
    "oncall/twilio/inbound/": "Twilio's signed inbound SMS webhook, POST only",
    "integrations/slack/commands/": "Slack's signed slash command, POST only",
    "integrations/slack/interactions/": "Slack's signed button presses, POST only",
    "integrations/slack/actions/": "Slack's signed button presses, POST only",
    "integrations/mattermost/commands/": "Mattermost's slash command with its token, POST only",
    "oncall/swaps/<int:pk>/accept/": POST_ONLY,
    "oncall/swaps/<int:pk>/decline/": POST_ONLY,
    "oncall/swaps/<int:pk>/withdraw/": POST_ONLY,
    "oncall/calendar-token/": POST_ONLY,
    "oncall/rotations/<slug:slug>.ics": "an iCalendar feed",
    "oncall/people/<str:username>.ics": "an iCalendar feed",
    "alerts/<int:alert_id>/classify/": POST_ONLY,
    "alerts/shifts/<int:shift_id>/classify-check/": POST_ONLY,
    "alerts/reports/": REDIRECT + " (last month's report)",
    "alerts/reports/<str:month>/review/": POST_ONLY,
    "alerts/reports/<str:month>/act/": POST_ONLY,
    "alerts/import-oncall/<slug:run>/": (
        "an import's result, kept in the session by the import form's POST; the same template as "
        "alerts/import-oncall/, opened here"
    ),
    "metrics": "Prometheus's text format for a scraper",
    "oidc/authenticate/": REDIRECT + " (to the OpenID provider)",
    "oidc/callback/": "the OpenID provider's redirect back, which signs in and redirects",
    "audit/export.csv": "a CSV download",
    "status/<str:token>/updates.atom": "an Atom feed",
    "incidents/<int:pk>/public/": POST_ONLY,
    "incidents/<int:pk>/roles/": POST_ONLY,
    "incidents/<int:pk>/status-updates/": POST_ONLY,
    "incidents/<int:pk>/subscription/": POST_ONLY,
    "incidents/<int:pk>/timeline/<int:event_pk>/star/": POST_ONLY,
}


def _routes(patterns, prefix: str = "") -> Iterator[str]:
    """Every route of the URLconf, as its full pattern; an included URLconf listed in SKIPPED stops there."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route in SKIPPED:
                yield route
            else:
                yield from _routes(pattern.url_patterns, route)
        else:
            assert isinstance(pattern, URLPattern)
            yield route


def test_every_route_is_opened_on_a_phone_or_skipped_with_a_reason():
    routes = set(_routes(get_resolver().url_patterns))
    listed = set(PAGES) | set(SIGNED_OUT) | set(SKIPPED)

    assert sorted(routes - listed) == [], "a route is neither opened on a phone nor skipped with a reason"
    assert sorted(listed - routes) == [], "a listed route is no longer in the URLconf"
    assert not set(PAGES) & set(SKIPPED)


def _last_month() -> str:
    first = timezone.localdate().replace(day=1)
    previous = (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )
    return f"{previous:%Y-%m}"


def _demo() -> Demo:
    call_command("seed_demo", stdout=io.StringIO())
    person = User.objects.get(username="demo")
    incident = GraphSnapshot.objects.order_by("pk").first().incident
    team = Team.objects.get(slug="ops")
    # An open page naming the person, so "Your open pages" is on / and /oncall/.
    now = timezone.now()
    open_page = Page.objects.create(
        team=team, message="Checkout latency p99 above 2 s " + "x" * 60, created_at=now
    )
    PageStep.objects.create(
        page=open_page, number=1, team=team, level="L1", user=person, due_at=now, notified_at=now
    )
    deleted = Incident.objects.filter(status=Status.RESOLVED).exclude(pk=incident.pk).order_by("pk").first()
    delete_incident(incident=deleted, by=person)
    alert = Alert.objects.exclude(team=None).order_by("-fired_at").first()
    alert_shift = (
        Shift.objects.filter(
            rotation__team=alert.team, starts_at__lte=alert.fired_at, ends_at__gt=alert.fired_at
        ).first()
        or Shift.objects.filter(starts_at__lte=now).order_by("-starts_at").first()
    )
    return Demo(
        incident=incident,
        reviewed=Incident.objects.filter(status=Status.REVIEWED).order_by("pk").first(),
        deleted=deleted,
        remediation=RemediationItem.objects.order_by("pk").first(),
        rotation=Rotation.objects.get(slug="ops-weekly"),
        team=team,
        open_page=open_page,
        exhausted_page=Page.objects.get(status=PageStatus.EXHAUSTED),
        alert_shift=alert_shift,
        person=person,
        token=acknowledge_token(page=open_page, user=person),
    )


# Text whose colour is too close to what is behind it (under 3:1), to name it when a theme is unreadable.
UNREADABLE = """() => {
  const parse = value => {
    const match = value.match(/rgba?\\(([^)]+)\\)/);
    if (!match) return null;
    const parts = match[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const luminance = ({r, g, b}) => {
    const linear = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const behind = element => {
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour.a > 0.5) return colour;
    }
    const page = parse(getComputedStyle(document.documentElement).backgroundColor);
    return page || {r: 255, g: 255, b: 255, a: 1};
  };
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (element instanceof SVGElement || !element.getClientRects().length) continue;
    const text = [...element.childNodes].some(node => node.nodeType === 3 && node.textContent.trim());
    if (!text) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden' || element.closest('.skip')) continue;
    const colour = parse(style.color);
    if (!colour) continue;
    const [light, dark] = [luminance(colour), luminance(behind(element))].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    const name = `<${element.tagName.toLowerCase()} class="${element.className}">`;
    if (ratio < 3) found.push(`${name} ${ratio.toFixed(1)}:1`);
  }
  return found.slice(0, 5);
}"""

# What sticks out past the right edge, to name it when a page is too wide.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(element => element.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(element => !element.parentElement.closest('table, pre, .scroll'))
  .slice(0, 6)
  .map(element => `<${element.tagName.toLowerCase()} class="${element.className}"> ends at `
    + `${Math.round(element.getBoundingClientRect().right)}px`)
"""

THIRD_PARTY = ("/api/docs/", "/api/redoc/")
SIDEWAYS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


def _check(page, live_server, path: str, problems: dict[str, list]) -> None:
    """Open one page and record what is wrong with it on a phone, in either theme."""
    response = page.goto(f"{live_server.url}{path}")
    found: list = []
    if response is None or not response.ok or "text/html" not in response.headers.get("content-type", ""):
        found.append(
            f"answered {response and response.status} {response and response.headers.get('content-type')}"
        )
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        if page.evaluate(SIDEWAYS):
            found.append((scheme, "scrolls sideways", page.evaluate(WIDEST)))
        # Swagger UI and ReDoc bring their own colours; only Morgue's own pages are held to its themes.
        unreadable = [] if path.startswith(THIRD_PARTY) else page.evaluate(UNREADABLE)
        if unreadable:
            found.append((scheme, "unreadable", unreadable))
    page.emulate_media(color_scheme="light")
    if found:
        problems[path] = found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_in_both_themes(chromium, live_server):
    demo = _demo()
    context = chromium.new_context(viewport=PHONE, timezone_id="Europe/London", locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and errors.append(f"{page.url}: {message.text}")
    )
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on(
        "response",
        lambda response: (
            response.request.resource_type != "document"
            and response.status >= 400
            and errors.append(f"{page.url}: {response.status} {response.url}")
        ),
    )
    problems: dict[str, list] = {}
    try:
        for path in SIGNED_OUT.values():
            _check(page, live_server, path, problems)
        page.fill("#id_username", "demo")
        page.fill("#id_password", "morgue-demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for build in PAGES.values():
            _check(page, live_server, build(demo), problems)
    finally:
        context.close()

    assert problems == {}, pprint.pformat(problems, width=110)
    # The policy refusing ReDoc's CDN logo is expected (tests/browser/conftest.py); nothing else.
    errors = [error for error in errors if REDOC_LOGO not in error]
    assert errors == [], pprint.pformat(errors, width=110)
