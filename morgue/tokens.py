"""Secrets that people and systems present to Morgue: API tokens, alert-source tokens, feed tokens.

Morgue keeps only a short prefix (to find the row, and to show people which
token is which) and a SHA-256 hash; the token itself is shown once, when made.
A plain hash is enough: every token carries 32 random bytes, so nobody can
guess one from its hash, and no key is involved whose rotation would lock
every sender out. Comparison is constant-time.

Formats: API tokens read `morgue_<prefix>_<secret>`; alert-source and feed
tokens, which travel in addresses, are `<prefix><secret>`. Tokens made before
hashing (older formats) are found by their first eight characters.
"""

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable
from typing import TypeVar

PREFIX_LENGTH = 8
HASH_LENGTH = 64
API_TOKEN_LABEL = "morgue"  # noqa: S105 (the tokens' visible label)
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits

T = TypeVar("T")


def new_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def new_token(*, label: str = "") -> str:
    """A fresh token: `<label>_<prefix>_<secret>` with a label, else `<prefix><secret>`."""
    prefix, secret = new_prefix(), secrets.token_urlsafe(32)
    return f"{label}_{prefix}_{secret}" if label else f"{prefix}{secret}"


def prefix_of(token: str) -> str:
    """The part of a token that is stored in clear, to find its row."""
    head = f"{API_TOKEN_LABEL}_"
    if token.startswith(head) and token[len(head) + PREFIX_LENGTH : len(head) + PREFIX_LENGTH + 1] == "_":
        return token[len(head) : len(head) + PREFIX_LENGTH]
    return token[:PREFIX_LENGTH]


def hash_token(token: str) -> str:
    # backslashreplace: whatever a client sends hashes to something (and matches nothing).
    return hashlib.sha256(token.encode("utf-8", "backslashreplace")).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    """Whether `token` is the one whose hash was stored, compared in constant time."""
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)


def first_match(candidates: Iterable[T], token: str, *, hash_of) -> T | None:
    """The candidate (rows sharing the token's prefix) whose stored hash `hash_of(row)` matches."""
    found = None
    for candidate in candidates:
        # Every candidate is compared, so the time taken does not tell which one matched.
        if matches(token, hash_of(candidate)) and found is None:
            found = candidate
    return found
