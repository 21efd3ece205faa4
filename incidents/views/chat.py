"""What Slack and Mattermost send Morgue: `/morgue` slash commands and the incident card's buttons.

No one signs in here: Slack signs every request with the app's signing secret
(incidents.slack_api.signature_problem, with its five-minute replay window) and
Mattermost sends the slash command's token. A request that fails the check is
answered 401 with the sentence saying why, and nothing is done. The answer to a
command is Slack's and Mattermost's shape: `{"response_type": "ephemeral" or
"in_channel", "text": …}` (https://api.slack.com/interactivity/slash-commands,
https://developers.mattermost.com/integrate/slash-commands/custom/).
"""

import hmac
import json
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents import slack_api
from incidents.services import chat as services


def _refused(sentence: str) -> HttpResponse:
    return HttpResponse(sentence, status=401, content_type="text/plain; charset=utf-8")


def _answer(reply: services.ChatReply) -> JsonResponse:
    return JsonResponse({"response_type": "in_channel" if reply.public else "ephemeral", "text": reply.text})


def _slack_problem(request: HttpRequest) -> str:
    return slack_api.signature_problem(
        secret=settings.SLACK_SIGNING_SECRET,
        timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
        body=request.body,
        signature=request.headers.get("X-Slack-Signature", ""),
        now=time.time(),
    )


@login_not_required
@csrf_exempt  # signed by Slack instead
@require_POST
def slack_command(request: HttpRequest) -> HttpResponse:
    if problem := _slack_problem(request):
        return _refused(problem)
    reply = services.slack_command(
        user_id=request.POST.get("user_id", ""),
        channel_id=request.POST.get("channel_id", ""),
        text=request.POST.get("text", ""),
    )
    return _answer(reply)


@login_not_required
@csrf_exempt  # signed by Slack instead
@require_POST
def slack_interaction(request: HttpRequest) -> HttpResponse:
    """A button on Morgue's incident card (https://api.slack.com/reference/interaction-payloads/block-actions)."""
    if problem := _slack_problem(request):
        return _refused(problem)
    try:
        payload = json.loads(request.POST.get("payload", ""))
        user_id = str(payload["user"]["id"])
        action = payload["actions"][0] if payload.get("type") == "block_actions" else None
    except (ValueError, KeyError, IndexError, TypeError):
        return HttpResponse("The payload is not a Slack interaction.", status=400, content_type="text/plain")
    if not isinstance(action, dict):
        return HttpResponse(status=200)  # other interactions (shortcuts, views) are not Morgue's
    reply = services.slack_button(
        user_id=user_id, action_id=str(action.get("action_id", "")), value=str(action.get("value", ""))
    )
    # Slack ignores a block action's answer body; it is kept for the log and the tests.
    return _answer(reply)


@login_not_required
@csrf_exempt  # the slash command's token instead
@require_POST
def mattermost_command(request: HttpRequest) -> HttpResponse:
    expected = settings.MATTERMOST_COMMAND_TOKEN
    if not expected:
        return _refused("Mattermost commands are not accepted: MATTERMOST_COMMAND_TOKEN is not set.")
    given = request.POST.get("token", "")
    header = request.headers.get("Authorization", "")
    if not given and header.startswith("Token "):
        given = header.removeprefix("Token ")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _refused("The slash command's token does not match MATTERMOST_COMMAND_TOKEN.")
    reply = services.mattermost_command(
        user_name=request.POST.get("user_name", ""),
        channel_id=request.POST.get("channel_id", ""),
        channel_name_given=request.POST.get("channel_name", ""),
        text=request.POST.get("text", ""),
    )
    return _answer(reply)
