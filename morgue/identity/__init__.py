"""Signing in through the company directory: OpenID Connect (oidc.py) and LDAP (ldap.py).

Both end in the same two services (morgue.services.update_person_from_directory and
sync_directory_groups), so a person looks the same whichever way they came in.
"""
