from django.urls import path

app_name = "incidents"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns: list = []

# REST endpoints, included under /api/v1/ by morgue/urls.py.
api_urlpatterns: list = []

# --- Incidents and postmortems ---------------------------------------------------
from rest_framework.routers import SimpleRouter  # noqa: E402

from incidents.api.incident import IncidentViewSet  # noqa: E402
from incidents.views import incident as incident_views  # noqa: E402

incident_router = SimpleRouter()
incident_router.register("incidents", IncidentViewSet, basename="incident")
api_urlpatterns += [
    # Exactly `review.ics`, no trailing slash: calendar clients fetch it as a file.
    path(
        "incidents/<int:pk>/review.ics",
        IncidentViewSet.as_view({"get": "review_ics"}),
        name="incident-review-ics",
    ),
    *incident_router.urls,
]

urlpatterns += [
    path("incidents/", incident_views.incident_list, name="list"),
    path("incidents/new/", incident_views.incident_create, name="create"),
    path("incidents/review-queue/", incident_views.review_queue, name="review-queue"),
    path("incidents/<int:pk>/", incident_views.incident_detail, name="detail"),
    path("incidents/<int:pk>/edit/", incident_views.incident_edit, name="edit"),
    path("incidents/<int:pk>/editing/", incident_views.incident_editing, name="editing"),
    path("incidents/<int:pk>/timeline/", incident_views.timeline_add, name="timeline-add"),
    path("incidents/<int:pk>/history/", incident_views.incident_history, name="history"),
    path(
        "incidents/<int:pk>/history/<int:number>/restore/",
        incident_views.revision_restore,
        name="revision-restore",
    ),
    path("incidents/<int:pk>/review/", incident_views.review_schedule, name="review"),
    path("incidents/<int:pk>/review/invite/", incident_views.review_invite, name="review-invite"),
    path("incidents/<int:pk>/review.ics", incident_views.review_ics, name="review-ics"),
    path("incidents/<int:pk>/delete/", incident_views.incident_delete, name="delete"),
    path("incidents/<int:pk>/restore/", incident_views.incident_restore, name="restore"),
]
