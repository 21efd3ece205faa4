"""Workflows about people."""

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from . import audit, permissions, tokens
from .exceptions import MorgueError, NotAllowed
from .models import ApiToken, Profile, Role, Team, TeamMembership, TokenScope
from .roles import team_roles_for
from .timezones import is_time_zone

MAX_GROUP_NAME = Group._meta.get_field("name").max_length or 150

ENGINEERS_GROUP = "engineers"


@transaction.atomic
def create_person(
    *,
    username: str,
    email: str = "",
    display_name: str = "",
    time_zone: str = "UTC",
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    engineer: bool = True,
    password: str | None = None,
) -> Profile:
    """Create a person with their profile; engineers join the `engineers` group."""
    user = get_user_model().objects.create_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
    )
    if engineer:
        join_engineers(user)
    profile = Profile.objects.create(user=user, display_name=display_name, time_zone=time_zone)
    audit.record_created(user, extra={"groups": [ENGINEERS_GROUP] if engineer else []})
    return profile


# What the audit trail shows of a person's own settings.
PROFILE_FIELDS = ("display_name", "time_zone", "sleep_start", "sleep_end", "shift_reminder_minutes")


def join_engineers(user: User) -> None:
    group, _ = Group.objects.get_or_create(name=ENGINEERS_GROUP)
    user.groups.add(group)


@transaction.atomic
def update_profile(
    *,
    profile: Profile,
    email: str | None = None,
    display_name: str | None = None,
    time_zone: str | None = None,
    sleep_start: dt.time | None = None,
    sleep_end: dt.time | None = None,
    shift_reminder_minutes: int | None = None,
) -> Profile:
    """Change what a person may change about themselves."""
    before = {"email": profile.user.email, **audit.values(profile, PROFILE_FIELDS)}
    if email is not None and email != profile.user.email:
        profile.user.email = email
        profile.user.save(update_fields=["email"])
    for field, value in (
        ("display_name", display_name),
        ("time_zone", time_zone),
        ("sleep_start", sleep_start),
        ("sleep_end", sleep_end),
        ("shift_reminder_minutes", shift_reminder_minutes),
    ):
        if value is not None:
            setattr(profile, field, value)
    profile.full_clean()
    profile.save()
    audit.record_changes(
        profile, before=before, after={"email": profile.user.email, **audit.values(profile, PROFILE_FIELDS)}
    )
    return profile


@transaction.atomic
def reset_calendar_token(*, profile: Profile) -> str:
    """Give a person a new calendar-feed token, returned once; the old one stops working."""
    before = audit.values(profile, ["calendar_token_hash"])
    token = profile.reset_calendar_token()
    audit.record(
        audit.Action.TOKEN_RESET,
        profile,
        changes=audit.diff(before, audit.values(profile, ["calendar_token_hash"])),
        labels={"calendar_token_hash": "Calendar feed token"},
    )
    return token


# How long a new API token lasts, as people choose it; staff may also choose "never".
API_TOKEN_LIFETIMES_DAYS = (30, 90, 365)
API_TOKEN_LONGEST = dt.timedelta(days=max(API_TOKEN_LIFETIMES_DAYS))
EXPIRES_ON_DATE = "date"
EXPIRES_NEVER = "never"
API_TOKEN_EXPIRY_CHOICES = [
    *((str(days), f"In {days} days") for days in API_TOKEN_LIFETIMES_DAYS),
    (EXPIRES_ON_DATE, "On a date"),
    (EXPIRES_NEVER, "Never (staff only)"),
]


def api_token_expiry(*, expires: str, expires_on: dt.date | None, zone: ZoneInfo) -> dt.datetime | None:
    """When a token chosen to expire `expires` (days, "date" or "never") stops working; None is never.

    A date means the token works through that whole day on the person's wall clock.
    """
    if expires == EXPIRES_NEVER:
        return None
    if expires == EXPIRES_ON_DATE:
        if expires_on is None:
            raise MorgueError("Give the date the token expires on.", field="expires_on")
        if expires_on <= timezone.localdate(timezone.now(), zone):
            raise MorgueError("The token's expiry date must be after today.", field="expires_on")
        next_day = expires_on + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
    if expires.isdigit() and int(expires) in API_TOKEN_LIFETIMES_DAYS:
        return timezone.now() + dt.timedelta(days=int(expires))
    raise MorgueError(
        f"Choose when the token expires: {', '.join(value for value, _ in API_TOKEN_EXPIRY_CHOICES)}.",
        field="expires",
    )


