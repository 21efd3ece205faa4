"""Fetch a graph image from a URL someone pasted, without letting that URL reach inside our network.

No Django here: the caller passes the allow-list. The address rule and the pinned
connection live in morgue.outbound, shared with webhooks and chat. What must hold:
- only http and https, at most MAX_REDIRECTS redirects, each target checked again;
- the host name is resolved once, every address is checked, and the connection
  goes to the checked address (the Host header and TLS name stay the host name),
  so a DNS answer that changes between check and connect cannot bypass the check;
- private, loopback, link-local, reserved, multicast and unspecified addresses
  are refused unless the host (or host:port) is explicitly allowed;
- one deadline (TIMEOUT seconds) covers the whole fetch, redirects included;
- at most MAX_BYTES are read, and the body must be a PNG, JPEG or GIF by its
  first bytes, whatever the server claims. SVG is refused: it can carry script.
"""

import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from morgue import outbound

TIMEOUT = 5.0
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = outbound.MAX_REDIRECTS
USER_AGENT = "Morgue graph snapshot"


class FetchError(Exception):
    """A fetch that failed, with a reason a person can read; `transient` means worth retrying."""

    def __init__(self, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True)
class Image:
    content: bytes
    content_type: str
    extension: str


IMAGE_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
]


def sniff_image(content: bytes) -> Image:
    """The image type from the first bytes; anything else is refused with the reason."""
    for signature, content_type, extension in IMAGE_SIGNATURES:
        if content.startswith(signature):
            return Image(content=content, content_type=content_type, extension=extension)
    head = content[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in content[:4096].lower():
        raise FetchError(
            "SVG images are refused because they can carry scripts; use PNG (Graphite: format=png)."
        )
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        raise FetchError(
            "The URL returned a web page, not an image (is it a dashboard link or a login page?)."
        )
    if not content:
        raise FetchError("The URL returned an empty body, not an image.")
    raise FetchError("The URL did not return an image (only PNG, JPEG and GIF are kept).")


def check_image(content: bytes) -> Image:
    """The same checks for an uploaded file as for a fetched one."""
    if len(content) > MAX_BYTES:
        raise FetchError(f"The image is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.")
    return sniff_image(content)


def _is_allowed(host: str, port: int, allowed_hosts: frozenset[str]) -> bool:
    host = host.lower().rstrip(".")
    return host in allowed_hosts or f"{host}:{port}" in allowed_hosts


def resolve(host: str, port: int, *, allowed_hosts: frozenset[str] = frozenset()) -> str:
    """One checked address to connect to for host:port, or FetchError saying why not."""
    try:
        addresses = outbound.lookup(host, port)
    except outbound.OutboundError as error:
        raise FetchError(error.reason, transient=error.transient) from error
    if not _is_allowed(host, port, allowed_hosts):
        for address in addresses:
            if not outbound.is_public(address):
                raise FetchError(
                    f"The host {host} resolves to {address}, a private, loopback, link-local or reserved "
                    "address; ask an administrator to add it to GRAPH_FETCH_ALLOWED_HOSTS if it is a "
                    "metrics server."
                )
    return str(addresses[0])


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"The graph server did not answer within {TIMEOUT:g} seconds.", transient=True)
    return remaining


def _split(url: str) -> outbound.Target:
    try:
        return outbound.split(url)
    except outbound.AddressRefused as error:
        raise FetchError(error.reason.replace("called", "fetched")) from error


def fetch_image(url: str, *, allowed_hosts: frozenset[str] = frozenset(), timeout: float = TIMEOUT) -> Image:
    """GET an image from `url` under the rules in this module's docstring."""
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        target = _split(url)
        host, port, path = target.host, target.port, target.path
        address = resolve(host, port, allowed_hosts=allowed_hosts)
        connection = outbound.pinned_connection(target, address, _remaining(deadline))
        try:
            connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"The graph server answered {response.status} without a Location.")
                url = urljoin(url, location)
                continue
            if response.status >= 500 or response.status == 429:
                raise FetchError(f"The graph server answered HTTP {response.status}.", transient=True)
            if response.status != 200:
                raise FetchError(f"The graph server answered HTTP {response.status} {response.reason}.")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > MAX_BYTES:
                raise FetchError(f"The image is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.")
            chunks, size = [], 0
            while True:
                # read1 returns after one receive, so a server dripping bytes
                # still meets the deadline check on every turn.
                _remaining(deadline)
                chunk = response.read1(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchError(f"The image is larger than the {MAX_BYTES // (1024 * 1024)} MB limit.")
                chunks.append(chunk)
            return sniff_image(b"".join(chunks))
        except TimeoutError as error:
            raise FetchError(
                f"The graph server did not answer within {timeout:g} seconds.", transient=True
            ) from error
        except ssl.SSLError as error:
            raise FetchError(f"The TLS connection to {host} failed: {error.reason or error}.") from error
        except ConnectionRefusedError as error:
            raise FetchError(
                f"The graph server at {host}:{port} refused the connection.", transient=True
            ) from error
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(
                f"The graph server at {host} could not be reached ({error}).", transient=True
            ) from error
        finally:
            connection.close()
    raise FetchError(f"The URL redirected more than {MAX_REDIRECTS} times.")
