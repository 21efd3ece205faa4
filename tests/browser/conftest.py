"""Playwright against Debian's Chromium; never a downloaded browser."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("MORGUE_CHROMIUM", "/usr/bin/chromium")
# ReDoc's bundle always asks a CDN for its own "API docs by Redocly" logo, and hides it when
# refused. The Content-Security-Policy refusing it is what Morgue wants (nothing loads from the
# internet), so that one console error is expected; any other is a fault.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

# Playwright's sync API runs an event loop in the test thread; the test's own
# ORM calls (creating the person who logs in) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM):
        return
    if os.environ.get("MORGUE_REQUIRE_REAL_PROGRAMS") == "1":
        raise pytest.UsageError(f"CI requires Chromium at {CHROMIUM} (MORGUE_REQUIRE_REAL_PROGRAMS=1)")
    skip = pytest.mark.skip(
        reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(timezone_id="Europe/London", locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    """Log a person in through the real login form."""

    def _login(username: str, password: str = "password"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return _login
