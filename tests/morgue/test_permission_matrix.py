"""The permission matrix: every URL and every API operation × role × own or other team.

Each route of the URLconf (pages, the admin) and each operation of the OpenAPI
schema says here which rule of `morgue.permissions.RULES` governs it (or that it
only reads, or acts on the signed-in person's own things, or on someone else's).
The expectation of every case is computed from RULES and the role, never from
`permissions.allowed`: a viewer, a responder and a manager of the "own" team, and
an admin (staff), each act on the own team's things and on the other team's.

Allowed means the request got past the rule: 2xx, 3xx, or a refusal of the
input (400, 409, 422). Refused means 403 (or 404, for things hidden from the
person). A route or operation missing from these tables fails the test that
walks the URLconf or the schema: a new route needs its line here.

The world is built once, in a transaction left open for the module; each case
runs in a savepoint inside it (pytest-django's `db`), so what a case changes is
undone before the next.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from alerts_review.models import MaintenanceWindow
from alerts_review.views import IMPORT_RUNS
from incidents.models import ReviewMeeting
from incidents.services.deploy import link_deploy
from incidents.services.incident import create_incident
from morgue.permissions import RULES, Level
from morgue.services import create_api_token
from morgue.sessions import SessionStore
from oncall.models import Page, Swap
from oncall.services import notifications
from tests.factories import (
    AlertFactory,
    AlertSourceFactory,
    DeployFactory,
    GraphSnapshotFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
    make_rotation,
    member_of,
)
from tests.incidents.graph_server import PNG

ROLES = ("viewer", "responder", "manager", "admin")
SIDES = ("own", "other")
NOW = timezone.now()
IMPORT_RUN = "0123456789abcdef"
IMPORT_SUMMARY = {  # alerts_review.imports.summarise's shape
    "vendor": "PagerDuty",
    "at": "2026-11-01 10:00",
    "saved": False,
    "weeks": 4,
    "since": None,
    "until": None,
    "changes": ["would create rotation Primary"],
    "problems": [],
    "blocking": 0,
    "history_imported": 0,
    "history_known": 0,
    "verified": True,
    "differences": [],
}


# --- What governs each route ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rule:
    """A rule of RULES on the route's object; `site`: a rule with no team (the role anywhere)."""

    verb: str
    kind: str
    site: bool = False


READ = "read"  # anyone signed in
SELF = "self"  # the person's own things (profile, contact methods, subscriptions, swaps they ask)
ELSEWHERE = "elsewhere"  # someone else's own things: refused to everyone, admins too


def level(role: str, side: str) -> Level:
    if role == "admin":
        return Level.ADMIN
    own = {"viewer": Level.VIEWER, "responder": Level.RESPONDER, "manager": Level.MANAGER}[role]
    return own if side in ("own", "site") else Level.VIEWER


def expected_allowed(expect, role: str, side: str) -> bool:
    if expect in (READ, SELF):
        return True
    if expect == ELSEWHERE:
        return False
    return level(role, "site" if expect.site else side) >= RULES[(expect.verb, expect.kind)].least


# --- The world ----------------------------------------------------------------------------------


