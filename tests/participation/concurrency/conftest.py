import pytest

from metropole.core.models import Membership, Role, Territory, User
from metropole.participation import services
from tests.conftest import lille_in_this_database, restore_session_territories

# Transactional tests flush the database; put back what tests/conftest.py loaded.
_restore_session_data = pytest.fixture(scope="package", autouse=True)(restore_session_territories)


@pytest.fixture
def setup(transactional_db, monkeypatch):
    # The rate limit's counter lives in the database cache here; its row would serialise a
    # person's requests by accident. Switched off so that only the designed locks are tested.
    monkeypatch.setattr(services, "_rate_limit", lambda limit, user: None)
    lille_in_this_database()
    roubaix = Territory.objects.get(code="59512")
    agent = User.objects.create_user(email="agent@example.org", password="x" * 12)
    Membership.objects.create(user=agent, territory=roubaix, role=Role.AGENT)
    people = User.objects.bulk_create(
        [User(email=f"p{i}@example.org", home_commune=roubaix) for i in range(120)]
    )
    return agent, roubaix, people
