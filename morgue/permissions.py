"""Who may do what: one table, `RULES`, and the one function every page, API operation and admin asks.

A person's role is per team (`TeamMembership.role`): viewer < responder <
manager; admin is `is_staff` (or superuser) and may do everything. Someone who
is not in a team is a viewer of that team's things: everyone signed in reads
what Morgue shows. A thing with no team (an incident nobody owns yet, a
deploy) asks for the person's highest role in any team, so any responder may
declare and edit an unowned incident and staff may do everything.

`RULES` maps (verb, kind) to the least role needed in the object's team. A
rule may also name an attribute holding the one person who may act whatever
their role (the person paged may classify their alert). Checks happen when the
request arrives, before any work is enqueued, so a Celery task acts for the
person who asked and never checks again.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from rest_framework.permissions import BasePermission

from .exceptions import NotAllowed
from .models import Team, TeamMembership
from .roles import MEMBER_ROLES, Level

__all__ = [
    "RULES",
    "Level",
    "PermissionDenied",
    "Rule",
    "allowed",
    "require",
    "require_actor",
    "requires",
    "role_of",
]


@dataclass(frozen=True)
class Rule:
    least: Level
    # The attribute of the object naming a person who may act whatever their role (e.g. "paged_id"),
    # and who that is, for the sentence refusing someone else.
    or_person: str = ""
    or_who: str = ""


VIEWER, RESPONDER, MANAGER, ADMIN = Level.VIEWER, Level.RESPONDER, Level.MANAGER, Level.ADMIN

RULES: dict[tuple[str, str], Rule] = {
    # Reading: everyone signed in.
    ("view", "team"): Rule(VIEWER),
    ("view", "incident"): Rule(VIEWER),
    # Anyone may page any team ("if you're not sure who to page, page Ops"); acknowledging is for
    # whoever the page reached, which may be a fallback team's member.
    ("page", "team"): Rule(VIEWER),
    ("acknowledge", "page"): Rule(VIEWER),
    # Responders run incidents: declare (for their team; any responder for an unowned one), edit fields,
    # the postmortem, timeline, roles, status updates, evidence, reviews and remediation items.
    ("declare", "incident"): Rule(RESPONDER),
    ("edit", "incident"): Rule(RESPONDER),
    ("edit", "remediationitem"): Rule(RESPONDER),
    ("record", "deploy"): Rule(RESPONDER),
    ("resolve", "page"): Rule(RESPONDER),
    ("classify", "alert"): Rule(RESPONDER, or_person="paged_id", or_who="the person paged"),
    ("classify", "shift"): Rule(RESPONDER, or_person="user_id", or_who="the person on the shift"),
    ("review", "alerts"): Rule(RESPONDER),
    ("override_self", "rotation"): Rule(RESPONDER),
    # Team managers run their team: rotations, overrides for others, paging policy, alert sources,
    # maintenance windows, the team's settings and webhooks, and members' roles.
    ("edit", "rotation"): Rule(MANAGER),
    ("override_others", "rotation"): Rule(MANAGER),
    ("edit", "pagingpolicy"): Rule(MANAGER),
    ("edit", "alertsource"): Rule(MANAGER),
    ("edit", "maintenancewindow"): Rule(MANAGER),
    ("edit", "team"): Rule(MANAGER),
    ("set_role", "team"): Rule(MANAGER),
    # Admin only.
    ("create", "team"): Rule(ADMIN),
    ("delete", "incident"): Rule(ADMIN),
    ("restore", "incident"): Rule(ADMIN),
    ("view_deleted", "incident"): Rule(ADMIN),
    ("read", "audit"): Rule(ADMIN),
    ("edit", "person"): Rule(ADMIN),
    ("import", "oncall"): Rule(ADMIN),
}


class PermissionDenied(NotAllowed, DjangoPermissionDenied):
    """The person's role does not allow this: a 403 with the sentence.

    A MorgueError, so `morgue.rest.exception_handler` answers the API with its
    sentence; and Django's PermissionDenied, so a page raising it gets the 403
    page (`morgue.errors.permission_denied`), which shows the sentence too.
    """


def _is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def _roles(user: Any) -> dict[int, Level]:
    """Team id → the person's role there, read once per user object (one query per request)."""
    cached = getattr(user, "_morgue_team_roles", None)
    if cached is None:
        cached = {
            team_id: MEMBER_ROLES[role]
            for team_id, role in TeamMembership.objects.filter(user_id=user.pk).values_list("team_id", "role")
        }
        user._morgue_team_roles = cached
    return cached


def forget_roles(user: Any) -> None:
    """Drop the roles read for this user object (after their memberships change)."""
    if hasattr(user, "_morgue_team_roles"):
        del user._morgue_team_roles


