"""The pure paging rules: matchers like Alertmanager's, rules in order, first match wins."""

import pytest

from alerts_review.paging_rules import (
    DEFAULT_RULES,
    Matcher,
    RuleError,
    alert_fields,
    decide,
    parse_matcher,
    parse_rules,
    rules_as_data,
)


def fields(**labels):
    own = {name: labels.pop(name, "") for name in ("check", "host", "state", "severity")}
    return alert_fields(labels=labels, **own)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("severity=critical", Matcher("severity", "=", "critical")),
        ("env != staging", Matcher("env", "!=", "staging")),
        ('service=~"db.*"', Matcher("service", "=~", "db.*")),
        ("check!~Disk.*", Matcher("check", "!~", "Disk.*")),
        ("team=", Matcher("team", "=", "")),
    ],
)
def test_matchers_parse_like_alertmanagers(text, expected):
    assert parse_matcher(text) == expected


@pytest.mark.parametrize("text", ["severity", "=critical", "1abc=x", "env=~(unclosed", "a ~ b"])
def test_a_matcher_that_does_not_parse_is_refused_with_its_text(text):
    with pytest.raises(RuleError, match=r"matcher|regex") as error:
        parse_matcher(text)
    assert text in str(error.value)


def test_a_regex_matches_the_whole_value_and_a_missing_label_is_empty():
    assert parse_matcher("service=~db").matches({"service": "db"})
    assert not parse_matcher("service=~db").matches({"service": "db12"})
    assert parse_matcher("env!=production").matches({})
    assert parse_matcher("env=").matches({})
    assert not parse_matcher("env!~prod.*").matches({"env": "production"})


def test_the_default_pages_critical_by_severity_or_nagios_state_and_records_the_rest():
    rules = parse_rules(DEFAULT_RULES)
    assert decide(rules, fields(severity="critical", state="firing")) == "page"
    assert decide(rules, fields(state="CRITICAL")) == "page"  # Nagios: no severity, an upper-case state
    assert decide(rules, fields(severity="warning", state="firing")) == "record"
    assert decide(rules, fields(state="WARNING")) == "record"


def test_rules_are_tried_in_order_and_the_first_match_wins():
    rules = parse_rules(
        [
            {"match": ["env=staging"], "action": "record"},
            {"match": ["severity=~critical|page", "check!~Test.*"], "action": "page"},
        ]
    )
    assert decide(rules, fields(severity="critical", env="staging")) == "record"
    assert decide(rules, fields(severity="critical", check="DiskSpaceLow")) == "page"
    assert decide(rules, fields(severity="critical", check="TestAlert")) == "record"
    assert decide(rules, fields(severity="page", check="ApiDown")) == "page"


def test_the_alerts_own_fields_win_over_labels_of_the_same_name():
    assert fields(check="ApiDown", labels_check="x")["check"] == "ApiDown"
    assert alert_fields(check="A", host="", state="", severity="", labels={"check": "B", "n": 3}) == {
        "check": "A",
        "host": "",
        "state": "",
        "severity": "",
        "n": "3",
    }


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"match": []}, "list"),
        (["severity=critical"], "Rule 1 is not an object"),
        ([{"match": ["severity=critical"], "action": "wake"}], "Rule 1's action"),
        ([{"match": "severity=critical", "action": "page"}], "Rule 1's match"),
        ([{"match": [], "action": "page"}, {"match": ["x"], "action": "page"}], "Rule 2: 'x'"),
        ([{"match": [], "action": "page", "when": "night"}], "unknown fields: when"),
    ],
)
def test_rules_that_do_not_parse_say_which_rule_and_why(raw, words):
    with pytest.raises(RuleError, match=words):
        parse_rules(raw)


def test_rules_read_back_as_they_were_stored():
    stored = [{"match": ["env!=staging", "service=~db.*"], "action": "page"}]
    assert rules_as_data(parse_rules(stored)) == stored
