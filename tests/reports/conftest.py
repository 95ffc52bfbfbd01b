import pytest

from tests.catalogue.fixtures import *  # noqa: F403
from tests.conftest import restore_session_territories

# The Open311 tests use live_server (transactional: the database is flushed after them).
_restore_session_data = pytest.fixture(scope="package", autouse=True)(restore_session_territories)
