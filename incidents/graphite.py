"""Pin a Graphite render URL to an absolute time window, so the picture shows the incident.

People paste render URLs with relative times (`from=-1h`); fetched later, such
a URL shows whatever happened in the hour before the fetch. Graphite accepts
UNIX seconds for `from` and `until`, which mean the same in every time zone.
"""

import datetime as dt
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def is_render_url(url: str) -> bool:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return path.endswith("/render") and any(key == "target" for key, _ in parse_qsl(parts.query))


def pin_to_window(url: str, *, start: dt.datetime, end: dt.datetime) -> str:
    """The same render URL with `from`/`until` set to the window; other URLs unchanged."""
    if not is_render_url(url):
        return url
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in ("from", "until")
    ]
    query += [("from", str(int(start.timestamp()))), ("until", str(int(end.timestamp())))]
    return urlunsplit(parts._replace(query=urlencode(query, safe="(),*:\"'")))
