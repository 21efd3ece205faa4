"""The pure rules of reaching a person (oncall/contact.py): addresses, the order of methods, backoff."""

import pytest

from oncall import contact
from oncall.contact import Method, Rule

EMAIL = Method(1, "email", "ana@example.com")
PUSH = Method(2, "push", "ana-pages")
SMS = Method(3, "sms", "+14155550123")
CALL = Method(4, "voice", "+14155550123")


@pytest.mark.parametrize(
    ("kind", "address", "cleaned"),
    [
        ("sms", "+1 (415) 555-0123", "+14155550123"),
        ("voice", "+447700900123", "+447700900123"),
        ("email", " ana@example.com ", "ana@example.com"),
        ("push", "ana-pages_2", "ana-pages_2"),
        ("slack", "https://hooks.slack.com/services/T0/B0/x", "https://hooks.slack.com/services/T0/B0/x"),
    ],
)
def test_good_addresses_are_cleaned(kind, address, cleaned):
    assert contact.check_address(kind, address) == cleaned


@pytest.mark.parametrize(
    ("kind", "address", "says"),
    [
        ("sms", "4155550123", "E.164"),
        ("voice", "+0123456789", "E.164"),
        ("sms", "+1415555012345678", "E.164"),
        ("email", "ana", "not an email"),
        ("push", "ana/../admin", "ntfy topic"),
        ("teams", "ftp://example.com/x", "webhook address"),
        ("fax", "+14155550123", "not a kind"),
        ("email", "  ", "required"),
    ],
)
def test_bad_addresses_are_refused_with_a_sentence(kind, address, says):
    with pytest.raises(contact.InvalidAddress, match=says):
        contact.check_address(kind, address)


def test_rules_send_in_order_of_delay_each_method_once():
    rules = [Rule(4, 5), Rule(3, 2), Rule(2, 0), Rule(1, 0), Rule(3, 9)]
    planned = contact.plan([EMAIL, PUSH, SMS, CALL], rules)
    assert [(item.method, item.delay_minutes) for item in planned] == [
        (EMAIL, 0),
        (PUSH, 0),
        (SMS, 2),
        (CALL, 5),
    ]


def test_without_rules_the_first_email_goes_at_once():
    assert contact.plan([PUSH, EMAIL], []) == [contact.Planned(EMAIL, 0)]
    assert contact.plan([PUSH], []) == []


def test_the_next_method_follows_the_rules_then_the_methods_they_leave_out():
    rules = [Rule(2, 0), Rule(3, 2)]
    methods = [EMAIL, PUSH, SMS, CALL]
    assert contact.fallback(methods, rules, tried={2}) == SMS
    assert contact.fallback(methods, rules, tried={2, 3}) == EMAIL
    assert contact.fallback(methods, rules, tried={1, 2, 3, 4}) is None


def test_backoff_grows_and_is_capped():
    assert [contact.backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [30, 120, 480, 900, 900]


def test_one_line_folds_breaks_and_shortens():
    assert contact.one_line("a\r\nb\tc  d") == "a b c d"
    assert contact.one_line("x" * 30, limit=10) == "x" * 9 + "…"
