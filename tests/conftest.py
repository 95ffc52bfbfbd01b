"""Fixtures: the real reference data of Lille (and Grand Paris when needed), people with roles."""

import pytest
from django.core.management import call_command

import metropole.urls  # noqa: F401  (builds the API schemas before a test freezes the clock)
from metropole.core import services
from metropole.core.models import Role, Territory, User

LILLE, GRAND_PARIS = "200093201", "200054781"
PASSWORD = "correct-horse-battery-staple"


def load_session_territories() -> None:
    """The territories every test may rely on: Lille (95 communes) and Grand Paris (130)."""
    services.load_metropole(LILLE)
    services.load_metropole(GRAND_PARIS)


def lille_in_this_database() -> Territory:
    """Lille in the current database, loading it if a transactional test flushed it."""
    return Territory.objects.filter(code=LILLE).first() or services.load_metropole(LILLE)


def restore_session_territories(django_db_setup, django_db_blocker):
    """For packages of transactional tests (they flush the database): reload, once the
    package is done, what the session loaded. Used as a package-scoped autouse fixture."""
    yield
    with django_db_blocker.unblock():
        load_session_territories()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the territories once per session (real data) and create the cache table the
    log-in rate limit uses."""
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
        load_session_territories()


@pytest.fixture(autouse=True)
def _clear_cache(db):
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english():
    """Every test starts in English, the language of the source strings its assertions
    read (a test about French text says so with translation.override("fr") or a client's
    Accept-Language). Without this, a page opened by an earlier test left its visitor's
    language active in the thread, and a test passed or failed on the order it ran in."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def lille(db) -> Territory:
    return Territory.objects.get(code=LILLE)


@pytest.fixture
def grand_paris(db) -> Territory:
    return Territory.objects.get(code=GRAND_PARIS)


@pytest.fixture
def commune(db):
    def get(insee: str) -> Territory:
        return Territory.objects.get(code=insee)

    return get


@pytest.fixture
def make_user(db):
    def make(email: str, *, verified=True, **extra) -> User:
        from django.utils import timezone

        return User.objects.create_user(
            email=email,
            password=PASSWORD,
            email_verified_at=timezone.now() if verified else None,
            **extra,
        )

    return make


@pytest.fixture
def grant(db):
    """Grant a role without a permission check (test set-up, not the feature under test)."""
    from metropole.core.models import Membership

    def do(user, territory, role=Role.ADMIN, organisation=None):
        return Membership.objects.create(
            user=user, territory=territory, role=role, organisation=organisation
        )

    return do


@pytest.fixture
def make_member(make_user, grant):
    """A verified person holding `role` on `territory`."""

    def make(email: str, territory, role=Role.ADMIN):
        user = make_user(email)
        grant(user, territory, role)
        return user

    return make


@pytest.fixture
def metropole_admin(make_member, lille):
    return make_member("admin@example.org", lille, Role.ADMIN)


@pytest.fixture
def client():
    """A test client that reads pages in English, so assertions use the source strings
    (French is the default; tests/core/test_i18n.py checks it)."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")


def row_locks(action) -> list[str] | None:
    """The lock clauses (``FOR UPDATE OF "table", ...``) of the statements `action()` runs;
    None where the database does not name locked rows (SQLite locks the whole file)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        action()
    if not connection.features.has_select_for_update_of:
        return None
    return [
        "FOR UPDATE" + q["sql"].rsplit("FOR UPDATE", 1)[1]
        for q in ctx.captured_queries
        if "FOR UPDATE" in q["sql"]
    ]
