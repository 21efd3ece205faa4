from django.urls import path

from .api.metrics import IncidentMetricsView
from .views.report import incident_report_page

app_name = "incidents"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns: list = [
    path("reports/incidents/", incident_report_page, name="report"),
]

# REST endpoints, included under /api/v1/ by morgue/urls.py.
api_urlpatterns: list = [
    path("metrics/incidents/", IncidentMetricsView.as_view(), name="incident-metrics"),
]

# --- Remediation items ----------------------------------------------------------
from rest_framework.routers import SimpleRouter  # noqa: E402

from incidents.api import remediation as remediation_api  # noqa: E402
from incidents.views import remediation as remediation_views  # noqa: E402

remediation_router = SimpleRouter()
remediation_router.register("remediations", remediation_api.RemediationItemViewSet, basename="remediation")

urlpatterns += [
    path("remediations/", remediation_views.board, name="remediation-board"),
    path("remediations/export.csv", remediation_views.board_csv, name="remediation-board-csv"),
    path(
        "remediations/incident/<int:incident_id>/",
        remediation_views.incident_items,
        name="remediation-incident",
    ),
    path(
        "remediations/incident/<int:incident_id>/add/",
        remediation_views.add_item,
        name="remediation-add",
    ),
    path("remediations/<int:item_id>/edit/", remediation_views.edit_item, name="remediation-edit"),
    path("remediations/<int:item_id>/status/", remediation_views.change_status, name="remediation-status"),
]

api_urlpatterns += [
    path(
        "incidents/<int:incident_id>/remediations/",
        remediation_api.IncidentRemediationListView.as_view(),
        name="incident-remediations",
    ),
    path(
        "metrics/remediations/",
        remediation_api.RemediationMetricsView.as_view(),
        name="remediation-metrics",
    ),
    *remediation_router.urls,
]
