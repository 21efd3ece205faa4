from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.core.exceptions import BadRequest
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from .errors import bad_request
from .models import Profile
from .text import unreadable_text

# The REST API authenticates by session or token inside Django REST framework,
# which answers 401/403 in JSON; a redirect to the login page would break scripts.
API_PREFIXES = ("/api/v1/", "/api/schema/")


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a signed-in person unless its view is marked `login_not_required`."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(API_PREFIXES):
            return None
        if hasattr(view_func, "cls") and not request.user.is_authenticated:
            # DRF marks its views login-exempt; pages it renders outside the
            # API (the browsable docs) still need a signed-in person.
            return self.handle_no_permission(request, view_func)
        return super().process_view(request, view_func, view_args, view_kwargs)


class TimezoneMiddleware:
    """Show times on the viewer's own wall clock (their profile's IANA zone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # The stored name was validated; a zone tzdata no longer has falls back to UTC.
            timezone.activate(Profile.objects.for_user(user).zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


NUMBER_TOO_LARGE = (
    f"A number in the request is too large to look up: the largest the database stores is {2**63 - 1:,}."
)


class NumberTooLargeMiddleware:
    """A number past a 64-bit integer is a 400 naming the problem, not a 500.

    SQLite cannot bind such a number at all, and Django's admin hands filter
    values from the address (`?incident=100000000000000000000`) straight to
    the database. PostgreSQL compares them as numerics and finds nothing.
    Morgue's own forms and API bound their numbers before they get this far.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError) and "SQLite INTEGER" in str(exception):
            return bad_request(request, BadRequest(NUMBER_TOO_LARGE))
        return None


class UnreadableTextMiddleware:
    """An address or query parameter with a NUL byte or a lone surrogate is a 400 naming it.

    PostgreSQL refuses NUL in text, so such a value in a slug or a search
    would otherwise reach the database and fail there. Bodies are checked by
    the forms and serializers that read them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self._problem(request)
        if problem:
            return bad_request(request, BadRequest(problem))
        return self.get_response(request)

    @staticmethod
    def _problem(request) -> str | None:
        reason = unreadable_text(request.path)
        if reason:
            return f"The address {reason}."
        for name, values in request.GET.lists():
            for text in (name, *values):
                reason = unreadable_text(text)
                if reason:
                    return f"The query parameter {name!r} {reason}."
        return None


class SignedInSecurityMiddleware:
    """Headers every page carries, and no copy of a signed-in page kept anywhere.

    Django's SecurityMiddleware sends Referrer-Policy and X-Content-Type-Options;
    this adds Permissions-Policy. A page or API answer for a signed-in person
    (by session, or by token: DRF sets request.user while the view runs) gets
    `Cache-Control: no-store`, so a shared computer's back button or a proxy
    never shows it to the next person, unless the view set its own (always
    `private`: a stored graph image, a calendar feed).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        # A view that chose a cache policy (a stored image, kept privately for a day) keeps it.
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            add_never_cache_headers(response)
        return response


class ContentSecurityPolicyMiddleware:
    """Every answer says where its page may load things from (settings.CONTENT_SECURITY_POLICY).

    Scripts come only from Morgue's own files: no template has inline script or
    `on…=` handlers (tests/morgue/test_csp.py), so an injected `<script>` does
    not run. A view that needs another policy (ReDoc's web worker,
    morgue.schema_view) sets the header itself and keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
