from django.urls import path  # noqa: F401

app_name = "alerts_review"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns: list = []

# REST endpoints, included under /api/v1/ by morgue/urls.py.
api_urlpatterns: list = []
