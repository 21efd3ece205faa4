from django.urls import path

from .api.metrics import IncidentMetricsView

app_name = "incidents"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns: list = []

# REST endpoints, included under /api/v1/ by morgue/urls.py.
api_urlpatterns: list = [
    path("metrics/incidents/", IncidentMetricsView.as_view(), name="incident-metrics"),
]