@transaction.atomic
def create_api_token(
    *, owner: User, name: str, scope: str, expires_at: dt.datetime | None, made_with: ApiToken | None = None
) -> ApiToken:
    """Make an API token for `owner`; the returned object's `token` is the only copy of the secret.

    `expires_at` None (never) is for staff; others choose at most a year. A
    token made with another token (`made_with`) cannot outlive it.
    """
    now = timezone.now()
    name = name.strip()
    if not name:
        raise MorgueError("Give the token a name, e.g. the script that will use it.", field="name")
    if scope not in TokenScope.values:
        raise MorgueError(f"The scope is one of {', '.join(TokenScope.values)}.", field="scope")
    if expires_at is None and not owner.is_staff:
        raise NotAllowed("Only staff can make a token that never expires; choose when it expires.")
    if expires_at is not None:
        if expires_at <= now:
            raise MorgueError("The token's expiry must be in the future.", field="expires")
        if not owner.is_staff and expires_at > now + API_TOKEN_LONGEST + dt.timedelta(days=1):
            raise MorgueError(
                "A token lasts at most 365 days; make a new one when it expires.", field="expires"
            )
    if (
        made_with is not None
        and made_with.expires_at is not None
        and (expires_at is None or expires_at > made_with.expires_at)
    ):
        raise MorgueError(
            "A token made with another token cannot outlive it; choose an earlier expiry.",
            field="expires",
        )
    plain = tokens.new_token(label=tokens.API_TOKEN_LABEL)
    api_token = ApiToken.objects.create(
        owner=owner,
        name=name[:100],
        scope=scope,
        prefix=tokens.prefix_of(plain),
        secret_hash=tokens.hash_token(plain),
        created_at=now,
        expires_at=expires_at,
    )
    # The trail shows the prefix and a fingerprint of the hash, never the token.
    audit.record_created(api_token)
    api_token.token = plain
    return api_token


@transaction.atomic
def revoke_api_token(*, api_token: ApiToken) -> ApiToken:
    """Revoke an API token: requests carrying it are refused from now on."""
    api_token = ApiToken.objects.select_for_update().get(pk=api_token.pk)
    if api_token.revoked_at is not None:
        return api_token
    api_token.revoked_at = timezone.now()
    api_token.save(update_fields=["revoked_at"])
    audit.record(
        audit.Action.CHANGED,
        api_token,
        changes={"revoked_at": [None, audit.json_value(api_token.revoked_at)]},
        labels={"revoked_at": "Revoked at"},
    )
    return api_token


# Django groups that mirror a directory group carry this prefix: sign-in replaces
# exactly these on a person, and never touches a group given by hand in the admin.
# Roles map these names (for example "directory:sre") to what people may do.
DIRECTORY_GROUP_PREFIX = "directory:"


@transaction.atomic
def sync_directory_groups(*, user: User, names: Iterable[str]) -> set[str]:
    """Make the person's directory groups exactly `names` (prefixed); returns the Django group names."""
    wanted = {
        f"{DIRECTORY_GROUP_PREFIX}{name.strip()}"
        for name in names
        if name.strip() and len(DIRECTORY_GROUP_PREFIX) + len(name.strip()) <= MAX_GROUP_NAME
    }
    groups = user.groups
    current = set(groups.filter(name__startswith=DIRECTORY_GROUP_PREFIX).values_list("name", flat=True))
    stale = current - wanted
    if stale:
        groups.remove(*Group.objects.filter(name__in=stale))
    missing = wanted - current
    if missing:
        for name in missing:
            Group.objects.get_or_create(name=name)
        groups.add(*Group.objects.filter(name__in=missing))
    return wanted


