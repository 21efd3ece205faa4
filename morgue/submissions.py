"""Create forms make one thing however often they are sent.

Each create form carries a one-time token in a hidden field (the
`submission_field` template tag), made when the form is shown and kept when
a refused form is shown again. The view hands its write to `submit_once`,
which claims the token in the same transaction as the write: the first POST
that carries it makes the thing, and any later POST with the same token (a
double click, the back button and submit again, a retry after a lost answer)
makes nothing and is sent where the first one went. When the write is refused
the transaction rolls back and the token is free again, so the corrected form
still goes through.

A POST without a token (an old page, a script) is not guarded, only done.
"""

import datetime as dt
import re
import uuid
from collections.abc import Callable

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone

from .auth import SignedInRequest
from .models import Submission

FIELD = "submission"

# "<form name>:<uuid4>"; the name keeps the tokens of a page's several forms apart.
_TOKEN = re.compile(r"^(?P<form>[a-z0-9-]{1,60}):[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")

ALREADY_SAVED = "That form was sent twice; it was saved once."


def token_for(request: HttpRequest, form: str) -> str:
    """The token for one form on a page: the refused submission's own, else a new one."""
    sent = request.POST.get(FIELD, "") if request.method == "POST" else ""
    match = _TOKEN.match(sent)
    if match and match["form"] == form:
        return sent
    return f"{form}:{uuid.uuid4()}"


def sent_token(request: HttpRequest) -> str | None:
    """The well-formed token a POST carries, or None."""
    sent = request.POST.get(FIELD, "")
    return sent if _TOKEN.match(sent) else None


def submit_once(request: SignedInRequest, write: Callable[[], str]) -> HttpResponse:
    """Run `write` (which saves and returns the address to go to) once per token, and redirect there.

    Exceptions from `write` propagate with nothing saved and the token unclaimed,
    so the view can show the form again with its errors.
    """
    token = sent_token(request)
    if token is None:
        return redirect(write())
    with transaction.atomic():
        try:
            # A savepoint, so the refused insert leaves the outer transaction usable.
            # On PostgreSQL a concurrent second POST waits here on the unique index
            # until the first commits, then finds the token taken.
            with transaction.atomic():
                claim = Submission.objects.create(user=request.user, token=token)
        except IntegrityError:
            claim = None
        if claim is None:
            first = Submission.objects.filter(user=request.user, token=token).first()
            messages.info(request, ALREADY_SAVED)
            return HttpResponseRedirect(first.result_url if first and first.result_url else "/")
        url = write()
        claim.result_url = url[:500]
        claim.save(update_fields=["result_url"])
    return HttpResponseRedirect(url)


# Long past any back button or retry; a form older than this is sent as new.
KEPT_FOR = dt.timedelta(days=7)


def forget_old_submissions(*, now: dt.datetime | None = None) -> int:
    """Delete the claimed tokens older than KEPT_FOR; how many went."""
    now = now or timezone.now()
    deleted, _ = Submission.objects.filter(created_at__lt=now - KEPT_FOR).delete()
    return deleted
