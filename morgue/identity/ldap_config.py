"""LDAP and Active Directory settings: django-auth-ldap's AUTH_LDAP_* from Morgue's LDAP_* variables.

Read by morgue/settings.py, so nothing here touches models; the backend is in ldap.py.

Morgue binds with a service account (LDAP_BIND_DN), finds the person under
LDAP_USER_SEARCH_BASE, checks their password by binding as them, reads their
groups under LDAP_GROUP_SEARCH_BASE, and then goes through the same service as
OpenID Connect (morgue.services.sign_in_from_directory), so directory groups
become `directory:<name>` Django groups the same way.

django-auth-ldap needs python-ldap, which compiles against OpenLDAP's headers;
it is in requirements-ldap.txt, which `make` installs only where the headers are
(README "Signing in"), so a machine that never uses LDAP needs no compiler.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

try:
    import ldap
    from django_auth_ldap import config as ldap_config
except ImportError as error:  # pragma: no cover - depends on the machine
    raise ImproperlyConfigured(
        "LDAP_SERVER_URI is set but django-auth-ldap is not installed: install OpenLDAP's headers "
        "(apt-get install libldap2-dev libsasl2-dev) and run `make` "
        "(or pip install -r requirements-ldap.txt)."
    ) from error


GROUP_TYPES = {
    "groupOfNames": lambda: ldap_config.GroupOfNamesType(),
    "nestedGroupOfNames": lambda: ldap_config.NestedGroupOfNamesType(),
    "groupOfUniqueNames": lambda: ldap_config.GroupOfUniqueNamesType(),
    "posixGroup": lambda: ldap_config.PosixGroupType(),
    "activeDirectory": lambda: ldap_config.ActiveDirectoryGroupType(),
    "nestedActiveDirectory": lambda: ldap_config.NestedActiveDirectoryGroupType(),
}


def ldap_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """django-auth-ldap's AUTH_LDAP_* settings from Morgue's LDAP_* environment variables."""

    def get(name: str, default: str = "") -> str:
        return environ.get(name, default).strip()

    def flag(name: str) -> bool:
        return get(name).lower() in {"1", "true", "yes", "on"}

    group_type = get("LDAP_GROUP_TYPE", "groupOfNames")
    if group_type not in GROUP_TYPES:
        choices = ", ".join(GROUP_TYPES)
        raise ImproperlyConfigured(f"LDAP_GROUP_TYPE must be one of {choices}, not {group_type!r}.")
    if not get("LDAP_USER_SEARCH_BASE"):
        raise ImproperlyConfigured("LDAP_USER_SEARCH_BASE must be set when LDAP_SERVER_URI is.")

    options: dict[int, Any] = {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: 10}
    global_options: dict[int, Any] = {}
    if get("LDAP_CA_FILE"):
        global_options[ldap.OPT_X_TLS_CACERTFILE] = get("LDAP_CA_FILE")
        global_options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        # A new TLS context, so the CA file applies to connections made from now on.
        options[ldap.OPT_X_TLS_CACERTFILE] = get("LDAP_CA_FILE")
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0

    result: dict[str, Any] = {
        "AUTH_LDAP_SERVER_URI": get("LDAP_SERVER_URI"),
        "AUTH_LDAP_BIND_DN": get("LDAP_BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": environ.get("LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": flag("LDAP_START_TLS"),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_GLOBAL_OPTIONS": global_options,
        "AUTH_LDAP_USER_SEARCH": ldap_config.LDAPSearch(
            get("LDAP_USER_SEARCH_BASE"), ldap.SCOPE_SUBTREE, get("LDAP_USER_FILTER", "(uid=%(user)s)")
        ),
        "AUTH_LDAP_USER_ATTR_MAP": {
            "first_name": get("LDAP_ATTR_FIRST_NAME", "givenName"),
            "last_name": get("LDAP_ATTR_LAST_NAME", "sn"),
            "email": get("LDAP_ATTR_EMAIL", "mail"),
        },
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        # Groups are synced by Morgue (directory: prefix), never mirrored wholesale.
        "AUTH_LDAP_MIRROR_GROUPS": False,
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        "MORGUE_LDAP_DISPLAY_NAME_ATTR": get("LDAP_ATTR_DISPLAY_NAME", "displayName"),
    }
    if get("LDAP_GROUP_SEARCH_BASE"):
        result["AUTH_LDAP_GROUP_SEARCH"] = ldap_config.LDAPSearch(
            get("LDAP_GROUP_SEARCH_BASE"),
            ldap.SCOPE_SUBTREE,
            get("LDAP_GROUP_FILTER", "(objectClass=*)"),
        )
        result["AUTH_LDAP_GROUP_TYPE"] = GROUP_TYPES[group_type]()
    if get("LDAP_REQUIRE_GROUP"):
        # Someone outside this group (a DN) is refused at every sign-in.
        result["AUTH_LDAP_REQUIRE_GROUP"] = get("LDAP_REQUIRE_GROUP")
    return result