class World:
    def __init__(self) -> None:
        self.team = {side: TeamFactory(slug=side, name=side.title()) for side in SIDES}
        own = self.team["own"]
        self.users = {
            "viewer": member_of(own, "viewer", user=ProfileFactory(user=UserFactory(username="vic")).user),
            "responder": member_of(
                own, "responder", user=ProfileFactory(user=UserFactory(username="rae")).user
            ),
            "manager": member_of(own, "manager", user=ProfileFactory(user=UserFactory(username="max")).user),
            "admin": ProfileFactory(user=UserFactory(username="ada", is_staff=True, is_superuser=True)).user,
        }
        self.stranger = ProfileFactory(user=UserFactory(username="stan")).user
        self.deploy = DeployFactory()
        self.incident, self.event, self.snapshot, self.item = {}, {}, {}, {}
        self.rotation, self.shift, self.page, self.alert, self.window = {}, {}, {}, {}, {}
        for side, team in self.team.items():
            incident = create_incident(
                by=None,
                title=f"{side} incident",
                severity=3,
                team=team,
                impact_started_at=NOW - dt.timedelta(hours=2),
                detected_at=NOW - dt.timedelta(hours=1),
            )
            self.incident[side] = incident
            self.event[side] = TimelineEventFactory(incident=incident)
            link_deploy(incident=incident, deploy=self.deploy)
            snapshot = GraphSnapshotFactory(incident=incident, content_type="image/png", status="done")
            snapshot.image.save("graph.png", ContentFile(PNG))
            self.snapshot[side] = snapshot
            ReviewMeeting.objects.create(
                incident=incident, facilitator=self.stranger, starts_at=NOW + dt.timedelta(days=2)
            )
            self.item[side] = RemediationItemFactory(incident=incident, team=team, owner=self.stranger)
            rotation = make_rotation(team=team, people=(f"{side}-a", f"{side}-b"), slug=f"{side}-primary")
            self.rotation[side] = rotation
            self.shift[side] = rotation.shifts.order_by("starts_at").first()
            self.page[side] = Page.objects.create(team=team, message=f"{side} disk full")
            self.alert[side] = AlertFactory(team=team, alert_source=AlertSourceFactory(team=team))
            self.window[side] = MaintenanceWindow.objects.create(
                team=team,
                check_pattern="Disk*",
                starts_at=NOW,
                ends_at=NOW + dt.timedelta(hours=1),
                reason="Upgrade",
            )
        # Someone else's own things.
        rotation = self.rotation["own"]
        self.swap = Swap.objects.create(
            rotation=rotation,
            requested_by=rotation.members.first().user,
            taken_by=rotation.members.last().user,
            starts_at=NOW + dt.timedelta(days=1),
            ends_at=NOW + dt.timedelta(days=2),
        )
        # Each role signs in once; every case reuses the session (signing in costs more than most cases).
        self.cookies = {}
        for role, user in self.users.items():
            client = Client()
            client.force_login(user)
            self.cookies[role] = client.cookies
        self.contact = notifications.add_contact_method(
            user=self.stranger, kind="email", address="stan@example.com"
        )
        self.rule = notifications.add_notification_rule(
            user=self.stranger, contact_method=self.contact, delay_minutes=0
        )
        self.api_token = create_api_token(
            owner=self.stranger, name="stan's script", scope="write", expires_at=NOW + dt.timedelta(days=30)
        )
        # An on-call import's result, kept in each person's session as the import page keeps it, so
        # the result page's refusals are the rule's and not a run nobody has.
        for cookies in self.cookies.values():
            session = SessionStore(session_key=cookies[settings.SESSION_COOKIE_NAME].value)
            session[IMPORT_RUNS] = {IMPORT_RUN: IMPORT_SUMMARY}
            session.save()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, in a transaction left open for the module and rolled back after it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = World()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


# --- Pages ---------------------------------------------------------------------------------------

