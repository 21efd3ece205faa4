"""Acknowledging a page from outside Morgue: a one-tap link, or an SMS reply "ACK <code>"."""

import datetime as dt

from django.contrib.auth.models import User
from django.core import signing

from morgue.exceptions import MorgueError

from ..exceptions import PageClosed
from ..models import ContactKind, ContactMethod, Page
from .notifications import ACKNOWLEDGE_LINK_AGE, ACKNOWLEDGE_SALT
from .pages import acknowledge_page


class BadAcknowledgeLink(MorgueError):
    pass


def read_acknowledge_token(token: str) -> tuple[Page, User]:
    """The page and person a one-tap link names; BadAcknowledgeLink when forged, expired or gone."""
    try:
        data = signing.loads(token, salt=ACKNOWLEDGE_SALT, max_age=ACKNOWLEDGE_LINK_AGE)
    except signing.SignatureExpired as error:
        raise BadAcknowledgeLink(
            "This acknowledge link has expired; open the page in Morgue instead."
        ) from error
    except signing.BadSignature as error:
        raise BadAcknowledgeLink("This acknowledge link is not valid.") from error
    page = Page.objects.select_related("team").filter(pk=data.get("page")).first()
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if page is None or user is None:
        raise BadAcknowledgeLink("This acknowledge link is not valid.")
    return page, user


def acknowledge_by_link(*, token: str, now: dt.datetime | None = None) -> Page:
    """Acknowledge the page a one-tap link names, as the person it was sent to; twice changes nothing."""
    page, user = read_acknowledge_token(token)
    return acknowledge_page(page=page, user=user, now=now)


def acknowledge_by_sms(*, sender: str, body: str, now: dt.datetime | None = None) -> str:
    """Answer an SMS reply: "ACK <code>" from a person's SMS number acknowledges page <code>."""
    words = body.split()
    if len(words) != 2 or words[0].upper() != "ACK" or not words[1].isdigit():
        return "Reply ACK followed by the page's code to acknowledge it."
    method = (
        ContactMethod.objects.filter(kind__in=[ContactKind.SMS, ContactKind.VOICE], address=sender)
        .select_related("user")
        .first()
    )
    page = Page.objects.filter(pk=int(words[1])).first()
    if method is None or page is None:
        return "No page of yours has that code."
    if not page.steps.filter(user=method.user).exists():
        return "No page of yours has that code."
    try:
        page = acknowledge_page(page=page, user=method.user, now=now)
    except PageClosed as error:
        return error.message
    return f"Page {page.pk} to {page.team} is acknowledged."
