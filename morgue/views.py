from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors
from .forms import ProfileForm
from .models import Profile
from .services import update_profile


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database must answer; the broker is reported."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"database": "unavailable", "broker": selectors.broker_status()}, status=503)
    return JsonResponse({"database": "ok", "broker": selectors.broker_status()})


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "morgue/home.html", selectors.home_context(user=request.user))


def profile(request: HttpRequest) -> HttpResponse:
    person = Profile.objects.for_user(request.user)
    form = ProfileForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        update_profile(profile=person, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    # The cross-app panels: the on-call calendar and the person's remediation items.
    from incidents.selectors.remediation import open_items_for
    from oncall.feeds import feed_url

    context = {
        "form": form,
        "person": person,
        "calendar_url": feed_url(profile=person),
        "webcal_url": feed_url(profile=person, webcal=True),
        "open_remediation_items": open_items_for(request.user, today=timezone.localdate()),
    }
    return render(request, "morgue/profile.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


@login_not_required
def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Morgue hit an internal error; it has been logged."}, status=500)
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the layout itself may be what is broken
        return HttpResponse(
            "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
            "<p>Morgue hit an internal error. It has been logged.</p>",
            status=500,
        )


@login_not_required
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # A BadRequest carries a sentence naming the problem; other 400s (a bad
    # Host header, say) get the plain one.
    said = exception.args[0] if isinstance(exception, BadRequest) and exception.args else ""
    detail = said or "The request could not be understood."
    if _wants_json(request):
        return JsonResponse({"detail": detail}, status=400)
    return render(request, "400.html", {"detail": detail}, status=400)


@login_not_required
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "You do not have permission to do that."}, status=403)
    return render(request, "403.html", status=403)
