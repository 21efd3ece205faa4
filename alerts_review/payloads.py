"""Turn what alerting systems send into plain incoming alerts (no Django here).

Each parser returns a list of `Incoming` or `Refused` items, in the order the
payload gave them, so one bad alert in a batch is reported by its index and
the others are still stored.
"""

import datetime as dt
import re
from collections.abc import Mapping, Sized
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from morgue.validators import EARLIEST_YEAR, LATEST_YEAR, is_plausible

# The most alerts one request may carry; larger batches are refused whole.
MAX_BATCH = 500

UTC = dt.UTC
UTC_ZONE = ZoneInfo("UTC")
# Alertmanager's "no end time" and Go's zero time.
_ZERO_TIME_PREFIX = "0001-01-01"
_FRACTION = re.compile(r"(\.\d{6})\d+")
_LONGDATETIME = re.compile(
    r"^\w{3} (?P<month>\w{3}) +(?P<day>\d{1,2}) (?P<time>\d{1,2}:\d{2}:\d{2}) "
    r"(?P<zone>[A-Za-z+\-0-9]+) (?P<year>\d{4})$"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1
    )
}


class BadPayload(ValueError):
    """A payload, or one alert in it, that cannot be understood; the message names the field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Incoming:
    identity: str
    check: str
    fired_at: dt.datetime
    host: str = ""
    state: str = ""
    severity: str = ""
    summary: str = ""
    labels: dict[str, object] = field(default_factory=dict)
    resolved_at: dt.datetime | None = None
    team: str = ""
    # A recovery that only closes the open alert for this identity (Nagios).
    resolves_open: bool = False


@dataclass
class Refused:
    index: int
    detail: str


def parse_instant(value: object, *, name: str, zone: ZoneInfo = UTC_ZONE) -> dt.datetime:
    """An aware instant from ISO 8601, a UNIX timestamp, or Nagios' LONGDATETIME."""
    instant = _parse_instant(value, name=name, zone=zone)
    # Year 1 or 9999 cannot be shown in a zone on the wrong side of UTC.
    if not is_plausible(instant):
        raise BadPayload(
            f"{name} must be between {EARLIEST_YEAR} and {LATEST_YEAR}, not in {instant.year}.", field=name
        )
    return instant


def _parse_instant(value: object, *, name: str, zone: ZoneInfo) -> dt.datetime:
    if isinstance(value, bool) or value is None or value == "":
        raise BadPayload(f"{name} is missing.", field=name)
    if isinstance(value, int | float):
        return _from_unix(value, name)
    if not isinstance(value, str):
        raise BadPayload(f"{name} must be a timestamp, not {type(value).__name__}.", field=name)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_unix(float(text), name)
    match = _LONGDATETIME.match(text)
    if match:
        return _from_longdatetime(match, text, name, zone)
    try:
        instant = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("z", "Z")))
    except ValueError:
        raise BadPayload(
            f"{name} {value!r} is not a timestamp Morgue understands "
            "(ISO 8601 with an offset, a UNIX timestamp, or Nagios' LONGDATETIME).",
            field=name,
        ) from None
    if instant.tzinfo is None:
        raise BadPayload(f"{name} {value!r} has no UTC offset; add Z or +hh:mm.", field=name)
    return instant.astimezone(UTC)


def _from_unix(seconds: float, name: str) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayload(f"{name} {seconds} is out of range for a UNIX timestamp.", field=name) from None


