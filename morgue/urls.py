from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from rest_framework.routers import SimpleRouter

import alerts_review.urls
import incidents.urls
import oncall.urls

from . import health, metrics
from .audit import api as audit_api
from .audit import views as audit_views
from .identity import oidc
from .identity.views import SignInView
from .schema_view import RedocView, SchemaView, SwaggerView
from .site import api, views

router = SimpleRouter()
router.register("people", api.PersonViewSet, basename="person")
router.register("audit", audit_api.AuditEntryViewSet, basename="audit")
router.register("tokens", api.ApiTokenViewSet, basename="api-token")

api_urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("me/calendar-token/", api.CalendarTokenView.as_view(), name="me-calendar-token"),
    *router.urls,
    *incidents.urls.api_urlpatterns,
    *oncall.urls.api_urlpatterns,
    *alerts_review.urls.api_urlpatterns,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    # Browsers ask for /favicon.ico on every address, JSON ones included. A
    # permanent redirect is remembered for ever, so it names the unhashed file
    # (collectstatic keeps it beside the hashed copy), not this release's.
    path(
        "favicon.ico",
        login_not_required(
            RedirectView.as_view(url=f"{settings.STATIC_URL}morgue/favicon.svg", permanent=True)
        ),
        name="favicon",
    ),
    path("profile/", views.profile, name="profile"),
    path("people/suggest/", views.people_suggest, name="people-suggest"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path(
        "oidc/authenticate/",
        login_not_required(oidc.SignInRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        login_not_required(oidc.SignInCallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export.csv", audit_views.audit_csv, name="audit-csv"),
    path("audit/<str:kind>/<str:object_id>/", audit_views.object_history, name="audit-object"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include(incidents.urls)),
    path("", include(oncall.urls)),
    path("", include(alerts_review.urls)),
]

handler400 = "morgue.errors.bad_request"
handler403 = "morgue.errors.permission_denied"
handler404 = "morgue.errors.not_found"
handler500 = "morgue.errors.server_error"
