import re

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from morgue import permissions
from morgue.submissions import FIELD, token_for

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str) -> str:
    """A navigation link, marked current for its section; nothing if the page is not installed."""
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    request = context.get("request")
    current = request is not None and (request.path == url or (url != "/" and request.path.startswith(url)))
    return format_html('<a href="{}"{}>{}</a>', url, ' aria-current="page"' if current else "", label)


@register.filter
def duration(seconds) -> str:
    """Seconds as a readable duration: `45s`, `12m`, `3h 05m`, `2d 4h`."""
    if seconds is None or seconds == "":
        return "—"
    seconds = round(float(seconds))
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s" if secs and minutes < 10 else f"{sign}{minutes}m"
    return f"{sign}{secs}s"


@register.simple_tag(takes_context=True)
def submission_field(context, *name) -> str:
    """A create form's one-time token (morgue.submissions), named for its form on the page.

    `{% submission_field "incident-create" %}`, `{% submission_field "page" team.slug %}`.
    """
    form = re.sub(r"[^a-z0-9-]+", "-", "-".join(str(part) for part in name).lower())[:60]
    token = token_for(context["request"], form)
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, token)


@register.simple_tag(takes_context=True)
def history_link(context, target, label: str = "History") -> str:
    """A link to the object's audit history, for staff only (others may not read the trail)."""
    user = context.get("user")
    if target is None or user is None or not permissions.allowed(user, "read", None, kind="audit"):
        return ""
    url = reverse("audit-object", args=[target._meta.label_lower, target.pk])
    return format_html('<a href="{}" class="history-link">{}</a>', url, label)
