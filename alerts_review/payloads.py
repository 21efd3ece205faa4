"""Turn what alerting systems send into plain incoming alerts (no Django here).

Each parser returns a list of `Incoming` or `Refused` items, in the order the
payload gave them, so one bad alert in a batch is reported by its index and
the others are still stored. There is no cap on the number of alerts: the
request body's size is the limit (DATA_UPLOAD_MAX_MEMORY_SIZE), because
Alertmanager does not retry a refused group and an alert storm would be lost.

Every text an alert carries is made storable here (see `storable`): NUL and
lone surrogates, which JSON may escape and PostgreSQL or UTF-8 refuse, are
replaced, so one odd character never loses a batch.
"""

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from zoneinfo import ZoneInfo

from morgue.validators import EARLIEST_YEAR, LATEST_YEAR, is_plausible

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


# NUL (PostgreSQL refuses it in text and JSON) and UTF-16 surrogates (UTF-8 cannot
# encode one; JSON's "\ud800" escape makes them) become U+FFFD, the replacement character.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(value: object) -> object:
    """A JSON value with every string made storable and non-finite numbers (1e999) as text."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(storable(str(key))): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


class BadPayload(ValueError):
    """A payload, or one alert in it, that cannot be understood; the message names the field."""

    def __init__(self, message: str, *, field: str | None = None):
        message = _UNSTORABLE.sub(REPLACEMENT, message)
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
    # A recovery that only closes the open alerts for this identity (Nagios, Icinga 2).
    resolves_open: bool = False
    # Nagios' problem id: every notification of one problem is one alert.
    problem_id: str = ""
    # A notification numbered above 1: the open alert's problem again.
    renotification: bool = False
    # A sender's "test this contact point" notification, kept out of the report.
    is_test: bool = False

    def __post_init__(self) -> None:
        for each in fields(self):
            value = getattr(self, each.name)
            if isinstance(value, str | dict):
                setattr(self, each.name, storable(value))


@dataclass
class Refused:
    index: int
    detail: str

    def __post_init__(self) -> None:
        self.detail = _UNSTORABLE.sub(REPLACEMENT, self.detail)


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
    try:
        return instant.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last instant Python has
        raise BadPayload(f"{name} {value!r} is out of range.", field=name) from None


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
    # when it is what the source's own zone calls that wall-clock time. The hour
    # a clock falls back repeats (01:30 EDT, then 01:30 EST): the abbreviation
    # names which of the two folds it is.
    for fold in (0, 1):
        local = wall.replace(tzinfo=zone, fold=fold)
        if local.tzname() == abbreviation:
            return local.astimezone(UTC)
    raise BadPayload(
        f"{name} {text!r} is in {abbreviation}, which is not the source's time zone ({zone.key}); "
        "send $TIMET$ as well, or set the source's time zone.",
        field=name,
    )


def _text(value: object, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def parse_alertmanager(payload: object, *, received_at: dt.datetime) -> list[Incoming | Refused]:
    """The Alertmanager webhook (version 4), also as Grafana's webhook contact point sends it.

    `received_at` is the resolved time of a `resolved` alert that gives none.
    """
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
    common_labels = payload.get("commonLabels")
    if not isinstance(common_labels, Mapping):
        common_labels = {}
    out: list[Incoming | Refused] = []
    for index, alert in enumerate(alerts):
        try:
            out.append(_alertmanager_alert(alert, common_labels, received_at))
        except BadPayload as error:
            out.append(Refused(index, error.message))
    return out


def truncated_alerts(payload: object) -> int:
    """How many alerts Alertmanager left out of this notification (its webhook's max_alerts)."""
    count = payload.get("truncatedAlerts") if isinstance(payload, Mapping) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return 0
    return min(count, 2**31 - 1)


# Grafana replaces a rule's alertname with one of these when its query returns
# no data or fails, and moves the rule's title to the `rulename` label:
# grafana/grafana pkg/services/ngalert/state/compat.go (noDataAlert, errorAlert).
GRAFANA_STAND_INS = {"DatasourceNoData": "no data", "DatasourceError": "query failed"}


def _alertmanager_alert(
    alert: object, common_labels: Mapping[str, object], received_at: dt.datetime
) -> Incoming:
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
    if status == "resolved":
        if ends_at in (None, "") or str(ends_at).startswith(_ZERO_TIME_PREFIX):
            # Resolved with no end time (Go's zero time): it ended by the time it arrived.
            resolved_at = max(received_at, fired_at)
        else:
            resolved_at = parse_instant(ends_at, name="endsAt")
    annotations = alert.get("annotations")
    if not isinstance(annotations, Mapping):
        annotations = {}
    summary = annotations.get("summary") or annotations.get("description") or ""
    stand_in = GRAFANA_STAND_INS.get(str(check))
    if stand_in and labels.get("rulename"):
        # Each rule's no-data or error alert is that rule's own check.
        check = labels["rulename"]
        summary = summary or f"{check}: {stand_in}"
    identity = alert.get("fingerprint") or _label_identity(labels)
    return Incoming(
        identity=_text(identity, 255),
        check=_text(check, 200),
        fired_at=fired_at,
        host=_text(labels.get("instance") or labels.get("host") or "", 255),
        state=status,
        severity=_text(labels.get("severity") or "", 40),
        summary=str(summary),
        labels=dict(labels),
        resolved_at=resolved_at,
        team=_text(labels.get("team") or "", 50),
        is_test=_is_grafana_test(labels),
    )


def _is_grafana_test(labels: Mapping[str, object]) -> bool:
    # A contact point's "Test" button sends one alert with these default labels:
    # grafana/alerting notify/receivers.go (newTestAlert).
    return labels.get("alertname") == "TestAlert" and labels.get("instance") == "Grafana"


def _label_identity(labels: Mapping[str, object]) -> str:
    # Alertmanager's own fingerprint is a hash of the sorted label set.
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def parse_nagios(fields: object, *, zone: ZoneInfo = UTC_ZONE) -> Incoming | None:
    """One Nagios or Icinga 2 notification (its macros as form fields or JSON); None when it changes nothing.

    PROBLEM opens an alert, or updates the open one of the same problem
    (Nagios' SERVICEPROBLEMID / HOSTPROBLEMID, or a NOTIFICATIONNUMBER above 1);
    RECOVERY closes the open ones for the same host and service;
    acknowledgements, flapping and downtime notices are not alerts. Icinga 2's
    shipped notification commands name the service SERVICENAME where Nagios
    says SERVICEDESC. `zone` reads a LONGDATETIME with a zone abbreviation
    (Nagios); Icinga 2's carries its offset, and $TIMET$ needs no zone.
    """
    if not isinstance(fields, Mapping):
        raise BadPayload("The body must be the Nagios notification macros as form fields or a JSON object.")
    kind = _text(fields.get("NOTIFICATIONTYPE"), 40).strip().upper()
    if not kind:
        raise BadPayload("NOTIFICATIONTYPE is missing.", field="NOTIFICATIONTYPE")
    host = _text(fields.get("HOSTNAME"), 255).strip()
    if not host:
        raise BadPayload("HOSTNAME is missing.", field="HOSTNAME")
    if kind not in ("PROBLEM", "RECOVERY"):
        return None
    service = _text(fields.get("SERVICEDESC") or fields.get("SERVICENAME"), 200).strip()
    if not service and _text(fields.get("SERVICESTATE"), 40).strip():
        # A service notification whose service went missing must not become a host check.
        raise BadPayload(
            "SERVICESTATE is given but no service: send SERVICEDESC (Nagios' $SERVICEDESC$) "
            "or SERVICENAME (Icinga 2's $service.name$).",
            field="SERVICEDESC",
        )
    name = "TIMET" if fields.get("TIMET") else "LONGDATETIME"
    at = parse_instant(fields.get(name), name=name, zone=zone)
    state = fields.get("SERVICESTATE") if service else fields.get("HOSTSTATE")
    output = fields.get("SERVICEOUTPUT") if service else fields.get("HOSTOUTPUT")
    labels: dict[str, object] = {
        str(key): str(value)
        for key, value in fields.items()
        if str(key).isupper() and value not in (None, "")
    }
    # The problem id is 0 when there is none (Nagios' macro list): on a
    # recovery, the problem that ended is the LAST… one.
    scope = "SERVICE" if service else "HOST"
    problem_id = _problem_id(
        fields.get(f"LAST{scope}PROBLEMID" if kind == "RECOVERY" else f"{scope}PROBLEMID")
    )
    return Incoming(
        identity=f"{host}/{service}"[:255],
        check=(service or "Host check")[:200],
        fired_at=at,
        host=host,
        state=_text(state, 40),
        summary=_text(output, 10_000),
        labels=labels,
        resolved_at=at if kind == "RECOVERY" else None,
        team=_text(fields.get("TEAM"), 50),
        resolves_open=kind == "RECOVERY",
        problem_id=problem_id,
        renotification=kind == "PROBLEM" and _number(fields, scope) > 1,
    )


def _problem_id(value: object) -> str:
    text = _text(value, 40).strip()
    return "" if text in ("", "0") else text


def _number(fields: Mapping[str, object], scope: str) -> int:
    # Nagios 4 documents $SERVICENOTIFICATIONNUMBER$ / $HOSTNOTIFICATIONNUMBER$ and
    # keeps $NOTIFICATIONNUMBER$ for older commands; the README sends the first as the last.
    value = fields.get("NOTIFICATIONNUMBER") or fields.get(f"{scope}NOTIFICATIONNUMBER")
    text = _text(value, 20).strip()
    return int(text) if text.isdigit() else 0


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
