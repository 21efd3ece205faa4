"""LDAP and Active Directory sign-in through django-auth-ldap (settings built in ldap_config.py).

After django-auth-ldap has checked the password by binding as the person and
read their groups, the person goes through the same service as OpenID Connect
(morgue.services.sign_in_from_directory): directory groups become
`directory:<name>` Django groups the same way.
"""

from django.conf import settings
from django_auth_ldap.backend import LDAPBackend

from morgue.services import sign_in_from_directory


class DirectoryLDAPBackend(LDAPBackend):
    """Sign people in with their directory password (AUTHENTICATION_BACKENDS when LDAP_SERVER_URI is set)."""

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        attrs = ldap_user.attrs or {}
        names = attrs.get(self.display_name_attribute) or attrs.get("cn") or [""]
        groups = sorted(ldap_user.group_names) if self.settings.GROUP_SEARCH else None
        profile = sign_in_from_directory(
            user=user,
            username=user.username,
            email=user.email,
            display_name=str(names[0])[:150],
            time_zone=None,
            groups=groups,
        )
        return profile.user

    @property
    def display_name_attribute(self) -> str:
        return getattr(settings, "MORGUE_LDAP_DISPLAY_NAME_ATTR", "displayName")
