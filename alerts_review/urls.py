from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, views

app_name = "alerts_review"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns = [
    path("alerts/", views.review, name="review"),
    path("alerts/shifts/<int:shift_id>/", views.review, name="shift-review"),
    path("alerts/<int:alert_id>/classify/", views.classify, name="classify"),
    path("alerts/shifts/<int:shift_id>/classify-check/", views.classify_check, name="classify-check"),
    path("alerts/reports/", views.latest_report, name="reports"),
    path("alerts/reports/<str:month>/", views.report, name="report"),
    path("alerts/reports/<str:month>/review/", views.save_review, name="save-review"),
    path("alerts/reports/<str:month>/act/", views.act, name="act"),
    path("alerts/paging/", views.paging_teams, name="paging"),
    path("alerts/paging/<slug:slug>/", views.team_paging, name="team-paging"),
    path("alerts/import-oncall/", views.import_oncall_page, name="import-oncall"),
    path("alerts/import-oncall/<slug:run>/", views.import_oncall_result, name="import-oncall-result"),
]

router = SimpleRouter()
router.register("alerts", api.AlertViewSet, basename="alert")
router.register("maintenance-windows", api.MaintenanceWindowViewSet, basename="maintenance-window")
router.register("pages", api.PageViewSet, basename="page")

# REST endpoints, included under /api/v1/ by morgue/urls.py. Every receiver
# answers at its URL with and without the trailing slash (api.without_slash).
api_urlpatterns = [
    path("alerts/alertmanager/", api.AlertmanagerReceiver.as_view(), name="alerts-alertmanager"),
    path("alerts/alertmanager", api.without_slash(api.AlertmanagerReceiver)),
    path("alerts/nagios/", api.NagiosReceiver.as_view(), name="alerts-nagios"),
    path("alerts/nagios", api.without_slash(api.NagiosReceiver)),
    path("alerts", api.without_slash(api.AlertViewSet, get="list", post="create")),
    path("reports/alerts/", api.AlertReportView.as_view(), name="alerts-report"),
    path("teams/<slug:slug>/paging-policy/", api.PagingPolicyView.as_view(), name="team-paging-policy"),
    *router.urls,
]
