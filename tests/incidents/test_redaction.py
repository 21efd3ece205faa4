"""incidents.redaction: what a public incident page refuses to publish (pure)."""

import pytest

from incidents.redaction import findings


@pytest.mark.parametrize(
    ("text", "kind", "match"),
    [
        ("Mail ops@example.com for details", "email", "ops@example.com"),
        ("The primary at 10.0.3.4 stopped", "ip", "10.0.3.4"),
        ("Traffic from 203.0.113.0/24 was dropped", "ip", "203.0.113.0/24"),
        ("fe80::1ff:fe23:4567:890a answered", "ip", "fe80::1ff:fe23:4567:890a"),
        ("db-3.prod.example.com ran out of disk", "hostname", "db-3.prod.example.com"),
        ("api.internal was slow", "hostname", "api.internal"),
        ("redis.svc.cluster.local restarted", "hostname", "redis.svc.cluster.local"),
        ("mysql.corp failed over", "hostname", "mysql.corp"),
        ("printer.home.arpa", "hostname", "printer.home.arpa"),
        # Token prefixes as their issuers publish them (GitHub, GitLab, Slack, AWS).
        (
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked",
            "token",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        ("glpat-abcdefghij0123456789xy", "token", "glpat-abcdefghij0123456789xy"),
        ("xoxb-1234567890-abcdefghij", "token", "xoxb-1234567890-abcdefghij"),
        ("key AKIAIOSFODNN7EXAMPLE", "token", "AKIAIOSFODNN7EXAMPLE"),
        ("password=hunter2hunter", "token", "password=hunter2hunter"),
        (
            "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZYYXXWW",
            "token",
            "9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZYYXXWW",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----", "token", "-----BEGIN RSA PRIVATE KEY-----"),
    ],
)
def test_what_must_not_be_published_is_found(text, kind, match):
    assert (kind, match) in [(finding.kind, finding.text) for finding in findings(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Card payments failed for about a third of customers between 14:05 and 14:50 UTC.",
        "Our website www.example.com and https://status.example.com were slow.",
        "We rolled back release 1.2.3 and the error rate went back to 0.1%.",
        "The checkout service (checkout-api) ran out of database connections.",
        "See the update at 12:30:45 for more.",
        "",
    ],
)
def test_words_for_customers_pass(text):
    assert findings(text) == []


def test_each_finding_is_reported_once_with_a_sentence():
    found = findings("ops@example.com, ops@example.com and 10.0.0.1")
    assert [finding.kind for finding in found] == ["email", "ip"]
    assert found[0].sentence() == "It contains an e-mail address: ops@example.com"
