"""GET /healthz through Django's test client, against an empty Django view."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from bench.harness import Result, median_seconds, throwaway_database


@login_not_required  # the floor skips nothing else in the middleware stack
def empty(request):
    return HttpResponse(b"")


urlpatterns = [path("empty", empty)]


def _healthy(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.content


def run() -> list[Result]:
    import morgue.urls
    from morgue.health import BEAT, record_heartbeat

    # A database of its own, so the figure is for a healthy answer whatever
    # DATABASE_URL names (even a database that does not exist yet).
    with throwaway_database(postgres_only=False):
        with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
            client = Client()
            floor = median_seconds(lambda: client.get("/empty"), repeat=300)
        # A beat that ticked a moment ago, as on a healthy deployment.
        record_heartbeat(BEAT)
        with override_settings(ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=morgue.urls.__name__):
            client = Client()
            subject = median_seconds(lambda: _healthy(client), repeat=300)
    return [Result("GET /healthz", subject, floor, "empty view")]
