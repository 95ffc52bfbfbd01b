import pytest

from tests.conftest import restore_session_territories

# Transactional tests flush the database; put back what tests/conftest.py loaded.
_restore_session_data = pytest.fixture(scope="package", autouse=True)(restore_session_territories)
