"""The home page and the profile page, composed from every app's selectors."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from incidents.forms_running import DeclareForm
from incidents.selectors.remediation import open_items_for
from morgue.auth import SignedInRequest
from morgue.forms import ProfileForm
from morgue.models import Profile
from morgue.services import update_profile
from morgue.submissions import submit_once
from oncall.feeds import feed_url
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


def profile(request: SignedInRequest) -> HttpResponse:
    person = Profile.objects.for_user(request.user)
    # The page holds several forms; `form` names the one sent, so only it is bound.
    sent = request.POST.get("form", "profile") if request.method == "POST" else ""
    form = ProfileForm(request.POST if sent == "profile" else None, instance=person)
    method_form = ContactMethodForm(request.POST if sent == "contact-method" else None)
    rule_form = NotificationRuleForm(request.POST if sent == "notification-rule" else None, user=request.user)
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
    if sent == "test-page":

        def drill() -> str:
            notifications.fire_drill(user=request.user)
            messages.success(request, "Test notifications are on their way; reload to see the receipts.")
            return f"{reverse('profile')}#fire-drill"

        return submit_once(request, drill)
    # The cross-app panels: the on-call calendar and the person's remediation items.
    context = {
        "form": form,
        "person": person,
        "calendar_url": feed_url(profile=person),
        "webcal_url": feed_url(profile=person, webcal=True),
        "open_remediation_items": open_items_for(request.user, today=timezone.localdate()),
        "method_form": method_form,
        "rule_form": rule_form,
        **reaching_context(user=request.user),
    }
    return render(request, "morgue/profile.html", context)