def _from_longdatetime(match: re.Match[str], text: str, name: str, zone: ZoneInfo) -> dt.datetime:
    month = _MONTHS.get(match["month"])
    if month is None:
        raise BadPayload(f"{name} {text!r} has an unknown month.", field=name)
    hour, minute, second = (int(part) for part in match["time"].split(":"))
    try:
        wall = dt.datetime(int(match["year"]), month, int(match["day"]), hour, minute, second)
    except ValueError:
        raise BadPayload(f"{name} {text!r} is not a real date and time.", field=name) from None
    abbreviation = match["zone"]
    if abbreviation in ("UTC", "GMT", "Z"):
        return wall.replace(tzinfo=UTC)
    # Abbreviations such as EDT or IST are ambiguous on their own; trust one only
    # when it is what the source's own zone calls that wall-clock time.
    local = wall.replace(tzinfo=zone)
    if local.tzname() != abbreviation:
        raise BadPayload(
            f"{name} {text!r} is in {abbreviation}, which is not the source's time zone ({zone.key}); "
            "send $TIMET$ as well, or set the source's time zone.",
            field=name,
        )
    return local.astimezone(UTC)


def _check_batch(items: Sized) -> None:
    if len(items) > MAX_BATCH:
        raise BadPayload(
            f"A request may carry at most {MAX_BATCH} alerts; this one has {len(items)}. Send it in parts.",
            field="alerts",
        )


