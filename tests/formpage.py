"""Read a page's forms as a browser would, to send one back with a few fields changed."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    attrs: dict
    fields: dict = field(default_factory=dict)

    def data(self, **changes) -> dict:
        """What the browser would send, with `changes` typed in (None removes a field)."""
        values = {**self.fields, **changes}
        return {name: value for name, value in values.items() if value is not None}


class _Forms(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = attrs.get("action") or self.page_url
            self.current = Form(action, (attrs.get("method") or "get").lower(), attrs)
            self.forms.append(self.current)
            return
        form = self.current
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form.fields[name] = attrs.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                form.fields[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            self.select, self.first_option = name, None
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.first_option is None:
                self.first_option = value
                form.fields.setdefault(self.select, value)
            if "selected" in attrs:
                form.fields[self.select] = value

    def handle_data(self, data):
        if self.current is not None and self.textarea:
            self.current.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            if self.current is not None and self.textarea:
                # A newline straight after <textarea> is not part of its value (HTML parsing rules).
                value = self.current.fields[self.textarea]
                self.current.fields[self.textarea] = value[1:] if value.startswith("\n") else value
            self.textarea = None


def forms_on(response, page_url: str = "") -> list[Form]:
    """Every form of a rendered page; a form without an action posts to `page_url`."""
    parser = _Forms(page_url or response.wsgi_request.path)
    parser.feed(response.content.decode())
    return parser.forms


def form_on(response, *, action: str = "", page_url: str = "", **attrs) -> Form:
    """The one form posting to `action` (or carrying `attrs`, e.g. data_kind="dev")."""
    wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
    found = [
        form
        for form in forms_on(response, page_url)
        if (not action or form.action.split("?")[0] == action)
        and all(form.attrs.get(name) == value for name, value in wanted.items())
    ]
    assert len(found) == 1, f"{len(found)} forms match {action} {wanted}"
    return found[0]
