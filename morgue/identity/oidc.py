"""OpenID Connect sign-in through mozilla-django-oidc, configured from the provider's discovery document.

The library runs the authorisation code flow with PKCE, checks `state` and
`nonce`, and verifies the ID token's signature against the provider's JWKS.
This module adds what Morgue needs around it:

- endpoints come from `<OIDC_ISSUER>/.well-known/openid-configuration`, fetched on
  first use and cached for an hour (nothing is fetched at start-up, so a provider
  that is down never stops Morgue, or local sign-in, from starting);
- the ID token must name this issuer and this client (`iss`, `aud`);
- people are matched by email, created on first sign-in through the same service
  as LDAP (morgue.services.sign_in_from_directory), and their directory groups
  synced from OIDC_GROUPS_CLAIM;
- with OIDC_ALLOWED_GROUPS set, someone in none of them is refused, at every sign-in.
"""

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from morgue.services import sign_in_from_directory

logger = logging.getLogger(__name__)

DISCOVERY_CACHE_SECONDS = 60 * 60
# mozilla-django-oidc's setting names for the endpoints, and the discovery document's.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
REFUSAL_ATTRIBUTE = "morgue_sign_in_refusal"


class ProviderUnavailable(Exception):
    """The OpenID provider's discovery document could not be read or does not fit."""


def provider_configuration() -> dict[str, Any]:
    """The provider's discovery document, fetched once an hour at most."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        raise ImproperlyConfigured("OIDC_ISSUER is not set.")
    key = f"morgue:oidc-discovery:{issuer}"
    document = cache.get(key)
    if document is None:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(f"Could not read {url}: {error}") from error
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the one asked for.
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
            raise ProviderUnavailable(f"{url} names another issuer: {document.get('issuer')!r}")
        missing = [name for name in DISCOVERED.values() if not document.get(name)]
        if missing:
            raise ProviderUnavailable(f"{url} does not give {', '.join(missing)}")
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


def discovered_setting(attr: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting, endpoints taken from the discovery document."""
    if attr in DISCOVERED:
        return provider_configuration()[DISCOVERED[attr]]
    return import_from_settings(attr, *default)


def group_names(claims: dict[str, Any]) -> list[str] | None:
    """The directory groups a provider's claims name, or None when it sent no groups claim."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(name) for name in value if isinstance(name, str | int)]


def is_allowed(groups: list[str] | None) -> bool:
    """Whether OIDC_ALLOWED_GROUPS lets someone in these groups use Morgue."""
    allowed = set(settings.OIDC_ALLOWED_GROUPS)
    return not allowed or bool(allowed & set(groups or []))


class DirectoryOIDCBackend(OIDCAuthenticationBackend):
    """Sign people in with an OpenID provider (AUTHENTICATION_BACKENDS when OIDC_ISSUER is set)."""

    get_settings = staticmethod(discovered_setting)

    def __init__(self, *args, **kwargs):
        # The library reads every endpoint here; Django makes a backend for every
        # sign-in, local passwords included, so endpoints are read only when used.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    # The library's attribute names, read when a sign-in needs them.
    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return discovered_setting("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return discovered_setting("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return discovered_setting("OIDC_OP_JWKS_ENDPOINT")

    def verify_token(self, token, **kwargs):
        """The library checks the signature, expiry and nonce; this adds issuer and audience."""
        payload = super().verify_token(token, **kwargs)
        if payload.get("iss", "").rstrip("/") != settings.OIDC_ISSUER:
            raise SuspiciousOperation("The ID token was issued by another provider.")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued to another client.")
        self.id_token_claims = payload
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo answer over the ID token's claims (some providers put groups only in one)."""
        claims = dict(payload)
        claims.update(super().get_userinfo(access_token, id_token, payload))
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about someone else.")
        return claims

    def verify_claims(self, claims):
        if not claims.get("email"):
            self.refuse("The provider did not give an email address for this account.")
            return False
        if not is_allowed(group_names(claims)):
            self.refuse("Your account is not in a group allowed to use Morgue; ask your administrator.")
            return False
        return True

    def refuse(self, sentence: str) -> None:
        setattr(self.request, REFUSAL_ATTRIBUTE, sentence)

    def create_user(self, claims):
        return self.sign_in(None, claims)

    def update_user(self, user, claims):
        return self.sign_in(user, claims)

    def sign_in(self, user, claims):
        email = claims["email"]
        profile = sign_in_from_directory(
            user=user,
            username=email[:150],
            email=email,
            display_name=str(claims.get("name") or "")[:150],
            time_zone=claims.get("zoneinfo") if isinstance(claims.get("zoneinfo"), str) else None,
            groups=group_names(claims),
        )
        return profile.user


def sign_in_failed(request: HttpRequest, sentence: str) -> HttpResponse:
    messages.error(request, sentence)
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


class SignInRequestView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(discovered_setting)

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not settings.OIDC_ISSUER:
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = discovered_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as error:
            logger.warning("OpenID provider unavailable: %s", error)
            return sign_in_failed(
                request, f"{settings.OIDC_PROVIDER_NAME} cannot be reached just now; try again shortly."
            )
        return super().get(request)


class SignInCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back; any doubt about the answer refuses the sign-in."""

    get_settings = staticmethod(discovered_setting)

    def get(self, request):
        if not settings.OIDC_ISSUER:
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except (SuspiciousOperation, ProviderUnavailable, requests.RequestException) as error:
            logger.warning("OpenID sign-in refused: %s", error)
            return self.login_failure()

    def login_failure(self):
        sentence = getattr(
            self.request,
            REFUSAL_ATTRIBUTE,
            f"Signing in with {settings.OIDC_PROVIDER_NAME} did not work; please try again.",
        )
        return sign_in_failed(self.request, sentence)
