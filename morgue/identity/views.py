"""The sign-in page: what is offered depends on what is configured."""

from django.conf import settings
from django.contrib.auth.views import LoginView


class SignInView(LoginView):
    """Username and password (local accounts or LDAP), and a button per single sign-on provider."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["single_sign_on"] = settings.OIDC_PROVIDER_NAME if settings.OIDC_ISSUER else ""
        context["passwords"] = bool(settings.MORGUE_LOCAL_PASSWORDS or settings.LDAP_SERVER_URI)
        return context
