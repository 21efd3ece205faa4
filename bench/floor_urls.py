"""Morgue's addresses plus /bench-floor/<name>/: mounted only by bench/settings.py."""

from django.urls import path

from bench.floor import floor
from morgue.urls import handler400, handler403, handler404, handler500
from morgue.urls import urlpatterns as morgue_urlpatterns

urlpatterns = [path("bench-floor/<str:name>/", floor, name="bench-floor"), *morgue_urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
