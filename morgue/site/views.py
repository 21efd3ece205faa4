"""The home page and the profile page, composed from every app's selectors."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from incidents.selectors.remediation import open_items_for
from morgue.auth import SignedInRequest
from morgue.forms import ProfileForm
from morgue.models import Profile
from morgue.services import update_profile
from oncall.feeds import feed_url

from . import selectors


def home(request: SignedInRequest) -> HttpResponse:
    return render(request, "morgue/home.html", selectors.home_context(user=request.user))


def people_suggest(request: SignedInRequest) -> JsonResponse:
    """People whose name or username contains ?q=, for the owner fields' suggestions."""
    return JsonResponse({"people": selectors.people_suggested(text=request.GET.get("q", "")[:100])})


def profile(request: SignedInRequest) -> HttpResponse:
    person = Profile.objects.for_user(request.user)
    form = ProfileForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        update_profile(profile=person, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    # The cross-app panels: the on-call calendar and the person's remediation items.
    context = {
        "form": form,
        "person": person,
        "calendar_url": feed_url(profile=person),
        "webcal_url": feed_url(profile=person, webcal=True),
        "open_remediation_items": open_items_for(request.user, today=timezone.localdate()),
    }
    return render(request, "morgue/profile.html", context)
