"""Roles in order, and the directory-group → role map read from the environment (pure, no Django).

The roles a membership stores are `morgue.models.Role`; what each may do is
`morgue.permissions.RULES`. Admin is not stored: it is `is_staff` (or superuser).
"""

import enum
import re


class Level(enum.IntEnum):
    """How much a person may do in one team, lowest first."""

    VIEWER = 0
    RESPONDER = 1
    MANAGER = 2
    ADMIN = 3


# The roles a team membership can hold (admin is site-wide, never per team).
MEMBER_ROLES = {"viewer": Level.VIEWER, "responder": Level.RESPONDER, "manager": Level.MANAGER}

_ENTRY = re.compile(r"^(?P<group>[^=,\s][^=,]*)=(?P<team>[-a-zA-Z0-9_]+):(?P<role>[a-z]+)$")


def parse_group_roles(text: str) -> dict[str, dict[str, str]]:
    """Read `sre-leads=ops:manager,sre=ops:responder` as {"sre-leads": {"ops": "manager"}, ...}.

    A directory group may give roles in several teams (`sre=ops:responder,sre=db:viewer`).
    Raises ValueError with a sentence naming the bad entry.
    """
    roles: dict[str, dict[str, str]] = {}
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            raise ValueError(
                f"MORGUE_GROUP_ROLES: {entry!r} is not group=team-slug:role (for example sre=ops:responder)."
            )
        role = match["role"]
        if role not in MEMBER_ROLES:
            raise ValueError(
                f"MORGUE_GROUP_ROLES: {entry!r} names the role {role!r}; "
                f"a team role is one of {', '.join(MEMBER_ROLES)} (admin is staff status)."
            )
        teams = roles.setdefault(match["group"].strip(), {})
        team = match["team"]
        if team in teams and MEMBER_ROLES[teams[team]] >= MEMBER_ROLES[role]:
            continue
        teams[team] = role
    return roles


def team_roles_for(groups: set[str], group_roles: dict[str, dict[str, str]]) -> dict[str, str]:
    """Team slug → the highest role the person's directory groups give there."""
    best: dict[str, str] = {}
    for group in sorted(groups):
        for team, role in group_roles.get(group, {}).items():
            if team not in best or MEMBER_ROLES[role] > MEMBER_ROLES[best[team]]:
                best[team] = role
    return best
