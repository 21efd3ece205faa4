"""Where a source's JSON comes from: its REST API (through morgue.outbound) or files saved from it.

No Django here. Both readers answer `get(path, params)` with the decoded JSON
of one API answer; the source modules do their vendor's pagination. A
directory holds one file per API path (`/schedules/P1` is `schedules/P1.json`),
each the whole answer, so its pagination ends on the first page.
"""

import json
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from morgue import outbound

from .plan import ImportFailed

TIMEOUT_SECONDS = 15.0


class Reader(Protocol):
    def get(self, path: str, params: dict[str, str] | None = None) -> Any: ...

    def get_url(self, url: str) -> Any: ...


class ApiReader:
    """GETs from a vendor's API with its auth header; every failure is an ImportFailed sentence."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str],
        vendor: str,
        allow_loopback: bool = False,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **headers}
        self.vendor = vendor
        self.allow_loopback = allow_loopback
        self.timeout = timeout

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        return self.get_url(url)

    def get_url(self, url: str) -> Any:
        """An absolute URL, such as a `next` link; only on the configured host."""
        if urlsplit(url).netloc != urlsplit(self.base_url).netloc:
            raise ImportFailed(f"The {self.vendor} API sent a link to another host ({url}); not followed.")
        try:
            status, body = outbound.get(
                url, headers=self.headers, timeout=self.timeout, allow_loopback=self.allow_loopback
            )
        except outbound.AddressRefused as error:
            raise ImportFailed(f"{url} is not an address Morgue calls: {error.reason}") from error
        except outbound.OutboundError as error:
            raise ImportFailed(f"Could not reach the {self.vendor} API at {url} ({error.reason}).") from error
        if status in (401, 403):
            raise ImportFailed(
                f"The {self.vendor} API refused the token (HTTP {status}): check it and its permissions."
            )
        if status == 404:
            raise ImportFailed(
                f"{url} was not found (HTTP 404): is {self.base_url} the {self.vendor} API's address?"
            )
        if status != 200:
            raise ImportFailed(f"The {self.vendor} API answered HTTP {status} for {url}.")
        try:
            return json.loads(body)
        except ValueError as error:
            raise ImportFailed(f"The {self.vendor} API's answer for {url} is not JSON.") from error


class DirectoryReader:
    """Answers from JSON files saved from the API, one per path."""

    def __init__(self, directory: Path, *, vendor: str) -> None:
        self.directory = directory
        self.vendor = vendor
        if not directory.is_dir():
            raise ImportFailed(f"{directory} is not a directory.")

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        file = self.directory / (path.strip("/") + ".json")
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ImportFailed(
                f"{file} is missing: save the {self.vendor} API's answer to GET {path} there."
            ) from None
        except OSError as error:
            raise ImportFailed(f"Cannot read {file}: {error.strerror}.") from error
        try:
            return json.loads(text)
        except ValueError as error:
            raise ImportFailed(f"{file} is not JSON.") from error

    def get_url(self, url: str) -> Any:
        """A saved answer is the whole list: it has no `next` page to follow."""
        raise ImportFailed(f"{url}: a saved answer links to a next page; save the whole list in one file.")