Kwargs = Callable[[World, str], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Route:
    methods: dict[str, Any]
    kwargs: Kwargs | None = None  # None: the route names no team's thing (one "site" case per role)
    query: Kwargs | None = None
    body: Kwargs | None = None


def incident(name: str = "pk") -> Kwargs:
    return lambda world, side: {name: world.incident[side].pk}


EDIT = Rule("edit", "incident")

PAGES: dict[str, Route] = {
    "home": Route({"GET": READ}),
    "profile": Route({"GET": READ, "POST": SELF}),
    "people-suggest": Route({"GET": READ}),
    "audit": Route({"GET": Rule("read", "audit", site=True)}),
    "audit-csv": Route({"GET": Rule("read", "audit", site=True)}),
    "audit-object": Route(
        {"GET": Rule("read", "audit", site=True)},
        kwargs=lambda world, side: {"kind": "incidents.incident", "object_id": world.incident[side].pk},
    ),
    "schema": Route({"GET": READ}),
    "api-docs": Route({"GET": READ}),
    "api-redoc": Route({"GET": READ}),
    "incidents:report": Route({"GET": READ}),
    "incidents:postmortem-markdown": Route({"GET": READ}, incident()),
    "incidents:declare": Route(
        {"GET": Rule("declare", "incident", site=True), "POST": Rule("declare", "incident")},
        kwargs=lambda world, side: {},
        body=lambda world, side: {"title": "Disk full", "severity": "3", "team": world.team[side].slug},
    ),
    "incidents:roles": Route({"POST": EDIT}, incident()),
    "incidents:status-update": Route({"POST": EDIT}, incident()),
    "incidents:subscription": Route({"GET": READ, "POST": SELF}, incident()),
    "incidents:public-toggle": Route({"POST": EDIT}, incident()),
    "incidents:event-star": Route(
        {"POST": EDIT}, lambda world, side: {"pk": world.incident[side].pk, "event_pk": world.event[side].pk}
    ),
    "incidents:list": Route({"GET": READ}),
    "incidents:create": Route(
        {"GET": Rule("declare", "incident", site=True), "POST": Rule("declare", "incident", site=True)}
    ),
    "incidents:review-queue": Route({"GET": READ}),
    "incidents:detail": Route({"GET": READ}, incident()),
    "incidents:edit": Route({"GET": EDIT, "POST": EDIT}, incident()),
    "incidents:editing": Route({"POST": EDIT}, incident()),
    "incidents:timeline-add": Route({"POST": EDIT}, incident()),
    "incidents:history": Route({"GET": READ}, incident()),
    "incidents:revision-restore": Route(
        {"POST": EDIT}, lambda world, side: {"pk": world.incident[side].pk, "number": 1}
    ),
    "incidents:review": Route({"GET": EDIT, "POST": EDIT}, incident()),
    "incidents:review-invite": Route({"POST": EDIT}, incident()),
    "incidents:review-unschedule": Route({"POST": EDIT}, incident()),
    "incidents:review-ics": Route({"GET": READ}, incident()),
    "incidents:delete": Route(
        {"GET": Rule("delete", "incident"), "POST": Rule("delete", "incident")}, incident()
    ),
    "incidents:deleted": Route({"GET": READ}, incident()),
    "incidents:restore": Route({"POST": Rule("restore", "incident")}, incident()),
    "incidents:deploy-log": Route({"GET": READ}),
    "incidents:link-deploy": Route({"POST": EDIT}, incident("incident_id")),
    "incidents:unlink-deploy": Route(
        {"POST": EDIT},
        lambda world, side: {"incident_id": world.incident[side].pk, "deploy_id": world.deploy.pk},
    ),
    "incidents:add-graph": Route({"GET": READ, "POST": EDIT}, incident("incident_id")),
    "incidents:chatlog": Route({"GET": READ, "POST": EDIT}, incident("incident_id")),
    "incidents:graph-image": Route(
        {"GET": READ}, lambda world, side: {"snapshot_id": world.snapshot[side].pk}
    ),
    "incidents:remediation-board": Route({"GET": READ}),
    "incidents:remediation-board-csv": Route({"GET": READ}),
    "incidents:remediation-incident": Route({"GET": READ}, incident("incident_id")),
    "incidents:remediation-add": Route({"GET": READ, "POST": EDIT}, incident("incident_id")),
    "incidents:remediation-edit": Route(
        {"GET": READ, "POST": Rule("edit", "remediationitem")},
        lambda world, side: {"item_id": world.item[side].pk},
    ),
    "incidents:remediation-status": Route(
        {"POST": Rule("edit", "remediationitem")}, lambda world, side: {"item_id": world.item[side].pk}
    ),
    "incidents:remediation-tracker": Route(
        {"GET": READ, "POST": Rule("edit", "remediationitem")},
        lambda world, side: {"item_id": world.item[side].pk},
    ),
    "oncall:now": Route({"GET": READ}),
    "oncall:page": Route({"GET": READ, "POST": READ}),  # anyone may page any team
    "oncall:page-detail": Route(
        {"GET": READ, "POST": Rule("resolve", "page")},
        lambda world, side: {"pk": world.page[side].pk},
        body=lambda world, side: {"action": "resolve"},
    ),
    "oncall:fairness": Route({"GET": READ}),
    "oncall:accept-swap": Route({"POST": ELSEWHERE}, lambda world, side: {"pk": world.swap.pk}),
    "oncall:decline-swap": Route({"POST": ELSEWHERE}, lambda world, side: {"pk": world.swap.pk}),
    "oncall:withdraw-swap": Route({"POST": ELSEWHERE}, lambda world, side: {"pk": world.swap.pk}),
    "oncall:reset-calendar-token": Route({"POST": SELF}),
    "oncall:rotation": Route(
        {"GET": READ, "POST": Rule("override_self", "rotation")},
        lambda world, side: {"slug": world.rotation[side].slug},
    ),
    "oncall:rotation-schedule": Route(
        {"GET": Rule("edit", "rotation"), "POST": Rule("edit", "rotation")},
        lambda world, side: {"slug": world.rotation[side].slug},
    ),
    "alerts_review:review": Route({"GET": READ}),
    "alerts_review:shift-review": Route(
        {"GET": READ}, lambda world, side: {"shift_id": world.shift[side].pk}
    ),
    "alerts_review:classify": Route(
        {"POST": Rule("classify", "alert")}, lambda world, side: {"alert_id": world.alert[side].pk}
    ),
    "alerts_review:classify-check": Route(
        {"POST": Rule("classify", "shift")}, lambda world, side: {"shift_id": world.shift[side].pk}
    ),
    "alerts_review:reports": Route({"GET": READ}),
    "alerts_review:report": Route({"GET": READ}, lambda world, side: {"month": "2026-10"}),
    "alerts_review:save-review": Route(
        {"POST": Rule("review", "alerts")},
        lambda world, side: {"month": "2026-10"},
        query=lambda world, side: {"team": world.team[side].slug},
    ),
    "alerts_review:act": Route(
        {"POST": Rule("review", "alerts")},
        lambda world, side: {"month": "2026-10"},
        query=lambda world, side: {"team": world.team[side].slug},
    ),
    "alerts_review:paging": Route({"GET": READ}),
    "alerts_review:team-paging": Route(
        {"GET": READ, "POST": Rule("edit", "pagingpolicy")},
        lambda world, side: {"slug": world.team[side].slug},
        body=lambda world, side: {"form": "policy"},
    ),
    "alerts_review:import-oncall": Route(
        {"GET": Rule("import", "oncall", site=True), "POST": Rule("import", "oncall", site=True)}
    ),
    "alerts_review:import-oncall-result": Route(
        {"GET": Rule("import", "oncall", site=True)}, lambda world, side: {"run": IMPORT_RUN}
    ),
}

# Routes outside the matrix, each with why.
NOT_IN_THE_MATRIX = {
    "healthz": "for load balancers, no sign-in",
    "metrics": "for Prometheus, no sign-in",
    "favicon": "a redirect to a static file",
    "login": "signing in",
    "logout": "signing out",
    "oidc_authentication_init": "signing in through the directory",
    "oidc_authentication_callback": "signing in through the directory",
    "incidents:postmortems-feed": "a public feed of published postmortems, no sign-in",
    "incidents:public": "a public status page, opened by its unguessable token",
    "incidents:public-feed": "a public status page's feed, opened by its token",
    "oncall:one-tap": "a one-tap acknowledgement link, authenticated by its token",
    "oncall:twilio-status": "Twilio's callback, authenticated by Twilio's signature",
    "oncall:twilio-inbound": "Twilio's callback, authenticated by Twilio's signature",
    "oncall:rotation-feed": "a calendar feed, authenticated by the person's calendar token",
    "oncall:person-feed": "a calendar feed, authenticated by the person's calendar token",
    # Chats and trackers call these. A chat command acts as the chat user's Morgue person through the
    # services the pages use, which check that person's role (tests/incidents/test_chat_roles.py);
    # a tracker's webhook only carries an issue's state (closed, reopened) back to its item.
    "incidents:slack-command": "Slack's slash commands, authenticated by Slack's signature",
    "incidents:slack-interaction": "Slack's buttons, authenticated by Slack's signature",
    "incidents:slack-actions": "Slack's buttons at the manifest's address, signed by Slack",
    "incidents:mattermost-command": "Mattermost's slash commands, authenticated by the command's token",
    "incidents:github-webhook": "GitHub's webhook, authenticated by GitHub's signature",
    "incidents:gitlab-webhook": "GitLab's webhook, authenticated by its secret token",
    "incidents:jira-webhook": "Jira's webhook, authenticated by Jira's signature",
    # The same webhooks at the addresses their setup guides suggest (unnamed routes, by address).
    "integrations/github/webhook/": "GitHub's webhook, authenticated by GitHub's signature",
    "integrations/gitlab/webhook/": "GitLab's webhook, authenticated by its secret token",
    "integrations/jira/webhook/": "Jira's webhook, authenticated by Jira's signature",
}


def walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}" if pattern.name else None


