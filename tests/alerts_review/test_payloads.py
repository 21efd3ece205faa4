import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts_review.payloads import (
    BadPayload,
    Incoming,
    Refused,
    parse_alertmanager,
    parse_generic,
    parse_instant,
    parse_nagios,
    truncated_alerts,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


def test_go_timestamps_with_nanoseconds_and_z_are_read():
    assert parse_instant("2026-10-03T02:14:07.311123456Z", name="startsAt") == dt.datetime(
        2026, 10, 3, 2, 14, 7, 311123, tzinfo=UTC
    )


def test_offsets_are_converted_to_utc():
    assert parse_instant("2026-10-11T14:02:00-04:00", name="startsAt") == dt.datetime(
        2026, 10, 11, 18, 2, tzinfo=UTC
    )


def test_unix_timestamps_are_read_as_numbers_or_text():
    assert parse_instant(1791011564, name="TIMET") == parse_instant("1791011564", name="TIMET")
    assert parse_instant("1791011564", name="TIMET") == dt.datetime(2026, 10, 3, 7, 12, 44, tzinfo=UTC)


def test_nagios_longdatetime_in_utc_is_read():
    assert parse_instant("Sat Oct 3 03:12:44 UTC 2026", name="LONGDATETIME") == dt.datetime(
        2026, 10, 3, 3, 12, 44, tzinfo=UTC
    )


def test_nagios_longdatetime_in_the_sources_zone_is_read():
    instant = parse_instant(
        "Sat Oct 3 03:12:44 EDT 2026", name="LONGDATETIME", zone=ZoneInfo("America/New_York")
    )
    assert instant == dt.datetime(2026, 10, 3, 7, 12, 44, tzinfo=UTC)


def test_nagios_longdatetime_in_a_foreign_zone_is_refused():
    with pytest.raises(BadPayload, match="EDT, which is not the source's time zone"):
        parse_instant("Sat Oct 3 03:12:44 EDT 2026", name="LONGDATETIME")


@pytest.mark.parametrize("value", ["yesterday", "2026-10-03 02:14", "03/10/2026", [], True])
def test_timestamps_in_unknown_formats_are_refused_naming_the_field(value):
    with pytest.raises(BadPayload) as error:
        parse_instant(value, name="startsAt")
    assert error.value.field == "startsAt"


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_unix_timestamps_round_trip(seconds):
    assert parse_instant(str(seconds), name="t").timestamp() == seconds


def test_alertmanager_sample_gives_one_incoming_alert_per_alert(sample):
    import json

    items = parse_alertmanager(json.loads(sample("alertmanager-firing.json")), received_at=NOW)
    assert [item.identity for item in items] == ["6f1c0b7e2a9d4c31", "a03d5e81c4f27b90"]
    first = items[0]
    assert isinstance(first, Incoming)
    assert (first.check, first.host, first.team, first.severity) == (
        "DiskSpaceLow",
        "db12:9100",
        "ops",
        "warning",
    )
    assert first.summary == "Disk space below 10% on db12"
    assert first.resolved_at is None


def test_alertmanager_resolved_sample_carries_the_end_time(sample):
    import json

    (item,) = parse_alertmanager(json.loads(sample("alertmanager-resolved.json")), received_at=NOW)
    assert item.state == "resolved"
    assert item.resolved_at is not None and item.resolved_at > item.fired_at


def test_grafana_webhook_is_read_like_alertmanager(sample):
    import json

    (item,) = parse_alertmanager(json.loads(sample("grafana-webhook.json")), received_at=NOW)
    assert (item.check, item.team, item.identity) == ("CheckoutErrorRate", "payments", "d4e5f60718293a4b")
    assert item.fired_at == dt.datetime(2026, 10, 11, 18, 2, tzinfo=UTC)


def test_a_bad_alert_in_a_batch_is_refused_by_index():
    payload = {
        "version": "4",
        "alerts": [
            {"labels": {"alertname": "A"}, "startsAt": "2026-10-03T02:14:07Z"},
            {"labels": {}, "startsAt": "2026-10-03T02:14:07Z"},
            {"labels": {"alertname": "C"}, "startsAt": "last tuesday"},
        ],
    }
    items = parse_alertmanager(payload, received_at=NOW)
    assert isinstance(items[0], Incoming)
    assert items[1] == Refused(1, "labels.alertname is missing.")
    assert isinstance(items[2], Refused) and "startsAt" in items[2].detail


def test_nagios_sample_problem_opens_an_alert(sample):
    fields = dict(
        line.split("=", 1)
        for line in sample("nagios-notification.txt").splitlines()
        if "=" in line and not line.startswith("#")
    )
    item = parse_nagios(fields)
    assert (item.identity, item.check, item.host, item.state) == (
        "web042/Apache Busy Workers",
        "Apache Busy Workers",
        "web042",
        "CRITICAL",
    )
    # $TIMET$ is unambiguous, so it wins over LONGDATETIME (which here disagrees by four hours).
    assert item.fired_at == dt.datetime(2026, 10, 3, 7, 12, 44, tzinfo=UTC)
    assert not item.resolves_open
    del fields["TIMET"]
    assert parse_nagios(fields).fired_at == dt.datetime(2026, 10, 3, 3, 12, 44, tzinfo=UTC)


def test_nagios_acknowledgements_are_not_alerts():
    assert parse_nagios({"NOTIFICATIONTYPE": "ACKNOWLEDGEMENT", "HOSTNAME": "web042", "TIMET": "1"}) is None


def test_nagios_host_problems_use_the_host_state():
    item = parse_nagios(
        {
            "NOTIFICATIONTYPE": "PROBLEM",
            "HOSTNAME": "web042",
            "HOSTSTATE": "DOWN",
            "HOSTOUTPUT": "PING CRITICAL",
            "TIMET": "1791011564",
        }
    )
    assert (item.check, item.state, item.identity) == ("Host check", "DOWN", "web042/")


def test_generic_alerts_without_identity_use_host_and_check():
    (item,) = parse_generic({"check": "Backups", "host": "nas1", "fired_at": "2026-10-03T02:00:00Z"})
    assert item.identity == "nas1/Backups"


def test_generic_alerts_with_unknown_fields_are_refused():
    (item,) = parse_generic([{"check": "Backups", "fired_at": 0, "colour": "red"}])
    assert isinstance(item, Refused) and "Unknown field colour" in item.detail


def test_the_hour_the_clocks_fall_back_is_read_in_the_fold_its_abbreviation_names():
    new_york = ZoneInfo("America/New_York")
    first = parse_instant("Sun Nov 1 01:30:00 EDT 2026", name="LONGDATETIME", zone=new_york)
    second = parse_instant("Sun Nov 1 01:30:00 EST 2026", name="LONGDATETIME", zone=new_york)
    assert (first, second) == (
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    )
    with pytest.raises(BadPayload, match="CET, which is not the source's time zone"):
        parse_instant("Sun Nov 1 01:30:00 CET 2026", name="LONGDATETIME", zone=new_york)


def test_icinga_2s_long_date_time_carries_its_offset():
    # $icinga.long_date_time$ is "%Y-%m-%d %H:%M:%S %z" (Icinga 2's global runtime macros).
    assert parse_instant("2026-11-26 16:12:44 +0100", name="LONGDATETIME") == dt.datetime(
        2026, 11, 26, 15, 12, 44, tzinfo=UTC
    )


def test_unstorable_characters_and_numbers_become_storable_everywhere_in_an_alert():
    (item,) = parse_generic(
        {
            "check": "Disk\x00",
            "host": "db\ud83d",
            "fired_at": "2026-10-03T02:00:00Z",
            "labels": {"k\x00": ["\udc00", {"deep\x00": 1e999}], "fine": "é😀"},
        }
    )
    assert (item.check, item.host, item.identity) == ("Disk\ufffd", "db\ufffd", "db\ufffd/Disk\ufffd")
    assert item.labels == {"k\ufffd": ["\ufffd", {"deep\ufffd": "inf"}], "fine": "é😀"}


def test_a_nagios_recovery_names_the_problem_it_ends_and_a_renotification_is_marked():
    base = {"HOSTNAME": "web042", "SERVICEDESC": "HTTP", "TIMET": "1791011564"}
    problem = parse_nagios(
        {**base, "NOTIFICATIONTYPE": "PROBLEM", "SERVICEPROBLEMID": "4711", "SERVICESTATE": "CRITICAL"}
    )
    assert (problem.problem_id, problem.renotification) == ("4711", False)
    renotified = parse_nagios(
        {**base, "NOTIFICATIONTYPE": "PROBLEM", "SERVICEPROBLEMID": "4711", "NOTIFICATIONNUMBER": "3"}
    )
    assert (renotified.problem_id, renotified.renotification) == ("4711", True)
    recovery = parse_nagios(
        {**base, "NOTIFICATIONTYPE": "RECOVERY", "SERVICEPROBLEMID": "0", "LASTSERVICEPROBLEMID": "4711"}
    )
    assert (recovery.problem_id, recovery.resolves_open) == ("4711", True)
    again = parse_nagios({**base, "NOTIFICATIONTYPE": "PROBLEM", "NOTIFICATIONNUMBER": "2"})
    assert (again.problem_id, again.renotification) == ("", True)
    # Nagios 4's own names for the number, as a script posting every macro sends them.
    numbered = parse_nagios({**base, "NOTIFICATIONTYPE": "PROBLEM", "SERVICENOTIFICATIONNUMBER": "2"})
    assert numbered.renotification
    # A host notification reads the host's ids, not a service's.
    host = parse_nagios(
        {"HOSTNAME": "web042", "TIMET": "1", "NOTIFICATIONTYPE": "PROBLEM", "HOSTPROBLEMID": "88"}
    )
    assert (host.check, host.problem_id) == ("Host check", "88")


def test_truncated_alerts_is_alertmanagers_count_or_zero():
    assert truncated_alerts({"truncatedAlerts": 12}) == 12
    assert [
        truncated_alerts(value) for value in ({}, {"truncatedAlerts": "12"}, {"truncatedAlerts": -1}, [])
    ] == [
        0,
        0,
        0,
        0,
    ]
