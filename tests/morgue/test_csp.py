"""The Content-Security-Policy: scripts only from Morgue's own files, on every kind of page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loaders.app_directories import get_app_template_dirs

from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

# An inline script: a <script> element without a src attribute.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
# An event handler attribute (onclick=, onload=…) or a javascript: address.
HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def _project_templates() -> list[Path]:
    """Morgue's own templates: templates/ and every Morgue app's, not installed packages'."""
    base = Path(settings.BASE_DIR)
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    # Morgue's own apps: the virtualenv may sit inside the checkout (make's .venv) and is not ours.
    folders += [
        Path(folder)
        for folder in get_app_template_dirs("templates")
        if base in Path(folder).parents and not Path(folder).is_relative_to(base / ".venv")
    ]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_no_template_has_inline_script_or_event_handlers():
    templates = _project_templates()
    assert len(templates) > 50  # the walk found Morgue's templates

    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {match.group(0).strip()}"
        for path in templates
        for pattern in (INLINE_SCRIPT, HANDLER)
        for match in pattern.finditer(path.read_text())
    ]

    assert found == []


def test_the_grep_finds_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">')
    assert not INLINE_SCRIPT.search("<script src=\"{% static 'morgue/forms.js' %}\" defer></script>")
    assert HANDLER.search('<button onclick="window.print()">')
    assert HANDLER.search('<a href="javascript:void(0)">')
    assert not HANDLER.search('<form method="post" action="/x">')


def test_the_policy_allows_no_inline_script():
    policy = _directives(settings.CONTENT_SECURITY_POLICY)

    assert policy["script-src"] == "script-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["form-action"] == "form-action 'self'"
    assert "unsafe" not in policy["default-src"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/profile/",
        "/incidents/",
        "/incidents/new/",
        "/oncall/",
        "/alerts/",
        "/api/docs/",
        "/api/docs/?script=",
        "/api/v1/me/",
        "/no-such-page/",
    ],
)
def test_every_kind_of_answer_carries_the_policy(browser_client, path):
    response = browser_client.get(path)

    assert response.status_code in (200, 404), (path, response.status_code)
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_an_incident_page_and_its_editor_carry_the_policy(browser_client):
    incident = IncidentFactory()

    for path in (incident.get_absolute_url(), f"/incidents/{incident.pk}/edit/"):
        response = browser_client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_the_admin_carries_the_policy(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    for path in ("/admin/", "/admin/alerts_review/alertsource/add/", "/admin/morgue/apitoken/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_pages_for_visitors_carry_the_policy(client):
    for path in ("/accounts/login/", "/profile/"):
        response = client.get(path)
        assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_redoc_may_start_its_worker_but_runs_no_inline_script(browser_client):
    response = browser_client.get("/api/redoc/")

    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == "script-src 'self'"
    assert policy["worker-src"] == "worker-src 'self' blob:"
    assert not INLINE_SCRIPT.search(response.content.decode())


def test_swagger_ui_loads_its_start_up_script_from_a_file(browser_client):
    page = browser_client.get("/api/docs/").content.decode()

    assert not INLINE_SCRIPT.search(page)
    assert "/api/docs/?script=" in page
