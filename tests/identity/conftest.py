"""Real identity servers on loopback: an OpenID provider under node, and OpenLDAP's slapd.

Like tests/integration, each test starts its own server on a free 127.0.0.1 port
with its state in `tmp_path`, and a missing program skips the test naming what
installs it (or fails it under MORGUE_REQUIRE_REAL_PROGRAMS=1, as in .ci/run).
"""

import os
import subprocess
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


SUFFIX = "dc=example,dc=com"
READER_DN = f"cn=morgue-reader,{SUFFIX}"
READER_PASSWORD = "reader-password"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
# People and groups as a directory team would load them (inetOrgPerson, groupOfNames).
DIRECTORY_LDIF = f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: morgue-reader
userPassword: {READER_PASSWORD}

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=ada,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: ada
cn: Ada Lovelace
givenName: Ada
sn: Lovelace
displayName: Ada Lovelace
mail: ada@example.com
userPassword: ada-password

dn: uid=bob,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: bob
cn: Bob Page
givenName: Bob
sn: Page
mail: bob@example.com
userPassword: bob-password

dn: cn=sre,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: sre
member: uid=ada,ou=people,{SUFFIX}
member: {READER_DN}

dn: cn=morgue-users,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: morgue-users
member: uid=ada,ou=people,{SUFFIX}

dn: cn=finance,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: finance
member: uid=bob,ou=people,{SUFFIX}
"""


@dataclass
class Directory:
    uri: str

    def environment(self, **extra: str) -> dict[str, str]:
        """The LDAP_* variables a deployment would set for this directory (README's OpenLDAP example)."""
        return {
            "LDAP_SERVER_URI": self.uri,
            "LDAP_BIND_DN": READER_DN,
            "LDAP_BIND_PASSWORD": READER_PASSWORD,
            "LDAP_USER_SEARCH_BASE": f"ou=people,{SUFFIX}",
            "LDAP_USER_FILTER": "(uid=%(user)s)",
            "LDAP_GROUP_SEARCH_BASE": f"ou=groups,{SUFFIX}",
            "LDAP_GROUP_FILTER": "(objectClass=groupOfNames)",
            "LDAP_GROUP_TYPE": "groupOfNames",
            **extra,
        }

    def remove_member(self, group: str, uid: str) -> None:
        import ldap

        connection = ldap.initialize(self.uri)
        connection.simple_bind_s(f"cn=admin,{SUFFIX}", "admin-password")
        member = f"uid={uid},ou=people,{SUFFIX}".encode()
        connection.modify_s(f"cn={group},ou=groups,{SUFFIX}", [(ldap.MOD_DELETE, "member", [member])])
        connection.unbind_s()


def start_slapd(started: list[Daemon], tmp_path: Path, *, tls: "Certificates | None" = None) -> Directory:
    """A real OpenLDAP slapd on loopback, loaded with people and groups; with `tls`, only over StartTLS."""
    slapd = need("slapd", "slapd")
    slapadd = need("slapadd", "slapd")
    try:
        import django_auth_ldap  # noqa: F401
    except ImportError:
        missing("django-auth-ldap is not installed (apt-get install libldap2-dev libsasl2-dev; make ldap)")
    data = tmp_path / "ldap-data"
    data.mkdir()
    config = tmp_path / "slapd.conf"
    includes = "\n".join(f"include /etc/ldap/schema/{schema}.schema" for schema in SCHEMAS)
    config.write_text(
        f"""{includes}
pidfile {tmp_path}/slapd.pid
argsfile {tmp_path}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "cn=admin,{SUFFIX}"
rootpw admin-password
directory {data}
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
"""
        + (
            f"""TLSCACertificateFile {tls.ca}
TLSCertificateFile {tls.certificate}
TLSCertificateKeyFile {tls.key}
security tls=1
"""
            if tls
            else ""
        )
    )
    ldif = tmp_path / "directory.ldif"
    ldif.write_text(DIRECTORY_LDIF)
    loaded = subprocess.run(
        [slapadd, "-f", str(config), "-l", str(ldif)], capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stderr
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    started.append(
        Daemon("slapd", [slapd, "-f", str(config), "-h", f"{uri}/", "-d", "0"], tmp_path / "slapd.log")
    )

    def answers() -> bool:
        import ldap

        try:
            connection = ldap.initialize(uri)
            connection.simple_bind_s(READER_DN, READER_PASSWORD)
            connection.unbind_s()
            return True
        except ldap.CONFIDENTIALITY_REQUIRED:
            return True  # up, and refusing to talk without TLS
        except ldap.LDAPError:
            return False

    wait_for("slapd to answer", answers, daemons=started)
    return Directory(uri)


@pytest.fixture
def directory(daemons, tmp_path) -> Directory:  # noqa: F811
    """A real OpenLDAP slapd on loopback, loaded with people and groups."""
    return start_slapd(daemons, tmp_path)


@dataclass
class Certificates:
    ca: Path
    certificate: Path
    key: Path
    other_ca: Path


def make_certificates(folder: Path) -> Certificates:
    """A CA, a certificate it signs for 127.0.0.1, and an unrelated CA."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def authority(name: str):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return key, certificate

    ca_key, ca = authority("Morgue test CA")
    _, other = authority("Someone else's CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = Certificates(
        folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "other-ca.pem"
    )
    paths.ca.write_bytes(ca.public_bytes(pem))
    paths.other_ca.write_bytes(other.public_bytes(pem))
    paths.certificate.write_bytes(server.public_bytes(pem))
    paths.key.write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_directory(daemons, tmp_path) -> tuple[Directory, Certificates]:  # noqa: F811
    """slapd refusing everything but StartTLS, with a certificate from a CA made for the test."""
    certificates = make_certificates(tmp_path)
    return start_slapd(daemons, tmp_path, tls=certificates), certificates
