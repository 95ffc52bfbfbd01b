"""Two first log-ins of one person through an identity provider at the same moment (a double
click, two tabs) give one account and one link, and neither fails."""

import threading

import pytest
from django.db import connection, connections

from metropole.core import services
from metropole.core.models import OidcIdentity, User

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a real race needs PostgreSQL's concurrency"
)

CLAIMS = {"sub": "fc-subject-42", "email": "marie@example.org", "given_name": "Marie"}


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_logins_make_one_account_and_one_link():
    start = threading.Barrier(8)
    users, errors = [], []

    def log_in():
        try:
            start.wait()
            users.append(services.sign_in_with_oidc("franceconnect", CLAIMS).pk)
        except Exception as error:  # noqa: BLE001 — any failure is what this test looks for
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=log_in) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(users)) == 1 and len(users) == 8
    assert User.objects.filter(email="marie@example.org").count() == 1
    assert OidcIdentity.objects.filter(subject="fc-subject-42").count() == 1
