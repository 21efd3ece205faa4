"""GET /api/schema/ and the API docs pages (kept apart from morgue.schema, which DRF imports at start-up)."""

import threading

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

# drf-spectacular loads each extension's target class on first use and is not
# thread-safe while doing so: two first requests at once (Swagger UI and ReDoc
# opened together under a threaded server) can fail one with a 500, so one
# schema is generated at a time.
_SCHEMA_LOCK = threading.Lock()


class SchemaView(SpectacularAPIView):
    """The OpenAPI document at /api/schema/, generated one request at a time."""

    def _get_schema_response(self, request):
        with _SCHEMA_LOCK:
            return super()._get_schema_response(request)


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI at /api/docs/: its start-up script is served from ?script, not inline, for the CSP."""


class RedocView(SpectacularRedocView):
    """ReDoc at /api/redoc/, with a policy that lets it start its web worker."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY_REDOC
        return response
