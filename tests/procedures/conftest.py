"""A procedure built through the back-office services: a workflow with teams, a two-page
form routed to the commune of the address, and the people who use it."""

import pytest

from metropole.core.models import Role
from metropole.procedures import services
from tests.notifications.conftest import free_port, sms_gateway, smtp_server  # noqa: F401

LILLE_COMMUNE, ROUBAIX = "59350", "59512"

WORKFLOW = {
    "statuses": [
        {"code": "new", "label": "New", "actions": [{"type": "assign", "team": "civil"}]},
        {
            "code": "open",
            "label": "Being handled",
            "actions": [
                {
                    "type": "notify",
                    "channel": "email",
                    "subject": "{code}",
                    "message": "{status} {url}",
                }
            ],
        },
        {
            "code": "missing",
            "label": "Waiting for the citizen",
            "actions": [
                {"type": "ask_citizen", "message": "Send the date please", "then": "open"},
                {"type": "timeout", "days": 10, "to": "dropped"},
            ],
        },
        {
            "code": "done",
            "label": "Done",
            "final": True,
            "actions": [{"type": "connector", "connector": "crm", "endpoint": "closed"}],
        },
        {"code": "dropped", "label": "Dropped", "final": True},
    ],
    "transitions": [
        {"from": "new", "to": "open", "label": "Take"},
        {"from": "open", "to": "missing", "label": "Ask"},
        {"from": "open", "to": "done", "label": "Deliver", "teams": ["civil"]},
    ],
}


@pytest.fixture
def people(make_member, make_user, lille, commune):
    lille_commune, roubaix = commune(LILLE_COMMUNE), commune(ROUBAIX)
    return {
        "admin": make_member("admin@lille.fr", lille, Role.ADMIN),
        "agent": make_member("agent@mairie-lille.fr", lille_commune, Role.AGENT),
        "clerk": make_member("clerk@mairie-lille.fr", lille_commune, Role.AGENT),
        "roubaix": make_member("agent@roubaix.fr", roubaix, Role.AGENT),
        "citizen": make_user("citizen@example.org"),
        "other": make_user("other@example.org"),
    }


@pytest.fixture
def procedure(people, lille, commune, smtp_server):  # noqa: F811
    admin = people["admin"]
    lille_commune = commune(LILLE_COMMUNE)
    team = services.save_team(admin, lille, name="Civil status", slug="civil")
    commune_team = services.save_team(
        admin, lille_commune, name="Civil status", slug="civil", members=[people["agent"]]
    )
    services.save_team(admin, commune(ROUBAIX), name="Civil status", slug="civil")
    workflow = services.save_workflow(admin, lille, name="Certificates", definition=WORKFLOW)
    form = services.save_form(
        admin,
        lille,
        title="Birth certificate",
        workflow=workflow,
        routing="commune",
        allow_anonymous=True,
        published=True,
        deadline_days=10,
        retention_days=30,
    )
    add = lambda **kw: services.save_field(admin, form, **kw)  # noqa: E731
    add(kind="page", label="The certificate", key="p1")
    add(kind="radio", label="Kind", key="kind", choices=["Full copy", "Extract"])
    add(kind="text", label="Name", key="name")
    add(kind="date", label="Date", key="date")
    add(
        kind="text",
        label="Why",
        key="why",
        required=True,
        condition_field="kind",
        condition_value="Full copy",
    )
    add(kind="page", label="Where and you", key="p2")
    add(kind="address", label="Place", key="place")
    add(kind="number", label="Copies", key="copies", required=False)
    add(
        kind="checkboxes",
        label="Options",
        key="options",
        required=False,
        choices=["Post", "Counter"],
    )
    add(kind="file", label="Proof", key="proof", required=False)
    return {
        "form": form,
        "workflow": workflow,
        "team": team,
        "commune_team": commune_team,
        "lille_commune": lille_commune,
        "smtp": smtp_server,
    }


def answers(**extra) -> dict:
    base = {
        "kind": "Extract",
        "name": "Martin",
        "date": "14/07/1990",
        "place": {"street": "Place Augustin Laurent", "commune": LILLE_COMMUNE},
        "copies": "2",
    }
    return {**base, **extra}


@pytest.fixture(autouse=True)
def english():
    """Messages in English in services (pages are read in English by the test client)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Six people per test: a fast hasher keeps the suite quick (log-in is not tested here)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
