"""The audit trail: one append-only table of every change, recorded by the services.

A service calls `record(...)` once per workflow; who, from where and which
request come from a context a middleware sets (`AuditMiddleware`), so no
service needs the request. Celery tasks carry the enqueuing person and address
in their message headers (morgue/celery.py); anything else is "system".
Sign-ins and failed sign-ins come from django.contrib.auth's own signals.
"""

import contextvars
import datetime as dt
import decimal
import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from morgue.logs import request_id

if TYPE_CHECKING:  # morgue/celery.py imports this module before the apps are loaded
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from morgue.models import AuditEntry


class Action(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    RESTORED = "restored", "Restored"
    SIGNED_IN = "signed in", "Signed in"
    SIGN_IN_FAILED = "sign-in failed", "Sign-in failed"
    TOKEN_RESET = "token reset", "Token reset"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CLASSIFIED = "classified", "Classified"


@dataclass(frozen=True)
class Origin:
    """Who is acting and from where: the signed-in person of a request, or a task's enqueuer."""

    user_id: int | None = None
    user_label: str = ""
    ip: str | None = None
    request: HttpRequest | None = None

    def who(self) -> tuple[int | None, str]:
        # A request's person is read when recording: a sign-in changes it mid-request.
        if self.request is not None:
            user = getattr(self.request, "user", None)
            if user is not None and user.is_authenticated:
                return user.pk, user.get_username()
            return None, ""
        return self.user_id, self.user_label


# The Celery message header carrying [user id, user name, address] (morgue/celery.py).
ACTOR_HEADER = "morgue_actor"

current: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("morgue_audit_origin", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address they saw.

    Each proxy appends the address it was reached from to X-Forwarded-For, so
    only the entry the nearest trusted proxy wrote can be believed; anything to
    its left was sent by the client.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditMiddleware:
    """Lets services record who is acting, from where, without being handed the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current.set(Origin(ip=client_ip(request), request=request))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)


@contextmanager
def acting_as(user: Any | None, *, ip: str | None = None) -> Iterator[None]:
    """Record what runs inside as done by `user` (None: the system), e.g. in a task or a command."""
    if user is not None and getattr(user, "is_authenticated", False):
        origin = Origin(user_id=user.pk, user_label=user.get_username(), ip=ip)
    else:
        origin = Origin(ip=ip)
    token = current.set(origin)
    try:
        yield
    finally:
        current.reset(token)


def origin_headers() -> dict[str, Any]:
    """The acting person and address, for the headers of a task enqueued now (morgue/celery.py)."""
    origin = current.get()
    if origin is None:
        return {}
    user_id, user_label = origin.who()
    if user_id is None and origin.ip is None:
        return {}
    return {ACTOR_HEADER: [user_id, user_label, origin.ip]}


def adopt_headers(value: Any) -> contextvars.Token[Origin | None]:
    """In a worker, act as whoever enqueued the task (their headers), else as the system.

    Returns the token that puts back what was acting before, once the task is done.
    """
    if isinstance(value, list | tuple) and len(value) == 3:
        user_id, user_label, ip = value
        return current.set(Origin(user_id=user_id, user_label=str(user_label or ""), ip=ip))
    # No header: a task applied in-process keeps whoever is acting; a worker has nobody (the system).
    return current.set(current.get())


def json_value(value: Any) -> Any:
    """A field's value as JSON: times in ISO 8601 (UTC), related objects by their label."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_value(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# Fields whose values must never be written to the trail; a change shows as a new fingerprint.
SECRET_WORDS = ("token", "password", "secret")


def fingerprint(value: Any) -> str | None:
    """A short one-way mark of a secret: enough to see it changed, useless for using it."""
    if value in (None, ""):
        return None
    return "hidden:" + hashlib.sha256(str(value).encode()).hexdigest()[:8]


def concrete_fields(model: type[models.Model]) -> list[str]:
    """Every stored field but the primary key."""
    return [field.name for field in model._meta.concrete_fields if not field.primary_key]


def values(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The named fields (every stored one by default) as JSON values; a foreign key by its object's label."""
    state: dict[str, Any] = {}
    for name in concrete_fields(type(instance)) if fields is None else fields:
        field = instance._meta.get_field(name)
        if any(word in name for word in SECRET_WORDS):
            state[name] = fingerprint(getattr(instance, name))
        elif isinstance(field, models.ForeignKey):
            # By the id first: a missing related row costs no query.
            state[name] = (
                str(getattr(instance, name)) if getattr(instance, field.attname) is not None else None
            )
        else:
            state[name] = json_value(getattr(instance, name))
    return state


def field_labels(model: type[models.Model], fields: Iterable[str]) -> dict[str, str]:
    """What people call each field: its verbose name, capitalised."""
    labels = {}
    for name in fields:
        verbose = getattr(model._meta.get_field(name), "verbose_name", name)
        labels[name] = str(verbose)[:1].upper() + str(verbose)[1:]
    return labels


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field whose value differs (a missing field is None)."""
    changes = {}
    for name in [*before, *(name for name in after if name not in before)]:
        old, new = json_value(before.get(name)), json_value(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def record(
    action: str,
    target: models.Model | None = None,
    *,
    kind: str = "",
    object_id: Any = "",
    label: str = "",
    changes: Mapping[str, list[Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    actor: "AbstractBaseUser | AnonymousUser | None" = None,
) -> "AuditEntry":
    """Append one entry: `action` on `target` (or on kind/object_id/label), with the fields' changes.

    The actor is the current request's person or task's enqueuer unless given.
    """
    from morgue.models import AuditEntry

    origin = current.get() or Origin()
    if actor is not None:
        actor_id, actor_label = (actor.pk, actor.get_username()) if actor.is_authenticated else (None, "")
    else:
        actor_id, actor_label = origin.who()
    if target is not None:
        kind = kind or target._meta.label_lower
        object_id = object_id or target.pk
        label = label or str(target)
    changes = dict(changes or {})
    return AuditEntry.objects.create(
        actor_id=actor_id,
        actor_label=actor_label[:150],
        at=timezone.now(),
        ip=origin.ip,
        request_id=(request_id.get() or "")[:64],
        action=action,
        kind=kind,
        object_id="" if object_id is None else str(object_id)[:64],
        object_label=label[:200],
        changes=changes,
        labels={name: text for name, text in (labels or {}).items() if name in changes},
    )


def record_changes(
    target: models.Model,
    *,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    action: str = Action.CHANGED,
    actor: "AbstractBaseUser | AnonymousUser | None" = None,
) -> "AuditEntry | None":
    """Record an edit of `target` when it changed anything; None when it did not."""
    changes = diff(before, after)
    if not changes:
        return None
    if labels is None:
        labels = field_labels(type(target), [name for name in changes if _is_field(type(target), name)])
    return record(action, target, changes=changes, labels=labels, actor=actor)


def record_created(
    target: models.Model,
    *,
    extra: Mapping[str, Any] | None = None,
    actor: "AbstractBaseUser | AnonymousUser | None" = None,
) -> "AuditEntry":
    """Record that `target` was made, with each stored field's first value (and `extra`, e.g. members)."""
    after = {**values(target), **(extra or {})}
    changes = diff({}, after)
    labels = field_labels(type(target), [name for name in changes if _is_field(type(target), name)])
    return record(Action.CREATED, target, changes=changes, labels=labels, actor=actor)


def record_deleted(
    target: models.Model, *, actor: "AbstractBaseUser | AnonymousUser | None" = None
) -> "AuditEntry":
    """Record that `target` is about to be removed, with each stored field's last value."""
    before = values(target)
    changes = diff(before, {})
    labels = field_labels(type(target), [name for name in changes if _is_field(type(target), name)])
    return record(Action.DELETED, target, changes=changes, labels=labels, actor=actor)


def _is_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def record_sign_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    """django.contrib.auth's user_logged_in: the person who signed in, from where."""
    with _request_origin(request):
        record(Action.SIGNED_IN, user, actor=user)


def record_failed_sign_in(
    sender: Any,
    credentials: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """django.contrib.auth's user_login_failed: the name tried (never the password), from where."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    username = str((credentials or {}).get(User.USERNAME_FIELD, ""))[:150]
    person = User.objects.filter(**{User.USERNAME_FIELD: username}).only("pk").first() if username else None
    with _request_origin(request):
        record(
            Action.SIGN_IN_FAILED,
            kind=User._meta.label_lower,
            object_id=person.pk if person is not None else "",
            label=username,
        )


@contextmanager
def _request_origin(request: HttpRequest | None) -> Iterator[None]:
    # The admin's and API's sign-ins may run outside AuditMiddleware's context (a test client's login()).
    if request is None or current.get() is not None:
        yield
        return
    token = current.set(Origin(ip=client_ip(request), request=request))
    try:
        yield
    finally:
        current.reset(token)
