"""GET /healthz through Django's test client, against an empty Django view."""

from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from bench.harness import Result, median_seconds


def empty(request):
    return HttpResponse(b"")


empty.login_required = False  # the floor skips nothing else in the middleware stack

urlpatterns = [path("empty", empty)]


def run() -> list[Result]:
    import morgue.urls

    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        floor = median_seconds(lambda: client.get("/empty"), repeat=300)
    with override_settings(ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=morgue.urls.__name__):
        client = Client()
        subject = median_seconds(lambda: client.get("/healthz"), repeat=300)
    return [Result("GET /healthz", subject, floor, "empty view")]
