import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from tests.factories import ProfileFactory, TeamFactory, UserFactory, make_api_token, member_of


@pytest.fixture
def person(db):
    """A signed-up engineer with a profile: a responder of their own team, so they may run incidents.

    Teamless incidents are any responder's (morgue.permissions); a test about another team's
    things gives `person` a role there with `member_of(team, role, user=person)`.
    """
    user = ProfileFactory(user=UserFactory(username="pat")).user
    return member_of(TeamFactory(slug="pat-team", name="Pat's team"), "responder", user=user)


@pytest.fixture
def staff(db):
    return ProfileFactory(user=UserFactory(username="sam-staff", is_staff=True)).user


@pytest.fixture
def api(person) -> APIClient:
    """An API client signed in as `person` with a token, as a script would be.

    The token never expires, so tests that travel in time keep it.
    """
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(person, days=None)}")
    return client


@pytest.fixture
def staff_api(staff) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(staff, days=None)}")
    return client


@pytest.fixture
def browser_client(client, person):
    """Django's test client with `person` logged in (a browser session)."""
    client.force_login(person)
    return client


SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def sample():
    """Read one of the real-format payloads in tests/samples/ as text."""

    def _read(name: str) -> str:
        return (SAMPLES / name).read_text()

    return _read


# --- The demo organisation, seeded once per test process -------------------------------------------
# `manage.py seed_demo` takes seconds, so the tests that read the demo share one
# seeding. The first of them seeds it inside a transaction that stays open; each
# test runs in pytest-django's savepoint within it, so what a test changes is
# undone after it; and the transaction is rolled back before any test that does
# not ask for the demo, which therefore never sees it. Nothing is committed, so
# the kept counts (morgue/counters.py) go back with the rows they counted, and no
# `flush` or reused test database ever meets demo rows. The tests that ask for
# the demo are collected first, so in one run (and in each xdist worker that gets
# any of them) one seeding serves them all; in any other order they are still
# right, only slower.


class SharedDemo:
    """The demo, seeded inside a transaction that is left open until `discard`."""

    def __init__(self, django_db_blocker):
        self.blocker = django_db_blocker
        self.atomic = None

    def seed(self) -> None:
        if self.atomic is not None:
            return
        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            try:
                call_command("seed_demo", stdout=io.StringIO())
            except BaseException:
                self.discard()
                raise

    def discard(self) -> None:
        if self.atomic is None:
            return
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        self.atomic = None


_shared_demo: SharedDemo | None = None


@pytest.fixture(scope="session")
def _demo_transaction(django_db_setup, django_db_blocker):
    # Session-scoped, so it is set up before a test's own transaction (`db`);
    # later tests that ask for the demo get it seeded again by
    # pytest_runtest_setup below if a test in between discarded it.
    global _shared_demo
    _shared_demo = SharedDemo(django_db_blocker)
    _shared_demo.seed()
    yield _shared_demo
    _shared_demo.discard()
    _shared_demo = None


@pytest.fixture
def demo(request, _demo_transaction, db):
    """The demo organisation of `manage.py seed_demo`, shared by the tests that read it; read-write."""
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        pytest.fail("The shared demo lives in an open transaction: a transactional test must seed its own.")
    assert _demo_transaction.atomic is not None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # After pytest-django's ordering (a stable sort, so its order holds otherwise).
    items.sort(key=lambda item: "demo" not in getattr(item, "fixturenames", ()))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if _shared_demo is None:
        return
    if "demo" in getattr(item, "fixturenames", ()):
        _shared_demo.seed()
    else:
        _shared_demo.discard()
