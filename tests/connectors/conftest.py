from tests.notifications.conftest import smtp_server  # noqa: F401
from tests.procedures.conftest import english, fast_passwords, people, procedure  # noqa: F401
