"""The one rule for calls Morgue makes to an address someone typed (graph snapshots, webhooks, chat, push).

No Django here: callers pass what they allow. What holds:
- only http and https, no user name or password in the URL;
- the host name is resolved once, every address is checked, and the connection
  goes to the first checked address (the Host header and the TLS name and
  certificate check stay the host name), so a DNS answer that changes between
  check and connect cannot bypass the check;
- an address must be global: private, loopback, link-local, CGNAT (100.64.0.0/10),
  reserved, multicast and unspecified addresses are refused, and so are IPv6
  forms that carry an IPv4 address (IPv4-mapped, 6to4 2002::/16, NAT64
  64:ff9b::/96) when that IPv4 address is not global;
- redirects are never followed blindly: `post` follows at most MAX_REDIRECTS,
  checking each target like the first.
"""

import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CGNAT = ipaddress.ip_network("100.64.0.0/10")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class OutboundError(Exception):
    """A call that did not happen or failed; `reason` is for the log, `transient` means worth retrying."""

    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class AddressRefused(OutboundError):
    """The URL or an address it resolves to is not one Morgue calls."""


class PrivateAddress(AddressRefused):
    """The host resolves to an address that is not public; `reason` names it (for the log only)."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in SIX_TO_FOUR:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether Morgue may connect to `address` on someone's say-so."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if address in NAT64_LOCAL:
            return False
    if address in CGNAT:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def is_loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def lookup(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order; OutboundError when none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundError(f"The host {host} could not be resolved.", transient=True) from error
    # An IPv6 address may carry a zone (fe80::1%eth0).
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise OutboundError(f"The host {host} has no address.")
    return addresses


def resolve(host: str, port: int, *, allow_loopback: bool = False) -> str:
    """One checked address to connect to for host:port (resolved once), or AddressRefused."""
    addresses = lookup(host, port)
    for address in addresses:
        if allow_loopback and is_loopback(address):
            continue
        if not is_public(address):
            raise PrivateAddress(f"The host {host} resolves to {address}, which is not a public address.")
    return str(addresses[0])


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def split(url: str) -> Target:
    """The parts of an http(s) URL Morgue may call, or AddressRefused saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressRefused("The URL is not valid.") from error
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("Only http and https URLs can be called.")
    if not parts.hostname:
        raise AddressRefused("The URL has no host.")
    if parts.username or parts.password:
        raise AddressRefused("URLs with a user name or password are not called.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the checked address itself: no second name lookup."""
    ip = ipaddress.ip_address(address)
    sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except OSError:
        sock.close()
        raise
    return sock


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given address while speaking HTTP to the host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address
        self._connect_timeout = timeout  # self.timeout may be None to http.client; ours never is

    def connect(self) -> None:
        self.sock = _connect(self.address, self.port, self._connect_timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: SNI and the certificate check use the host name, not the address."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self.address = address
        self._connect_timeout = timeout

    def connect(self) -> None:
        sock = _connect(self.address, self.port, self._connect_timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def pinned_connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    return connection_class(target.host, target.port, address=address, timeout=timeout)


def _unreachable(target: Target, address: str, error: Exception) -> OutboundError:
    return OutboundError(
        f"{target.host} ({address}:{target.port}): {type(error).__name__}: {error}", transient=True
    )


def _following(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: dict[str, str],
    timeout: float,
    allow_loopback: bool,
    max_bytes: int,
) -> tuple[int, bytes]:
    """`method` to `url`, following at most MAX_REDIRECTS redirects, each target checked like the first.

    A 307 or 308 repeats the request at the new address; 301, 302 and 303 become a GET
    there, as browsers do.
    """
    for _hop in range(MAX_REDIRECTS + 1):
        target = split(url)
        address = resolve(target.host, target.port, allow_loopback=allow_loopback)
        connection = pinned_connection(target, address, timeout)
        try:
            connection.request(method, target.path, body=body, headers=headers)
            response = connection.getresponse()
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    return response.status, b""
                url = urljoin(url, location)
                if response.status in (301, 302, 303):
                    method, body = "GET", None
                continue
            return response.status, response.read(max_bytes)
        except (OSError, http.client.HTTPException) as error:
            raise _unreachable(target, address, error) from error
        finally:
            connection.close()
    raise AddressRefused(f"The URL redirected more than {MAX_REDIRECTS} times.")


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_loopback: bool = False,
    max_bytes: int = 65536,
) -> tuple[int, bytes]:
    """POST `body` to `url` under this module's rules; the final status and (at most max_bytes of) body.

    A 307 or 308 repeats the POST at the new address; 301, 302 and 303 become a GET
    there, as browsers do. Raises AddressRefused for a URL or redirect target that is
    refused, OutboundError (transient) when the server cannot be reached or is too slow.
    """
    return _following(
        "POST",
        url,
        body=body,
        headers=headers,
        timeout=timeout,
        allow_loopback=allow_loopback,
        max_bytes=max_bytes,
    )


def get(
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    allow_loopback: bool = False,
    max_bytes: int = 16 * 1024 * 1024,
) -> tuple[int, bytes]:
    """GET `url` under this module's rules; the final status and (at most max_bytes of) body.

    Redirects are followed at most MAX_REDIRECTS times, each target checked like the first.
    Raises as `post` does.
    """
    return _following(
        "GET",
        url,
        body=None,
        headers=headers,
        timeout=timeout,
        allow_loopback=allow_loopback,
        max_bytes=max_bytes,
    )


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    body: bytes | None = None,
    allow_loopback: bool = False,
    max_bytes: int = 1024 * 1024,
) -> tuple[int, bytes]:
    """Any method (an API's GET, POST, PATCH, PUT) to `url` under this module's rules; status and body.

    No redirect is followed: an API answers where it is asked, and a redirect is
    returned as it came (its status) for the caller to treat as a failure.
    Raises as `post` does.
    """
    target = split(url)
    address = resolve(target.host, target.port, allow_loopback=allow_loopback)
    connection = pinned_connection(target, address, timeout)
    try:
        connection.request(method, target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(max_bytes)
    except (OSError, http.client.HTTPException) as error:
        raise _unreachable(target, address, error) from error
    finally:
        connection.close()