def url_patterns() -> list[tuple[str, str | None]]:
    return list(walk(get_resolver().url_patterns))


def test_every_page_is_in_the_matrix():
    missing = [
        f"{route} ({name})"
        for route, name in url_patterns()
        if not route.startswith(("admin/", "api/v1/"))
        and name not in PAGES
        and (name or route) not in NOT_IN_THE_MATRIX  # an unnamed route by its address
    ]
    assert missing == [], "Say in PAGES which rule governs each new page: " + ", ".join(missing)


def page_cases():
    for name, route in PAGES.items():
        sides = SIDES if route.kwargs is not None else ("site",)
        for method in route.methods:
            for role in ROLES:
                for side in sides:
                    yield pytest.param(name, method, role, side, id=f"{method} {name} {role} {side}")


def signed_in(world: World, role: str) -> Client:
    client = Client()
    for name, morsel in world.cookies[role].items():
        client.cookies[name] = morsel.value
    return client


def is_allowed(response) -> bool:
    return response.status_code < 400 or response.status_code in (400, 409, 422)


def is_refused(response) -> bool:
    return response.status_code in (403, 404)


def check(response, allowed: bool, case: str) -> None:
    assert response.status_code != 500, case
    if allowed:
        assert is_allowed(response), f"{case}: expected allowed, got {response.status_code}"
    else:
        assert is_refused(response), f"{case}: expected 403 or 404, got {response.status_code}"


