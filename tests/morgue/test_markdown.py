from html.parser import HTMLParser

import pytest

from morgue.markdown import render_markdown

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
