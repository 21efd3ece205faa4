"""The home page and the profile page, composed from every app's selectors."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from incidents.forms_running import DeclareForm
from incidents.selectors.remediation import open_items_for
from morgue.auth import SignedInRequest
from morgue.exceptions import MorgueError
from morgue.forms import ApiTokenForm, ProfileForm
from morgue.models import ApiToken, Profile
from morgue.once import show_once, take_shown
from morgue.services import api_token_expiry, create_api_token, revoke_api_token, update_profile
from morgue.submissions import submit_once
from oncall.feeds import CALENDAR_TOKEN_SHOWN, feed_url
from oncall.forms import ContactMethodForm, NotificationRuleForm
from oncall.models import ContactMethod, NotificationRule
from oncall.selectors import reaching_context
from oncall.services import notifications

from . import selectors


def home(request: SignedInRequest) -> HttpResponse:
    context = selectors.home_context(user=request.user)
    return render(request, "morgue/home.html", {**context, "declare_form": DeclareForm()})


def people_suggest(request: SignedInRequest) -> JsonResponse:
    """People whose name or username contains ?q=, for the owner fields' suggestions."""
    return JsonResponse({"people": selectors.people_suggested(text=request.GET.get("q", "")[:100])})


API_TOKEN_SHOWN = "api-token"  # noqa: S105 (a session key)


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 19 else 0


def profile(request: SignedInRequest) -> HttpResponse:
    person = Profile.objects.for_user(request.user)
    # The page holds several forms; `form` names the one sent, so only it is bound.
    sent = request.POST.get("form", "profile") if request.method == "POST" else ""
    form = ProfileForm(request.POST if sent == "profile" else None, instance=person)
    method_form = ContactMethodForm(request.POST if sent == "contact-method" else None)
    rule_form = NotificationRuleForm(request.POST if sent == "notification-rule" else None, user=request.user)
    token_form = ApiTokenForm(request.POST if sent == "api-token" else None, user=request.user)
    if sent == "profile" and form.is_valid():
        update_profile(profile=person, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    if sent == "contact-method" and method_form.is_valid():
        notifications.add_contact_method(user=request.user, **method_form.cleaned_data)
        messages.success(request, "Contact method added.")
        return redirect(f"{reverse('profile')}#reaching-you")
    if sent == "notification-rule" and rule_form.is_valid():
        notifications.add_notification_rule(user=request.user, **rule_form.cleaned_data)
        messages.success(request, "Notification rule saved.")
        return redirect(f"{reverse('profile')}#reaching-you")
    if sent == "remove-method":
        method = ContactMethod.objects.filter(user=request.user, pk=request.POST.get("id") or 0).first()
        if method is not None:
            notifications.remove_contact_method(method=method)
        messages.success(request, "Contact method removed.")
        return redirect(f"{reverse('profile')}#reaching-you")
    if sent == "remove-rule":
        rule = NotificationRule.objects.filter(user=request.user, pk=request.POST.get("id") or 0).first()
        if rule is not None:
            notifications.remove_notification_rule(rule=rule)
        messages.success(request, "Notification rule removed.")
        return redirect(f"{reverse('profile')}#reaching-you")
    if sent == "api-token" and token_form.is_valid():
        data = token_form.cleaned_data

        def make_token() -> str:
            api_token = create_api_token(
                owner=request.user,
                name=data["name"],
                scope=data["scope"],
                expires_at=api_token_expiry(
                    expires=data["expires"], expires_on=data["expires_on"], zone=person.zone
                ),
            )
            show_once(request, API_TOKEN_SHOWN, api_token.token or "")
            messages.success(
                request, f"API token {api_token.name} is made: copy it now, it is shown only once."
            )
            return f"{reverse('profile')}#api-tokens"

        try:
            # Once per form shown: a double click makes one token (the one whose secret the page shows).
            return submit_once(request, make_token)
        except MorgueError as error:
            token_form.add_error(error.field if error.field in token_form.fields else None, error.message)
    if sent == "revoke-token":
        revoked = ApiToken.objects.filter(owner=request.user, pk=_number(request.POST.get("id"))).first()
        if revoked is not None:
            revoke_api_token(api_token=revoked)
            messages.success(request, f"API token {revoked.name} ({revoked.prefix}…) is revoked.")
        return redirect(f"{reverse('profile')}#api-tokens")
    if sent == "test-page":

        def drill() -> str:
            notifications.fire_drill(user=request.user)
            messages.success(request, "Test notifications are on their way; reload to see the receipts.")
            return f"{reverse('profile')}#fire-drill"

        return submit_once(request, drill)
    # Tokens just made, shown this once: only their hashes are kept.
    calendar_token = take_shown(request, CALENDAR_TOKEN_SHOWN)
    # The cross-app panels: the on-call calendar and the person's remediation items.
    context = {
        "form": form,
        "person": person,
        "calendar_token": calendar_token,
        "calendar_url": feed_url(profile=person, token=calendar_token) if calendar_token else "",
        "webcal_url": feed_url(profile=person, token=calendar_token, webcal=True) if calendar_token else "",
        "token_form": token_form,
        "api_tokens": ApiToken.objects.filter(owner=request.user),
        "new_api_token": take_shown(request, API_TOKEN_SHOWN),
        "now": timezone.now(),
        "open_remediation_items": open_items_for(request.user, today=timezone.localdate()),
        "method_form": method_form,
        "rule_form": rule_form,
        **reaching_context(user=request.user),
    }
    return render(request, "morgue/profile.html", context)