@pytest.mark.parametrize(("name", "method", "role", "side"), list(page_cases()))
def test_page(world, db, name, method, role, side):
    from django.urls import reverse

    route = PAGES[name]
    url = reverse(name, kwargs=route.kwargs(world, side) if route.kwargs else None)
    query = route.query(world, side) if route.query else {}
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    body = route.body(world, side) if route.body else {}
    client = signed_in(world, role)
    response = client.get(url) if method == "GET" else client.post(url, body)
    check(response, expected_allowed(route.methods[method], role, side), f"{method} {url} as {role}")


# --- API operations ----------------------------------------------------------------------------


def schema_operations() -> list[tuple[str, str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation["operationId"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def slug_of(kind: str) -> Kwargs:
    return lambda world, side: {"slug": (world.team if kind == "team" else world.rotation)[side].slug}


def pk_of(attribute: str) -> Kwargs:
    return lambda world, side: {"id": getattr(world, attribute)[side].pk}


def one(value: Callable[[World], Any], name: str = "id") -> Kwargs:
    return lambda world, side: {name: value(world)}


def incident_and(name: str, value: Callable[[World, str], Any]) -> Kwargs:
    return lambda world, side: {"incident_id": world.incident[side].pk, name: value(world, side)}


INCIDENT_ID = lambda world, side: {"incident_id": world.incident[side].pk}  # noqa: E731
ID = pk_of("incident")
WINDOW = {
    "check_pattern": "Disk*",
    "starts_at": "2026-11-01T10:00:00Z",
    "ends_at": "2026-11-01T12:00:00Z",
    "reason": "Upgrade",
}

OPERATIONS: dict[str, Route] = {
    "v1_alerts_list": Route({"GET": READ}),
    "v1_alerts_retrieve": Route({"GET": READ}, pk_of("alert")),
    "v1_alerts_partial_update": Route({"PATCH": Rule("classify", "alert")}, pk_of("alert")),
    "v1_audit_list": Route({"GET": Rule("read", "audit", site=True)}),
    "v1_deploys_list": Route({"GET": READ}),
    "v1_deploys_create": Route({"POST": Rule("record", "deploy", site=True)}),
    "v1_deploys_retrieve": Route({"GET": READ}, one(lambda world: world.deploy.pk)),
    "v1_incidents_list": Route({"GET": READ}),
    "v1_incidents_create": Route(
        {"POST": Rule("declare", "incident")},
        kwargs=lambda world, side: {},
        body=lambda world, side: {"title": "Disk full", "team": world.team[side].slug},
    ),
    "v1_incidents_chatlog_create": Route({"POST": EDIT}, INCIDENT_ID),
    "v1_incidents_deploys_list": Route({"GET": READ}, INCIDENT_ID),
    "v1_incidents_deploys_create": Route({"POST": EDIT}, INCIDENT_ID),
    "v1_incidents_deploys_destroy": Route(
        {"DELETE": EDIT}, incident_and("deploy_id", lambda world, side: world.deploy.pk)
    ),
    "v1_incidents_graphs_list": Route({"GET": READ}, INCIDENT_ID),
    "v1_incidents_graphs_create": Route({"POST": EDIT}, INCIDENT_ID),
    "v1_incidents_graphs_retrieve": Route(
        {"GET": READ}, incident_and("snapshot_id", lambda world, side: world.snapshot[side].pk)
    ),
    "v1_incidents_graphs_partial_update": Route(
        {"PATCH": EDIT}, incident_and("snapshot_id", lambda world, side: world.snapshot[side].pk)
    ),
    "v1_incidents_remediations_list": Route({"GET": READ}, INCIDENT_ID),
    "v1_incidents_remediations_create": Route({"POST": EDIT}, INCIDENT_ID),
    "v1_incidents_suggested_deploys_list": Route({"GET": READ}, INCIDENT_ID),
    "v1_incidents_retrieve": Route({"GET": READ}, ID),
    "v1_incidents_partial_update": Route({"PATCH": EDIT}, ID),
    "v1_incidents_destroy": Route({"DELETE": Rule("delete", "incident")}, ID),
    "v1_incidents_public_create": Route({"POST": EDIT}, ID),
    "v1_incidents_restore_create": Route({"POST": Rule("restore", "incident")}, ID),
    "v1_incidents_review.ics_retrieve": Route({"GET": READ}, ID),
    "v1_incidents_roles_list": Route({"GET": READ}, ID),
    "v1_incidents_roles_create": Route({"POST": EDIT}, ID),
    "v1_incidents_star_create": Route({"POST": EDIT}, ID),
    "v1_incidents_status_updates_list": Route({"GET": READ}, ID),
    "v1_incidents_status_updates_create": Route({"POST": EDIT}, ID),
    "v1_incidents_subscription_retrieve": Route({"GET": READ}, ID),
    "v1_incidents_subscription_create": Route({"POST": SELF}, ID),
    "v1_incidents_subscription_destroy": Route({"DELETE": SELF}, ID),
    "v1_incidents_timeline_list": Route({"GET": READ}, ID),
    "v1_incidents_timeline_create": Route({"POST": EDIT}, ID),
    "v1_incidents_unschedule_review_create": Route({"POST": EDIT}, ID),
    "v1_incidents_check_create": Route({"POST": READ}),  # checks a draft's wording; saves nothing
    "v1_maintenance_windows_list": Route({"GET": READ}),
    "v1_maintenance_windows_create": Route(
        {"POST": Rule("edit", "maintenancewindow")},
        kwargs=lambda world, side: {},
        body=lambda world, side: {"team": world.team[side].slug, **WINDOW},
    ),
    "v1_maintenance_windows_end_create": Route({"POST": Rule("edit", "maintenancewindow")}, pk_of("window")),
    "v1_me_retrieve": Route({"GET": SELF}),
    "v1_me_partial_update": Route({"PATCH": SELF}),
    "v1_me_calendar_token_create": Route({"POST": SELF}),
    "v1_me_contact_methods_list": Route({"GET": SELF}),
    "v1_me_contact_methods_create": Route({"POST": SELF}),
    "v1_me_contact_methods_retrieve": Route({"GET": ELSEWHERE}, one(lambda world: world.contact.pk)),
    "v1_me_contact_methods_destroy": Route({"DELETE": ELSEWHERE}, one(lambda world: world.contact.pk)),
    "v1_me_notification_rules_list": Route({"GET": SELF}),
    "v1_me_notification_rules_create": Route({"POST": SELF}),
    "v1_me_notification_rules_retrieve": Route({"GET": ELSEWHERE}, one(lambda world: world.rule.pk)),
    "v1_me_notification_rules_destroy": Route({"DELETE": ELSEWHERE}, one(lambda world: world.rule.pk)),
    "v1_me_test_page_list": Route({"GET": SELF}),
    "v1_me_test_page_create": Route({"POST": SELF}),
    "v1_metrics_deploys_retrieve": Route({"GET": READ}),
    "v1_metrics_incidents_retrieve": Route({"GET": READ}),
    "v1_metrics_remediations_retrieve": Route({"GET": READ}),
    "v1_oncall_list": Route({"GET": READ}),
    "v1_pages_list": Route({"GET": READ}),
    "v1_pages_create": Route(
        {"POST": READ},  # anyone may page any team
        kwargs=lambda world, side: {},
        body=lambda world, side: {"team": world.team[side].slug, "message": "Disk full"},
    ),
    "v1_pages_retrieve": Route({"GET": READ}, pk_of("page")),
    "v1_pages_acknowledge_create": Route({"POST": Rule("acknowledge", "page")}, pk_of("page")),
    "v1_pages_resolve_create": Route({"POST": Rule("resolve", "page")}, pk_of("page")),
    "v1_people_list": Route({"GET": READ}),
    "v1_people_create": Route({"POST": Rule("edit", "person", site=True)}),
    "v1_people_retrieve": Route({"GET": READ}, one(lambda world: world.stranger.username, "username")),
    "v1_remediations_list": Route({"GET": READ}),
    "v1_remediations_retrieve": Route({"GET": READ}, pk_of("item")),
    "v1_remediations_partial_update": Route({"PATCH": Rule("edit", "remediationitem")}, pk_of("item")),
    "v1_remediations_ticket_create": Route({"POST": Rule("edit", "remediationitem")}, pk_of("item")),
    "v1_reports_alerts_retrieve": Route({"GET": READ}),
    "v1_rotations_list": Route({"GET": READ}),
    "v1_rotations_create": Route(
        {"POST": Rule("edit", "rotation")},
        kwargs=lambda world, side: {},
        body=lambda world, side: {"team": world.team[side].slug, "name": "Night", "slug": f"{side}-night"},
    ),
    "v1_rotations_retrieve": Route({"GET": READ}, slug_of("rotation")),
    "v1_rotations_partial_update": Route({"PATCH": Rule("edit", "rotation")}, slug_of("rotation")),
    "v1_rotations_overrides_create": Route({"POST": Rule("override_self", "rotation")}, slug_of("rotation")),
    "v1_rotations_preview_create": Route({"POST": Rule("edit", "rotation")}, slug_of("rotation")),
    "v1_rotations_shifts_list": Route({"GET": READ}, slug_of("rotation")),
    "v1_swaps_list": Route({"GET": SELF}),
    "v1_swaps_create": Route({"POST": SELF}),
    "v1_swaps_accept_create": Route({"POST": ELSEWHERE}, one(lambda world: world.swap.pk)),
    "v1_swaps_decline_create": Route({"POST": ELSEWHERE}, one(lambda world: world.swap.pk)),
    "v1_swaps_withdraw_create": Route({"POST": ELSEWHERE}, one(lambda world: world.swap.pk)),
    # A person's API tokens are theirs alone: someone else's token is not found, even by an admin
    # (who revokes tokens in the admin instead).
    "v1_tokens_list": Route({"GET": SELF}),
    "v1_tokens_create": Route(
        {"POST": SELF}, body=lambda world, side: {"name": "deploy script", "scope": "read", "expires": "30"}
    ),
    "v1_tokens_retrieve": Route({"GET": ELSEWHERE}, one(lambda world: world.api_token.pk)),
    "v1_tokens_revoke_create": Route({"POST": ELSEWHERE}, one(lambda world: world.api_token.pk)),
    "v1_teams_list": Route({"GET": READ}),
    "v1_teams_create": Route({"POST": Rule("create", "team", site=True)}),
    "v1_teams_retrieve": Route({"GET": READ}, slug_of("team")),
    "v1_teams_partial_update": Route({"PATCH": Rule("edit", "team")}, slug_of("team")),
    "v1_teams_members_list": Route({"GET": READ}, slug_of("team")),
    "v1_teams_members_create": Route(
        {"POST": Rule("set_role", "team")},
        slug_of("team"),
        body=lambda world, side: {"username": world.stranger.username, "role": "viewer"},
    ),
    "v1_teams_members_destroy": Route(
        {"DELETE": Rule("set_role", "team")},
        slug_of("team"),
        query=lambda world, side: {"username": world.stranger.username},
    ),
    "v1_teams_paging_policy_retrieve": Route({"GET": READ}, slug_of("team")),
    "v1_teams_paging_policy_update": Route({"PUT": Rule("edit", "pagingpolicy")}, slug_of("team")),
}

OPERATIONS_NOT_IN_THE_MATRIX = {
    "v1_alerts_create": "the generic alert receiver, authenticated by an alert source's token",
    "v1_alerts_alertmanager_create": "Alertmanager's receiver, authenticated by an alert source's token",
    "v1_alerts_nagios_create": "Nagios's receiver, authenticated by an alert source's token",
}


@pytest.fixture(scope="module")
def operations() -> list[tuple[str, str, str]]:
    return schema_operations()


def test_every_api_operation_is_in_the_matrix(operations):
    missing = [
        f"{method} {path} ({operation_id})"
        for method, path, operation_id in operations
        if operation_id not in OPERATIONS and operation_id not in OPERATIONS_NOT_IN_THE_MATRIX
    ]
    assert missing == [], "Say in OPERATIONS which rule governs each new operation: " + ", ".join(missing)
    for operation_id, route in OPERATIONS.items():
        assert [method for method, _, known in operations if known == operation_id] == list(route.methods), (
            operation_id
        )


# Addresses of the API outside the schema: aliases of documented operations.
API_ALIASES = {
    None: "the receivers' and alerts list's addresses without a trailing slash (api.without_slash)",
}


def test_every_api_route_of_the_urlconf_is_an_operation_of_the_schema(operations):
    documented = set()
    for _, path, _ in operations:
        filled = path
        for name in ("id", "slug", "incident_id", "deploy_id", "snapshot_id", "username"):
            filled = filled.replace("{" + name + "}", "1" if name != "slug" and name != "username" else "x")
        documented.add(resolve(filled).view_name)
    missing = [
        f"{route} ({name})"
        for route, name in url_patterns()
        if route.startswith("api/v1/") and name not in documented and name not in API_ALIASES
    ]
    assert missing == [], "API routes missing from the schema: " + ", ".join(missing)


def operation_cases():
    operations = schema_operations()
    for method, path, operation_id in operations:
        route = OPERATIONS.get(operation_id)
        if route is None:
            continue
        sides = SIDES if route.kwargs is not None else ("site",)
        for role in ROLES:
            for side in sides:
                yield pytest.param(
                    method, path, operation_id, role, side, id=f"{method} {operation_id} {role} {side}"
                )


@pytest.mark.parametrize(("method", "path", "operation_id", "role", "side"), list(operation_cases()))
def test_api_operation(world, db, method, path, operation_id, role, side):
    route = OPERATIONS[operation_id]
    url = path
    for name, value in (route.kwargs(world, side) if route.kwargs else {}).items():
        url = url.replace("{" + name + "}", str(value))
    assert "{" not in url, url
    query = route.query(world, side) if route.query else {}
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    body = route.body(world, side) if route.body else {}
    client = signed_in(world, role)
    response = client.generic(
        method, url, data=__import__("json").dumps(body), content_type="application/json"
    )
    check(response, expected_allowed(route.methods[method], role, side), f"{method} {url} as {role}")


# --- The admin -----------------------------------------------------------------------------------
# Only staff (admins) enter it; everyone else is sent to its sign-in page. Its
# hooks (has_add/change/delete_permission) ask morgue.permissions too
# (morgue.admin.RulesAdmin), so the admin never does what the rules refuse.

ADMIN_NOT_IN_THE_MATRIX = {
    "admin:login": "signing in",
    "admin:logout": "signing out",
    "admin:password_change": "a person's own password",
    "admin:password_change_done": "a person's own password",
    "admin:auth_user_password_change": "setting a password",
    "admin:view_on_site": "a redirect to the object's own page",
    "admin/(?P<url>.*)$": "the admin's catch-all for addresses it does not have",
}

# What the admin refuses even to admins: tables Morgue (or django-axes) writes itself. Besides
# these, an admin whose ModelAdmin says no one may add (`has_add_permission`: read-only admins such
# as API tokens, chat channels, deliveries, tracker issues) refuses its add page; see `refused`.
REFUSED_TO_ADMINS = {
    "admin:axes_accessattempt_add": "django-axes records sign-in attempts itself",
    "admin:axes_accesslog_add": "django-axes records sign-ins itself",
    "admin:axes_accessfailurelog_add": "django-axes records failed sign-ins itself",
    "admin:morgue_auditentry_add": "the audit trail is written by the services",
    "admin:morgue_auditentry_delete": "the audit trail is append-only",
    "admin:incidents_roleassignment_add": "roles are assigned on the incident's page",
    "admin:incidents_statusupdate_add": "status updates are posted on the incident's page",
    "admin:incidents_updatedelivery_add": "deliveries are recorded as updates go out",
    "admin:oncall_notification_add": "notifications are recorded as pages go out",
    "admin:alerts_review_truncatedalerts_add": "recorded by the receivers",
    "admin:alerts_review_alertsilence_add": "silences are made by acknowledging a page",
}


def model_admin_of(name: str | None):
    """The ModelAdmin behind an admin route name (`admin:<app>_<model>_<view>`), or None."""
    for model, model_admin in admin.site._registry.items():
        if (name or "").startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model_admin
    return None


def refused(name: str | None, user) -> bool:
    """Whether the admin refuses this route to an admin: listed above, or an add its ModelAdmin disables."""
    if name in REFUSED_TO_ADMINS:
        return True
    model_admin = model_admin_of(name)
    if model_admin is None or not (name or "").endswith("_add"):
        return False
    request = RequestFactory().get("/admin/")
    request.user = user
    return not model_admin.has_add_permission(request)


def admin_cases():
    for route, name in url_patterns():
        if not route.startswith("admin/") or (name or route) in ADMIN_NOT_IN_THE_MATRIX:
            continue
        for role in ROLES:
            yield pytest.param(route, name, role, id=f"GET {name or route} {role}")


def admin_url(route: str) -> str:
    """The route's address, its object being the model's first row (or an id no row has)."""
    url = "/" + route
    if "(?P<app_label>" in url:
        return "/admin/morgue/"
    if "<path:object_id>" in url:
        app_label, model_name = route.split("/")[1:3]
        model = next(
            model
            for model in admin.site._registry
            if (model._meta.app_label, model._meta.model_name) == (app_label, model_name)
        )
        row = model._default_manager.order_by("pk").first()
        url = url.replace("<path:object_id>", str(row.pk if row is not None else 0))
    if url == "/admin/autocomplete/":
        # The team page's member picker (TeamMembershipInline.autocomplete_fields).
        url += "?app_label=morgue&model_name=teammembership&field_name=user"
    return url


@pytest.mark.parametrize(("route", "name", "role"), list(admin_cases()))
def test_admin(world, db, route, name, role):
    url = admin_url(route)
    response = signed_in(world, role).get(url)
    assert response.status_code != 500, url
    if role != "admin":
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    elif refused(name, world.users["admin"]):
        assert response.status_code == 403, url
    else:
        assert is_allowed(response), f"{url}: {response.status_code}"
