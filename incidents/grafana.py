"""Pin a Grafana panel link to an absolute time window, and turn it into an image the worker can keep.

People paste Grafana links as they see them: a dashboard with a panel open
(`/d/<uid>/<slug>?viewPanel=N&from=now-6h&to=now`), an embed
(`/d-solo/<uid>/<slug>?panelId=N`), or an image-renderer link
(`/render/d-solo/<uid>/<slug>?panelId=N&from=now-6h&to=now`). Fetched later as
they are, relative times show the hours before the fetch, and a dashboard link
returns a web page, not an image. Grafana reads `from` and `to` as epoch
milliseconds, the same in every time zone; the image renderer serves a PNG of one
panel at `/render/d-solo/…` (or of a whole dashboard at `/render/d/…`). Grafana
may be served under a sub-path (`/grafana/d/…`), which is kept.
"""

import datetime as dt
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# `<prefix>/render/d-solo/<uid>/<slug>`, `<prefix>/d/<uid>` and the like; a uid has no dot,
# which keeps `/d/abc/graph.png` on some other server from being taken for a dashboard.
PATH = re.compile(
    r"^(?P<prefix>(?:/[^/]+)*?)(?P<render>/render)?/(?P<kind>d|d-solo)/(?P<uid>[\w-]+)(?P<slug>/[\w-]*)?/?$"
)
# Parameters only a Grafana dashboard link carries: a bare `/d/<uid>` path is not enough.
GRAFANA_PARAMETERS = ("orgId", "viewPanel", "editPanel", "panelId", "from", "to", "refresh", "kiosk")
PANEL_PARAMETERS = ("viewPanel", "editPanel", "panelId")
# Dashboard-only parameters that mean nothing to the renderer.
DROPPED = ("viewPanel", "editPanel", "refresh", "kiosk", "inspect", "from", "to")
WIDTH, HEIGHT = "1000", "500"


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def is_grafana_url(url: str) -> bool:
    parts = urlsplit(url)
    match = PATH.match(parts.path)
    if match is None:
        return False
    if match["render"] or match["kind"] == "d-solo":
        return True
    return any(key in GRAFANA_PARAMETERS or key.startswith("var-") for key, _ in _query(url))


def pin_to_window(url: str, *, start: dt.datetime, end: dt.datetime) -> str:
    """The panel's image-renderer URL for the window; URLs that are not Grafana links are unchanged."""
    if not is_grafana_url(url):
        return url
    parts = urlsplit(url)
    match = PATH.match(parts.path)
    assert match is not None  # is_grafana_url matched it
    query = _query(url)
    panel = next((value for key, value in query if key in PANEL_PARAMETERS and value), "")
    # Grafana 11's dashboards name panels `panel-4` in links; the renderer takes the number.
    panel = panel.removeprefix("panel-")
    kind = "d-solo" if panel else "d"
    path = f"{match['prefix']}/render/{kind}/{match['uid']}{(match['slug'] or '').rstrip('/')}"
    kept = [(key, value) for key, value in query if key not in DROPPED and key != "panelId"]
    if panel:
        kept.append(("panelId", panel))
    keys = {key for key, _ in kept}
    kept += [("from", str(int(start.timestamp() * 1000))), ("to", str(int(end.timestamp() * 1000)))]
    kept += [(key, value) for key, value in (("width", WIDTH), ("height", HEIGHT)) if key not in keys]
    return urlunsplit(parts._replace(path=path, query=urlencode(kept), fragment=""))
