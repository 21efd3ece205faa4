"""Real identity servers on loopback: an OpenID provider under node, and OpenLDAP's slapd.

Like tests/integration, each test starts its own server on a free 127.0.0.1 port
with its state in `tmp_path`, and a missing program skips the test naming what
installs it (or fails it under MORGUE_REQUIRE_REAL_PROGRAMS=1, as in .ci/run).
"""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.core.cache import cache
from django.test import Client

from tests.integration.conftest import Daemon, daemons, free_port, need, wait_for  # noqa: F401 (a fixture)

IDENTITY = Path(__file__).resolve().parent
CLIENT_ID = "morgue"
CLIENT_SECRET = "morgue-test-client-secret"
CALLBACK = "http://testserver/oidc/callback/"


def missing(reason: str) -> None:
    if os.environ.get("MORGUE_REQUIRE_REAL_PROGRAMS") == "1":
        pytest.fail(f"{reason}; CI requires it (MORGUE_REQUIRE_REAL_PROGRAMS=1)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Provider:
    issuer: str

    def add_person(self, account: str, **claims) -> None:
        requests.post(f"{self.issuer}/_test/accounts", json={"id": account, "claims": claims}, timeout=5)

    def tamper_with_id_tokens(self) -> None:
        requests.post(f"{self.issuer}/_test/tamper", json={"id_token": True}, timeout=5)

    def sign_in(self, client: Client, account: str, *, nonce: str | None = None):
        """Morgue's answer at its callback after `account` signs in at the provider, as a browser would.

        `nonce` replaces the one Morgue asked for, as an attacker replaying an old
        authorisation would.
        """
        start = client.get("/oidc/authenticate/")
        assert start.status_code == 302, start.content
        location = start["Location"]
        assert location.startswith(f"{self.issuer}/"), location
        query = parse_qs(urlsplit(location).query)
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
        assert query["state"][0] and query["nonce"][0]
        if nonce is not None:
            parts = urlsplit(location)
            query["nonce"] = [nonce]
            location = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        browser = requests.Session()
        for _ in range(10):
            answer = browser.get(location, allow_redirects=False, timeout=10)
            assert answer.status_code in (302, 303), answer.text[:2000]
            location = requests.compat.urljoin(location, answer.headers["Location"])
            if location.startswith(CALLBACK):
                break
            if "/interaction/" in location:
                location = f"{location}?login={account}"
        else:
            raise AssertionError("The provider never sent the browser back to Morgue")
        return client.get(location.removeprefix("http://testserver"))


@pytest.fixture
def oidc_provider(daemons, tmp_path, settings) -> Provider:  # noqa: F811
    """A real oidc-provider on loopback with Morgue configured to sign in through it."""
    node = need("node", "nodejs")
    if not (IDENTITY / "node_modules" / "oidc-provider").is_dir():
        missing("oidc-provider is not installed (npm ci --prefix tests/identity)")
    port = free_port()
    daemons.append(
        Daemon(
            "oidc-provider",
            [node, str(IDENTITY / "provider.mjs"), str(port), CLIENT_ID, CLIENT_SECRET, CALLBACK],
            tmp_path / "oidc-provider.log",
            cwd=IDENTITY,
        )
    )
    issuer = f"http://127.0.0.1:{port}"

    def discovery() -> bool:
        try:
            return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok
        except requests.ConnectionError:
            return False

    wait_for("the OpenID provider's discovery document", discovery, daemons=daemons)
    settings.OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_PROVIDER_NAME = "Example SSO"
    settings.OIDC_ALLOWED_GROUPS = []
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "morgue.identity.oidc.DirectoryOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    cache.clear()  # the discovery document of an earlier test's provider
    yield Provider(issuer)
    cache.clear()
