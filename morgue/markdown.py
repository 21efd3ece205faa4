"""Markdown to safe HTML: rendered with Python-Markdown, then sanitised with nh3.

Sanitising happens after rendering, on the final HTML, so nothing the Markdown
library lets through (raw HTML blocks, odd link syntax) can reach a page.
"""

import functools
import threading

import markdown as markdown_library
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "code": {"class"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["extra", "sane_lists", "nl2br"]


# Built once: nh3.clean() builds a cleaner from the lists on every call.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """Keep only harmless tags, attributes and URL schemes (no script, no on*, no javascript:)."""
    return _CLEANER.clean(html)


_local = threading.local()


def _converter() -> markdown_library.Markdown:
    """This thread's converter: building one (loading every extension) costs more than a short text."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown_library.Markdown(extensions=EXTENSIONS, output_format="html")
        _local.converter = converter
    return converter


# Short texts (remediation descriptions, notes) are rendered again on every list
# that shows them; their HTML is kept, per process, for the most recent ones.
CACHED_TEXT_LENGTH = 4_000
CACHED_TEXTS = 2_048


def render_markdown(text: str) -> SafeString:
    """Markdown source to sanitised HTML, safe to put in a template."""
    if not text:
        return mark_safe("")
    if len(text) <= CACHED_TEXT_LENGTH:
        return _render_short(text)
    return _render(text)


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _render_short(text: str) -> SafeString:
    return _render(text)


def _render(text: str) -> SafeString:
    converter = _converter()
    try:
        html = converter.convert(text)
    finally:
        converter.reset()  # footnotes, abbreviations and references do not leak to the next text
    return mark_safe(sanitise_html(html))  # sanitised by nh3 just above
