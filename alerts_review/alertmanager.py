"""The edge to an Alertmanager's API v2: silences, with a timeout, only to addresses allowed.

An alert source's Alertmanager URL is typed by people, so it is checked like
any outbound address (no SSRF): private, loopback and link-local addresses are
refused unless an administrator listed the host (or host:port) in
ALERTMANAGER_ALLOWED_HOSTS.
"""

import datetime as dt
import http.client
import json
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from morgue import outbound

TIMEOUT_SECONDS = 5
CREATED_BY = "morgue"


class AlertmanagerRefused(Exception):
    """The URL may not be called (not http(s), or inside the private network and not allowed)."""


class AlertmanagerUnavailable(OSError):
    """Alertmanager answered with an error; OSError, so the tasks retry it like a timeout."""


def _address(url: str) -> tuple[outbound.Target, str]:
    """The URL's parts and the one checked address to connect to (resolved once, then pinned)."""
    try:
        target = outbound.split(url)
    except outbound.AddressRefused as error:
        raise AlertmanagerRefused(f"{url}: {error}") from None
    host = target.host.lower()
    allowed = {item.lower() for item in settings.ALERTMANAGER_ALLOWED_HOSTS}
    try:
        if host in allowed or f"{host}:{target.port}" in allowed:
            return target, str(outbound.lookup(host, target.port)[0])
        return target, outbound.resolve(host, target.port)
    except outbound.PrivateAddress:
        raise AlertmanagerRefused(
            f"{host} points inside the private network; an administrator may allow it "
            "in ALERTMANAGER_ALLOWED_HOSTS."
        ) from None
    except outbound.OutboundError as error:
        raise AlertmanagerRefused(f"{host} does not resolve.") from error


def check_address(url: str) -> None:
    """Refuse URLs that are not http(s), or point inside the private network without being allowed."""
    _address(url)


def validate_alertmanager_url(url: str) -> None:
    """Model and form validator for an alert source's Alertmanager URL."""
    if not url:
        return
    try:
        check_address(url)
    except AlertmanagerRefused as error:
        raise ValidationError(str(error)) from None


def _call(base: str, method: str, path: str, body: Any = None) -> Any:
    """One API call to the checked address itself; a redirect is an error, never followed."""
    target, address = _address(base.rstrip("/") + path)
    connection = outbound.pinned_connection(target, address, TIMEOUT_SECONDS)
    try:
        connection.request(
            method,
            target.path,
            body=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "Morgue"},
        )
        response = connection.getresponse()
        content = response.read()
    except http.client.HTTPException as error:
        raise AlertmanagerUnavailable(f"Alertmanager's answer to {method} {path} was not HTTP.") from error
    finally:
        connection.close()
    if response.status >= 300:
        raise AlertmanagerUnavailable(f"Alertmanager answered {method} {path} with {response.status}.")
    return json.loads(content) if content.strip() else None


def matchers(labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every label, equal and literal: the silence covers this alert and no other."""
    return [
        {"name": name, "value": str(value), "isEqual": True, "isRegex": False}
        for name, value in sorted(labels.items())
    ]


def find_silence(base: str, *, labels: dict[str, str], comment: str) -> dict | None:
    """Our silence for these labels with this comment that is not expired, if an earlier try created it."""
    query = urllib.parse.urlencode(
        [("filter", f"{name}={json.dumps(str(value))}") for name, value in sorted(labels.items())]
    )
    wanted = sorted((item["name"], item["value"]) for item in matchers(labels))
    for silence in _call(base, "GET", f"/api/v2/silences?{query}") or []:
        found = sorted((item["name"], item["value"]) for item in silence.get("matchers", []))
        if (
            silence.get("createdBy") == CREATED_BY
            and silence.get("comment") == comment
            and silence.get("status", {}).get("state") != "expired"
            and found == wanted
        ):
            return silence
    return None


def put_silence(
    base: str,
    *,
    labels: dict[str, str],
    comment: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    silence_id: str = "",
) -> str:
    """Create a silence (or, with its id, move its end); Alertmanager's silence id."""
    body: dict[str, Any] = {
        "matchers": matchers(labels),
        "startsAt": starts_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "endsAt": ends_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "createdBy": CREATED_BY,
        "comment": comment,
    }
    if silence_id:
        body["id"] = silence_id
    answer = _call(base, "POST", "/api/v2/silences", body)
    return str(answer["silenceID"])


def expire_silence(base: str, silence_id: str) -> None:
    """Expire a silence; one already expired (or gone) is fine."""
    try:
        _call(base, "DELETE", f"/api/v2/silence/{urllib.parse.quote(silence_id)}")
    except AlertmanagerUnavailable:
        try:
            silence = _call(base, "GET", f"/api/v2/silence/{urllib.parse.quote(silence_id)}")
        except AlertmanagerUnavailable:
            raise
        if (silence or {}).get("status", {}).get("state") != "expired":
            raise


def active_fingerprints(base: str) -> set[str]:
    """The fingerprints of the alerts Alertmanager has active, silenced and inhibited ones included."""
    query = "active=true&silenced=true&inhibited=true&unprocessed=true"
    return {str(alert["fingerprint"]) for alert in _call(base, "GET", f"/api/v2/alerts?{query}") or []}
