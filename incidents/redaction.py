"""What must not reach a public incident page: e-mail addresses, IP addresses, internal host names, tokens.

Pure: `findings(text)` lists what it found, each with the kind and the text
matched; an empty list means the text may be published. It errs on the side of
refusing: a person can always rephrase ("a database host" instead of its name),
while a leaked address or key cannot be taken back.
"""

import ipaddress
import re
from dataclasses import dataclass

# Suffixes of names that only resolve inside an organisation (RFC 6762 .local,
# RFC 8375 home.arpa, and the conventional private ones).
INTERNAL_SUFFIXES = (
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".corp",
    ".lan",
    ".home.arpa",
    ".private",
    ".localhost",
    ".consul",
    ".svc.cluster.local",
    ".cluster.local",
)
# A first label that names a machine rather than a public site: db-3.example.com, prod-web01.example.com.
MACHINE_LABEL = re.compile(
    r"^(?:[a-z]+-?)*\d+$|^(?:db|mysql|pg|postgres|redis|kafka|rabbit|k8s|kube|node|worker|bastion|jump|vpn|ldap|ad|dc|nas|proxy)\b",
    re.I,
)

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\d.])")
IPV6 = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:/\d{1,3})?(?![0-9A-Za-z:])")
HOSTNAME = re.compile(r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{1,62}\b")
# Known token shapes (prefixes published by their issuers), then long random-looking strings.
TOKEN_PATTERNS = (
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}\b"),  # GitHub
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),  # GitLab
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),  # Slack
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key id
    re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b"),  # Stripe
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # a JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)\b(?:password|passwd|secret|api[_-]?key|token)\s*[:=]\s*\S{6,}"),
)
LONG_RANDOM = re.compile(r"\b[A-Za-z0-9_\-+/]{32,}={0,2}")


@dataclass(frozen=True)
class Finding:
    kind: str  # "email", "ip", "hostname", "token"
    text: str

    def sentence(self) -> str:
        words = {
            "email": "an e-mail address",
            "ip": "an IP address",
            "hostname": "an internal host name",
            "token": "what looks like a secret or token",
        }
        return f"It contains {words[self.kind]}: {self.text}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _looks_random(text: str) -> bool:
    """Mixed letters and digits with no long run of one kind: a key, not a word or a path."""
    has_upper = any(c.isupper() for c in text)
    has_lower = any(c.islower() for c in text)
    has_digit = any(c.isdigit() for c in text)
    return (
        has_digit
        and (has_upper or has_lower)
        and ((has_upper and has_lower) or sum(c.isdigit() for c in text) >= 6)
    )


def _internal_host(name: str) -> bool:
    lowered = name.lower().rstrip(".")
    if any(lowered.endswith(suffix) or lowered == suffix[1:] for suffix in INTERNAL_SUFFIXES):
        return True
    labels = lowered.split(".")
    return len(labels) >= 3 and bool(MACHINE_LABEL.match(labels[0]))


def findings(text: str) -> list[Finding]:
    """Everything in `text` that must not be published, in the order found (each text once)."""
    found: list[Finding] = []
    seen: set[str] = set()

    def add(kind: str, match: str) -> None:
        if match not in seen:
            seen.add(match)
            found.append(Finding(kind=kind, text=match))

    emails = EMAIL.findall(text)
    for match in emails:
        add("email", match)
    without_emails = EMAIL.sub(" ", text)
    for pattern in TOKEN_PATTERNS:
        for match in pattern.finditer(without_emails):
            add("token", match.group(0))
    for match in LONG_RANDOM.finditer(without_emails):
        if _looks_random(match.group(0)):
            add("token", match.group(0))
    for match in IPV4.finditer(without_emails):
        if _is_ip(match.group(0)):
            add("ip", match.group(0))
    for match in IPV6.finditer(without_emails):
        candidate = match.group(0)
        if candidate.count(":") >= 2 and _is_ip(candidate):
            add("ip", candidate)
    for match in HOSTNAME.finditer(without_emails):
        if not IPV4.fullmatch(match.group(0)) and _internal_host(match.group(0)):
            add("hostname", match.group(0))
    return found