def _text(value: object, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def parse_alertmanager(payload: object) -> list[Incoming | Refused]:
    """The Alertmanager webhook (version 4), also as Grafana's webhook contact point sends it."""
    if not isinstance(payload, Mapping):
        raise BadPayload("The body must be an Alertmanager webhook object with an alerts list.")
    version = str(payload.get("version", "4"))
    if version not in ("4", "1"):
        raise BadPayload(
            f"Webhook version {version} is not supported; Alertmanager sends 4, Grafana 1.", field="version"
        )
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise BadPayload("alerts is missing or is not a list.", field="alerts")
    _check_batch(alerts)
    common_labels = payload.get("commonLabels")
    if not isinstance(common_labels, Mapping):
        common_labels = {}
    out: list[Incoming | Refused] = []
    for index, alert in enumerate(alerts):
        try:
            out.append(_alertmanager_alert(alert, common_labels))
        except BadPayload as error:
            out.append(Refused(index, error.message))
    return out


def _alertmanager_alert(alert: object, common_labels: Mapping[str, object]) -> Incoming:
    if not isinstance(alert, Mapping):
        raise BadPayload("must be an object.")
    labels = alert.get("labels")
    if not isinstance(labels, Mapping):
        raise BadPayload("labels is missing or is not an object.", field="labels")
    labels = {**common_labels, **labels}
    check = labels.get("alertname")
    if not check:
        raise BadPayload("labels.alertname is missing.", field="labels.alertname")
    fired_at = parse_instant(alert.get("startsAt"), name="startsAt")
    status = str(alert.get("status") or "firing")
    if status not in ("firing", "resolved"):
        raise BadPayload(f"status {status!r} is neither firing nor resolved.", field="status")
    resolved_at = None
    ends_at = alert.get("endsAt")
    # A firing alert's endsAt is only Alertmanager's guess at when it times out.
    if status == "resolved" and ends_at and not str(ends_at).startswith(_ZERO_TIME_PREFIX):
        resolved_at = parse_instant(ends_at, name="endsAt")
    annotations = alert.get("annotations")
    if not isinstance(annotations, Mapping):
        annotations = {}
    identity = alert.get("fingerprint") or _label_identity(labels)
    return Incoming(
        identity=_text(identity, 255),
        check=_text(check, 200),
        fired_at=fired_at,
        host=_text(labels.get("instance") or labels.get("host") or "", 255),
        state=status,
        severity=_text(labels.get("severity") or "", 40),
        summary=str(annotations.get("summary") or annotations.get("description") or ""),
        labels=dict(labels),
        resolved_at=resolved_at,
        team=_text(labels.get("team") or "", 50),
    )


def _label_identity(labels: Mapping[str, object]) -> str:
    # Alertmanager's own fingerprint is a hash of the sorted label set.
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def parse_nagios(fields: object, *, zone: ZoneInfo = UTC_ZONE) -> Incoming | None:
    """One Nagios notification (its macros as form fields or JSON); None when it changes nothing.

    PROBLEM opens an alert; RECOVERY closes the open one for the same host and
    service; acknowledgements, flapping and downtime notices are not alerts.
    `zone` reads a LONGDATETIME that is not in UTC; $TIMET$ needs no zone.
    """
    if not isinstance(fields, Mapping):
        raise BadPayload("The body must be the Nagios notification macros as form fields or a JSON object.")
    kind = str(fields.get("NOTIFICATIONTYPE") or "").upper()
    if not kind:
        raise BadPayload("NOTIFICATIONTYPE is missing.", field="NOTIFICATIONTYPE")
    host = str(fields.get("HOSTNAME") or "")
    if not host:
        raise BadPayload("HOSTNAME is missing.", field="HOSTNAME")
    if kind not in ("PROBLEM", "RECOVERY"):
        return None
    service = str(fields.get("SERVICEDESC") or "")
    name = "TIMET" if fields.get("TIMET") else "LONGDATETIME"
    at = parse_instant(fields.get(name), name=name, zone=zone)
    state = fields.get("SERVICESTATE") if service else fields.get("HOSTSTATE")
    output = fields.get("SERVICEOUTPUT") if service else fields.get("HOSTOUTPUT")
    labels: dict[str, object] = {
        key: str(value) for key, value in fields.items() if key.isupper() and value not in (None, "")
    }
    return Incoming(
        identity=f"{host}/{service}"[:255],
        check=(service or "Host check")[:200],
        fired_at=at,
        host=host[:255],
        state=_text(state, 40),
        summary=_text(output, 10_000),
        labels=labels,
        resolved_at=at if kind == "RECOVERY" else None,
        team=_text(fields.get("TEAM"), 50),
        resolves_open=kind == "RECOVERY",
    )


GENERIC_FIELDS = {
    "identity",
    "check",
    "host",
    "state",
    "severity",
    "summary",
    "labels",
    "fired_at",
    "resolved_at",
    "team",
}


def parse_generic(payload: object) -> list[Incoming | Refused]:
    """Morgue's own format: one alert object, a list of them, or {"alerts": [...]}."""
    if isinstance(payload, Mapping) and isinstance(payload.get("alerts"), list):
        items = payload["alerts"]
    elif isinstance(payload, Mapping):
        items = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        raise BadPayload("The body must be an alert object or a list of them.")
    if not items:
        raise BadPayload("The list of alerts is empty.", field="alerts")
    _check_batch(items)
    out: list[Incoming | Refused] = []
    for index, item in enumerate(items):
        try:
            out.append(generic_alert(item))
        except BadPayload as error:
            out.append(Refused(index, error.message))
    return out


def generic_alert(item: object) -> Incoming:
    """One alert in Morgue's generic format (also a CSV row)."""
    if not isinstance(item, Mapping):
        raise BadPayload("must be an object.")
    unknown = sorted(set(item) - GENERIC_FIELDS)
    if unknown:
        raise BadPayload(
            f"Unknown field {', '.join(unknown)}; the fields are {', '.join(sorted(GENERIC_FIELDS))}."
        )
    check = str(item.get("check") or "").strip()
    if not check:
        raise BadPayload("check is missing.", field="check")
    fired_at = parse_instant(item.get("fired_at"), name="fired_at")
    resolved_at = None
    if item.get("resolved_at") not in (None, ""):
        resolved_at = parse_instant(item["resolved_at"], name="resolved_at")
        if resolved_at < fired_at:
            raise BadPayload("resolved_at is before fired_at.", field="resolved_at")
    labels = item.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise BadPayload("labels must be an object.", field="labels")
    host = _text(item.get("host"), 255)
    identity = str(item.get("identity") or "").strip() or f"{host}/{check}"
    return Incoming(
        identity=identity[:255],
        check=check[:200],
        fired_at=fired_at,
        host=host,
        state=_text(item.get("state") or ("resolved" if resolved_at else "firing"), 40),
        severity=_text(item.get("severity"), 40),
        summary=_text(item.get("summary"), 10_000),
        labels=dict(labels),
        resolved_at=resolved_at,
        team=_text(item.get("team") or labels.get("team") or "", 50),
    )