@transaction.atomic
def sign_in_from_directory(
    *,
    user: User | None,
    username: str,
    email: str,
    display_name: str,
    time_zone: str | None,
    groups: Iterable[str] | None,
) -> Profile:
    """Create or refresh a person from what the directory says about them at sign-in.

    Email and display name follow the directory every time. The directory's time
    zone is taken when the person is created; afterwards their profile owns it
    (they may be travelling). `groups=None` leaves directory groups alone (the
    directory sent none); an empty list removes them all.
    """
    if user is None:
        profile = create_person(
            username=username,
            email=email,
            display_name=display_name,
            time_zone=time_zone if time_zone and is_time_zone(time_zone) else "UTC",
        )
    elif not Profile.objects.filter(user=user).exists():
        # An account the directory library has just saved itself (django-auth-ldap does).
        join_engineers(user)
        profile = Profile.objects.create(
            user=user,
            display_name=display_name,
            time_zone=time_zone if time_zone and is_time_zone(time_zone) else "UTC",
        )
    else:
        profile = Profile.objects.for_user(user)
        update_profile(
            profile=profile,
            email=email or None,
            display_name=display_name or None,
        )
    if groups is not None:
        sync_directory_groups(user=profile.user, names=groups)
        apply_group_roles(user=profile.user, names=groups)
    return profile


# --- Team members and their roles -------------------------------------------------------------


@transaction.atomic
def set_member_role(*, team: Team, user: User, role: str, by: User | None) -> TeamMembership:
    """Put a person in a team with a role, or change their role there (team managers and staff)."""
    if by is not None:
        permissions.require(by, "set_role", team)
    if role not in Role.values:
        raise MorgueError(f"{role!r} is not a role; a role is one of {', '.join(Role.values)}.", field="role")
    membership, created = TeamMembership.objects.select_for_update().get_or_create(
        team=team, user=user, defaults={"role": role}
    )
    if created:
        audit.record_created(membership, actor=by)
    elif membership.role != role or membership.from_directory:
        before = audit.values(membership, ["role", "from_directory"])
        membership.role = role
        # Set by hand, it is no longer the directory's to change at the next sign-in.
        membership.from_directory = False
        membership.save(update_fields=["role", "from_directory"])
        audit.record_changes(
            membership, before=before, after=audit.values(membership, ["role", "from_directory"])
        )
    permissions.forget_roles(user)
    return membership


@transaction.atomic
def remove_member(*, team: Team, user: User, by: User | None) -> None:
    """Take a person out of a team (team managers and staff)."""
    if by is not None:
        permissions.require(by, "set_role", team)
    for membership in TeamMembership.objects.filter(team=team, user=user):
        audit.record_deleted(membership, actor=by)
        membership.delete()
    permissions.forget_roles(user)


@transaction.atomic
def apply_group_roles(*, user: User, names: Iterable[str]) -> dict[str, str]:
    """Give the person the team roles their directory groups map to (MORGUE_GROUP_ROLES).

    Memberships the directory gave before and no longer gives are removed;
    memberships given by hand in teams the map does not name are left alone.
    Returns team slug → role as applied.
    """
    wanted = team_roles_for({name.strip() for name in names}, settings.MORGUE_GROUP_ROLES)
    teams = {team.slug: team for team in Team.objects.filter(slug__in=wanted)}
    applied: dict[str, str] = {}
    for slug, role in wanted.items():
        team = teams.get(slug)
        if team is None:  # a team the map names but Morgue does not have (yet)
            continue
        membership, created = TeamMembership.objects.get_or_create(
            team=team, user=user, defaults={"role": role, "from_directory": True}
        )
        if created:
            audit.record_created(membership, actor=user)
        elif membership.role != role or not membership.from_directory:
            before = audit.values(membership, ["role", "from_directory"])
            membership.role, membership.from_directory = role, True
            membership.save(update_fields=["role", "from_directory"])
            audit.record_changes(
                membership,
                before=before,
                after=audit.values(membership, ["role", "from_directory"]),
                actor=user,
            )
        applied[slug] = role
    for membership in TeamMembership.objects.filter(user=user, from_directory=True).exclude(
        team__slug__in=applied
    ):
        audit.record_deleted(membership, actor=user)
        membership.delete()
    permissions.forget_roles(user)
    return applied
