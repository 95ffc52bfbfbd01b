"""Property-based tests of the API from its own OpenAPI document (schemathesis): whatever the
generated input, every public endpoint answers a documented status, never a 500."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from metropole.wsgi import application

# Personal endpoints are exercised with a token in test_api.py; here, the public surface.
SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", application).exclude(
    path_regex="^/api/(me|territories/)"
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, which would close the
    test's database connection (fatal inside its transaction on PostgreSQL). Django's own test
    client disconnects the same handler."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_public_api_never_fails(lille, keep_test_connection, operation):
    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call()
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
            assert content_type[0] == "application/problem+json", (case.path, response.text)

    check()
