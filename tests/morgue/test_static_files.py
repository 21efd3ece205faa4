"""In production the application serves its own static files (WhiteNoise), hashed and cached for ever."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture
def collected(settings, tmp_path):
    """Production settings with `collectstatic` run into a fresh STATIC_ROOT."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = PRODUCTION_STORAGES
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def _static_addresses(page: str) -> list[str]:
    return re.findall(r'<(?:link|script)[^>]*?(?:href|src)="(/static/[^"]+)"', page)


def test_every_static_file_a_page_names_is_served_with_a_far_future_cache_header(collected, person):
    client = Client()  # a fresh handler, so WhiteNoise indexes the new STATIC_ROOT
    client.force_login(person)
    addresses = set()
    for page in ("/accounts/login/", "/"):
        response = client.get(page, secure=True, follow=True)
        assert response.status_code == 200, page
        addresses |= set(_static_addresses(response.content.decode()))

    assert len(addresses) >= 4, addresses
    for address in sorted(addresses):
        # Hashed names: a new release changes every changed file's address.
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", address), address
        response = client.get(address, secure=True)
        assert response.status_code == 200, address
        assert "immutable" in response["Cache-Control"], address
        max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))
        assert max_age >= 365 * 24 * 3600, address
        b"".join(response.streaming_content)


def test_a_compressed_copy_is_served_to_clients_that_accept_it(collected):
    client = Client()
    address = "/static/morgue/style.css"

    response = client.get(address, secure=True, headers={"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    b"".join(response.streaming_content)
