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


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_public_api_never_fails(lille, operation):
    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call()
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
            assert content_type[0] == "application/problem+json", (case.path, response.text)

    check()