def role_of(user: Any, team: Team | int | None) -> Level | None:
    """The person's level for a team's things; None for nobody signed in.

    No team: their highest role anywhere (viewer when they are in no team).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return None
    if _is_admin(user):
        return ADMIN
    roles = _roles(user)
    if team is None:
        return max(roles.values(), default=VIEWER)
    team_id = team if isinstance(team, int) else team.pk
    return roles.get(team_id, VIEWER)


def team_of(obj: Any) -> Team | None:
    """The team whose roles govern an object: the team itself, or its `team` (through `permission_team`)."""
    if obj is None or isinstance(obj, Team):
        return obj
    if hasattr(obj, "permission_team"):
        return obj.permission_team
    return getattr(obj, "team", None)


def kind_of(obj: Any) -> str:
    return "team" if obj is None else obj._meta.model_name


def allowed(user: Any, verb: str, obj: Any, *, kind: str | None = None) -> bool:
    """Whether `user` may `verb` the object (or a team's things of `kind`, when `obj` is a team or None)."""
    rule = RULES[(verb, kind or kind_of(obj))]
    if rule.least == ADMIN and not rule.or_person and not _is_admin(user):
        return False  # decided without reading the person's teams (pages ask this on every view)
    level = role_of(user, team_of(obj))
    if level is None:
        return False
    if level >= rule.least:
        return True
    return bool(rule.or_person and obj is not None and getattr(obj, rule.or_person, None) == user.pk)


def require(user: Any, verb: str, obj: Any, *, kind: str | None = None) -> None:
    """Raise PermissionDenied, with a sentence naming the role needed, unless `allowed`."""
    if allowed(user, verb, obj, kind=kind):
        return
    raise PermissionDenied(sentence(verb, kind or kind_of(obj), team_of(obj)))


def require_actor(by: Any, verb: str, obj: Any, *, kind: str | None = None) -> None:
    """`require` for a service's acting person; `None` is Morgue itself (seed data, imports, beat sweeps)."""
    if by is not None and getattr(by, "is_authenticated", False):
        require(by, verb, obj, kind=kind)


_ROLE_NAMES = {VIEWER: "viewer", RESPONDER: "responder", MANAGER: "team manager", ADMIN: "admin (staff)"}

# What each rule lets someone do, for the sentence refusing it.
_DOING = {
    ("view", "team"): "see the team",
    ("view", "incident"): "see incidents",
    ("page", "team"): "page the team",
    ("acknowledge", "page"): "acknowledge its pages",
    ("declare", "incident"): "declare incidents",
    ("edit", "incident"): "edit its incidents and their postmortems",
    ("edit", "remediationitem"): "change its remediation items",
    ("record", "deploy"): "record deploys",
    ("resolve", "page"): "resolve its pages",
    ("classify", "alert"): "classify its alerts",
    ("classify", "shift"): "classify the alerts of its shifts",
    ("review", "alerts"): "review its alerts",
    ("override_self", "rotation"): "put themselves on its rotations or swap their shifts",
    ("edit", "rotation"): "change its rotations",
    ("override_others", "rotation"): "put someone else on its rotations",
    ("edit", "pagingpolicy"): "change its paging policy",
    ("edit", "alertsource"): "change its alert sources",
    ("edit", "maintenancewindow"): "plan or end its maintenance windows",
    ("edit", "team"): "change the team's settings",
    ("set_role", "team"): "change who is in the team and their roles",
    ("create", "team"): "create teams",
    ("delete", "incident"): "delete incidents",
    ("restore", "incident"): "restore deleted incidents",
    ("view_deleted", "incident"): "see deleted incidents",
    ("read", "audit"): "read the audit trail",
    ("edit", "person"): "create people",
    ("import", "oncall"): "import on-call schedules",
}


def sentence(verb: str, kind: str, team: Team | None) -> str:
    """The refusal: which role, in which team, may do this."""
    rule = RULES[(verb, kind)]
    doing = _DOING[(verb, kind)]
    if rule.least == ADMIN:
        return f"Only an admin (staff) may {doing}."
    where = team.name if team is not None else "a team"
    extra = f", or {rule.or_who}," if rule.or_who else ""
    return f"Only a {_ROLE_NAMES[rule.least]} of {where}{extra} may {doing}."


# --- The boundaries: a page's decorator and the API's permission class ------------------------


def requires(
    verb: str, model: Any, kwarg: str = "pk", *, methods: Iterable[str] | None = ("POST",), kind=None
):
    """A page that acts on `model` (found by the URL's `kwarg`) checks `verb` on it first.

    `methods`: the request methods checked (None: every method, for pages whose form itself is the
    action, like an edit page). A missing object is a 404 before anything else.
    """
    checked = None if methods is None else {method.upper() for method in methods}

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if checked is None or request.method in checked:
                obj = get_object_or_404(model._default_manager, pk=kwargs[kwarg])
                require(request.user, verb, obj, kind=kind)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def site_rule(verb: str, kind: str) -> type[BasePermission]:
    """A DRF permission for an operation governed by one team-less rule (e.g. reading the audit trail)."""

    class SiteRule(BasePermission):
        def has_permission(self, request, view) -> bool:
            require(request.user, verb, None, kind=kind)
            return True

    SiteRule.__name__ = f"SiteRule_{verb}_{kind}"
    return SiteRule


class RulePermission(BasePermission):
    """DRF permission: a viewset's `object_rules` maps an action to the verb checked on its object.

    `"*"` is the verb for any other unsafe action; reads need nothing beyond signing in.
    Checked by `get_object()`, so each operation checks exactly the object it acts on.
    """

    message = "You may not do that."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        rules = getattr(view, "object_rules", {})
        verb = rules.get(getattr(view, "action", None) or "", rules.get("*"))
        if verb:
            require(request.user, verb, obj, kind=getattr(view, "rule_kind", None))
        return True
