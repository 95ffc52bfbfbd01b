from tests.catalogue.fixtures import *  # noqa: F403
from tests.notifications.conftest import smtp_server  # noqa: F401
