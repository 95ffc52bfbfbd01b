"""Environment of the test suite, set before Django starts (loaded with `-p tests.environment`)."""

import os

os.environ.setdefault("METROPOLE_TESTING", "1")
# Tasks run inline in tests, so an e-mail "sent by the worker" is in mail.outbox at once.
os.environ.setdefault("METROPOLE_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault("METROPOLE_HTTPS", "0")
