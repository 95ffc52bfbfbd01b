"""Fixtures of participation tests: a commune agent, residents, processes from blueprints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metropole.core.models import Role
from metropole.participation import services
from metropole.participation.models import ComponentKind

ROUBAIX, LILLE_COMMUNE, TOURCOING = "59512", "59350", "59599"


@pytest.fixture
def roubaix(commune):
    return commune(ROUBAIX)


@pytest.fixture
def agent(make_member, roubaix):
    return make_member("agent.roubaix@example.org", roubaix, Role.AGENT)


@pytest.fixture
def citizen(make_user, roubaix):
    return make_user("citoyen@example.org", home_commune=roubaix)


@pytest.fixture
def make_citizen(make_user, roubaix):
    made = {}

    def make(n, commune=None):
        """Person number `n` (the same person when asked twice)."""
        if n not in made:
            made[n] = make_user(f"habitant{n}@example.org", home_commune=commune or roubaix)
        return made[n]

    return make


@pytest.fixture
def make_process(agent, roubaix):
    """A process of Roubaix from a blueprint, its phase `open_phase` running now."""

    def make(blueprint, *, open_phase=0, title="Process", **kwargs):
        from metropole.participation.services import _blueprint

        phases, _components = _blueprint(blueprint, timezone.now())
        offset = phases[open_phase][1] - phases[0][1]
        start = timezone.now() - offset - timedelta(hours=1)
        return services.create_process(
            agent, roubaix, title=title, blueprint=blueprint, start=start, **kwargs
        )

    return make


def component(process, kind):
    return process.components.get(kind=kind)


@pytest.fixture
def ideas(make_process):
    return component(
        make_process("idea_box", title="Boîte à idées de Roubaix"), ComponentKind.PROPOSALS
    )
