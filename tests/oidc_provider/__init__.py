"""A real OpenID Connect provider for the tests: django-oauth-toolkit in OIDC mode, run in
its own process by tests/oidc/conftest.py. Never part of the platform."""
