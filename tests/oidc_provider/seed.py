"""Prepare the test provider's database: tables, one person, the client applications.

Run by tests/oidc/conftest.py before the provider starts, with the provider's environment
(DJANGO_SETTINGS_MODULE=tests.oidc_provider.settings) and a JSON document on stdin:

    {"user": {"username", "password", "email", "first_name", "last_name"},
     "applications": [{"name", "client_id", "client_secret", "redirect_uris": [...]}]}
"""

import json
import sys

import django


def seed(data: dict) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    person = data["user"]
    user = User.objects.create_user(
        username=person["username"],
        password=person["password"],
        email=person["email"],
        first_name=person["first_name"],
        last_name=person["last_name"],
    )
    for app in data["applications"]:
        Application.objects.create(
            name=app["name"],
            client_id=app["client_id"],
            client_secret=app["client_secret"],
            redirect_uris=" ".join(app["redirect_uris"]),
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM,
            # The consent page is shown every time, so that tests can refuse consent.
            skip_authorization=False,
            user=user,
        )


if __name__ == "__main__":
    django.setup()
    seed(json.load(sys.stdin))
