"""The home page and the profile page, composed from every app's selectors."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from morgue.forms import ProfileForm
from morgue.models import Profile
from morgue.services import update_profile
from oncall.feeds import feed_url

from . import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "morgue/home.html", selectors.home_context(user=request.user))


def profile(request: HttpRequest) -> HttpResponse:
    person = Profile.objects.for_user(request.user)
    form = ProfileForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        update_profile(profile=person, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    context = {
        "form": form,
        "person": person,
        "calendar_url": feed_url(profile=person),
        "webcal_url": feed_url(profile=person, webcal=True),
    }
    return render(request, "morgue/profile.html", context)
