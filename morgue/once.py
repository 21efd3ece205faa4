"""A secret shown once: put in the session by the POST that made it, taken out by the page after the redirect.

Only a hash of a token is stored, so the page that follows a "make a token"
form is the one chance to read it. Taking it removes it from the session, so
reloading the page, or the session row later, does not show it again.
"""

from django.http import HttpRequest

SESSION_KEY = "morgue_shown_once"


def show_once(request: HttpRequest, name: str, value: str) -> None:
    shown = dict(request.session.get(SESSION_KEY, {}))
    shown[name] = value
    request.session[SESSION_KEY] = shown


def take_shown(request: HttpRequest, name: str) -> str | None:
    shown = dict(request.session.get(SESSION_KEY, {}))
    value = shown.pop(name, None)
    if value is not None:
        if shown:
            request.session[SESSION_KEY] = shown
        else:
            del request.session[SESSION_KEY]
    return value
