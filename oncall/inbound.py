"""What reaches Morgue from outside without signing in: the one-tap acknowledge link and the SMS provider.

The one-tap link is signed (django.core.signing, expiring, for one page and
person): GET only shows a button, so a link previewer that fetches it
acknowledges nothing; the POST acknowledges. Twilio's status callbacks and
inbound messages are authenticated by `X-Twilio-Signature`, computed over the
address Twilio was given (MORGUE_BASE_URL and the path) and the form fields.
Both are idempotent, so a replayed request changes nothing.
"""

from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from .exceptions import PageClosed
from .providers import twilio
from .services import acknowledging, notifications


@login_not_required
@csrf_exempt  # the signed token is the proof; the person may not be signed in on this device
@require_http_methods(["GET", "POST"])
def one_tap(request: HttpRequest, token: str) -> HttpResponse:
    try:
        page, person = acknowledging.read_acknowledge_token(token)
    except acknowledging.BadAcknowledgeLink as error:
        return render(request, "oncall/one_tap.html", {"problem": str(error)}, status=400)
    done = False
    if request.method == "POST":
        try:
            page = acknowledging.acknowledge_by_link(token=token)
        except PageClosed:
            page.refresh_from_db()  # the page says why below
        else:
            done = True
    context = {"page": page, "person": person, "done": done}
    return render(request, "oncall/one_tap.html", context)


def _signed_by_twilio(request: HttpRequest) -> bool:
    url = settings.MORGUE_BASE_URL + request.get_full_path()
    params = {key: request.POST.get(key, "") for key in request.POST}
    return twilio.signature_is_valid(url, params, request.headers.get("X-Twilio-Signature", ""))


@login_not_required
@csrf_exempt  # signed by Twilio instead
@require_POST
def twilio_status(request: HttpRequest, pk: int) -> HttpResponse:
    if not _signed_by_twilio(request):
        return HttpResponse("The signature does not match.", status=403, content_type="text/plain")
    status = request.POST.get("MessageStatus") or request.POST.get("CallStatus") or ""
    notifications.record_delivery_status(notification_id=pk, status=status)
    return HttpResponse(status=204)


@login_not_required
@csrf_exempt  # signed by Twilio instead
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed_by_twilio(request):
        return HttpResponse("The signature does not match.", status=403, content_type="text/plain")
    answer = acknowledging.acknowledge_by_sms(
        sender=request.POST.get("From", ""), body=request.POST.get("Body", "")
    )
    twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(answer)}</Message></Response>'
    return HttpResponse(twiml, content_type="text/xml")
