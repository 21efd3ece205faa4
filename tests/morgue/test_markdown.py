import threading
from html.parser import HTMLParser

import markdown as markdown_library
import nh3
import pytest

from morgue import markdown as markdown_module
from morgue.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, EXTENSIONS, URL_SCHEMES, render_markdown

# A selection of the OWASP XSS filter evasion cheat sheet.
PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<IMG SRC=javascript:alert('XSS')>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<svg/onload=alert("XSS")>',
    '<body onload=alert("XSS")>',
    '<iframe src="http://evil.example/"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(1);">',
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
]


class _Elements(HTMLParser):
    """Collects the live elements and attributes of rendered HTML (escaped text is not markup)."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((name, (value or "").strip().lower()) for name, value in attrs)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_are_neutralised(payload):
    elements = _Elements()
    elements.feed(render_markdown(payload))

    assert not {"script", "iframe", "object", "meta", "svg", "body", "embed"} & set(elements.tags)
    for name, value in elements.attributes:
        assert not name.startswith("on")
        assert name != "style"
        assert not value.startswith(("javascript:", "data:", "vbscript:"))


def test_markdown_features_survive():
    html = render_markdown(
        "# Title\n\n**bold** and [link](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<table>" in html


SAMPLES = [
    "# Title\n\n**bold** and [link](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "Said[^1] it.\n\n[^1]: A footnote.",
    "*[HTML]: Hyper Text\n\nHTML everywhere",
    "See [the runbook][rb].\n\n[rb]: https://example.com/rb",
    "line one\nline two\n\n1. a\n2. b",
    "<script>alert(1)</script> plain",
]


def test_reused_converter_renders_as_a_fresh_one_and_nothing_leaks_between_texts():
    fresh = [
        nh3.clean(
            markdown_library.markdown(text, extensions=EXTENSIONS, output_format="html"),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
        for text in SAMPLES
    ]

    assert [str(render_markdown(text)) for text in SAMPLES * 2] == fresh * 2
    # a reference defined in an earlier text does not resolve in a later one
    assert "href" not in render_markdown("See [the runbook][rb].")


def test_converter_is_built_once_per_thread_not_per_call(monkeypatch):
    built = []
    original = markdown_library.Markdown

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(markdown_module, "_local", threading.local())
    monkeypatch.setattr(markdown_library, "Markdown", counting)
    markdown_module._render_short.cache_clear()
    for text in SAMPLES:
        render_markdown(text)

    assert len(built) == 1


def test_a_short_text_is_rendered_once_and_a_long_one_every_time(monkeypatch):
    markdown_module._render_short.cache_clear()
    rendered = []
    original = markdown_module._render

    def counting(text):
        rendered.append(text)
        return original(text)

    monkeypatch.setattr(markdown_module, "_render", counting)
    long_text = "word " * 1_000
    for _ in range(3):
        assert render_markdown("**once**") == "<p><strong>once</strong></p>"
        render_markdown(long_text)

    assert rendered.count("**once**") == 1
    assert rendered.count(long_text) == 3
