from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, contact_api, inbound, views

app_name = "oncall"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns: list = [
    path("oncall/", views.now, name="now"),
    path("oncall/page/", views.page_directory, name="page"),
    path("oncall/pages/<int:pk>/", views.page_detail, name="page-detail"),
    path("oncall/ack/<str:token>/", inbound.one_tap, name="one-tap"),
    path("oncall/twilio/status/<int:pk>/", inbound.twilio_status, name="twilio-status"),
    path("oncall/twilio/inbound/", inbound.twilio_inbound, name="twilio-inbound"),
    path("oncall/fairness/", views.fairness, name="fairness"),
    path("oncall/swaps/<int:pk>/accept/", views.answer_swap, {"answer": "accept"}, name="accept-swap"),
    path("oncall/swaps/<int:pk>/decline/", views.answer_swap, {"answer": "decline"}, name="decline-swap"),
    path("oncall/swaps/<int:pk>/withdraw/", views.withdraw_swap, name="withdraw-swap"),
    path("oncall/calendar-token/", views.reset_calendar_token, name="reset-calendar-token"),
    path("oncall/rotations/<slug:slug>.ics", views.rotation_feed, name="rotation-feed"),
    path("oncall/rotations/<slug:slug>/", views.rotation, name="rotation"),
    path("oncall/rotations/<slug:slug>/schedule/", views.rotation_schedule, name="rotation-schedule"),
    path("oncall/people/<str:username>.ics", views.person_feed, name="person-feed"),
]

router = SimpleRouter()
router.register("teams", api.TeamViewSet, basename="team")
router.register("rotations", api.RotationViewSet, basename="rotation")
router.register("swaps", api.SwapViewSet, basename="swap")
# "pages" is registered by alerts_review, whose page detail adds the alerts on a page.
router.register("me/contact-methods", contact_api.ContactMethodViewSet, basename="contact-method")
router.register("me/notification-rules", contact_api.NotificationRuleViewSet, basename="notification-rule")

# REST endpoints, included under /api/v1/ by morgue/urls.py.
api_urlpatterns: list = [
    path("oncall/", api.OnCallView.as_view(), name="oncall"),
    path("me/test-page/", contact_api.TestPageView.as_view(), name="test-page"),
    *router.urls,
]
