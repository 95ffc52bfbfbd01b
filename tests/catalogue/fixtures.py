"""Fixtures shared by the tests of the catalogue, reports and appointments."""

from datetime import timedelta

import pytest

from metropole.core.models import Role

LILLE_COMMUNE, ROUBAIX, TOURCOING = "59350", "59512", "59599"
# Points inside communes of the Métropole Européenne de Lille (checked by the tests).
GRAND_PLACE_LILLE = (50.6371, 3.0633)
ROUBAIX_CENTRE = (50.6903, 3.1817)
PARIS_NOTRE_DAME = (48.8530, 2.3499)


@pytest.fixture
def catalogue(lille):
    from metropole.catalogue.services import install_defaults

    install_defaults(lille)
    return lille


@pytest.fixture
def competence(catalogue):
    from metropole.catalogue.models import Competence

    return lambda code: Competence.objects.get(metropole=catalogue, code=code)


@pytest.fixture
def category(catalogue):
    from metropole.catalogue.models import Category

    return lambda slug="papiers-citoyennete": Category.objects.get(metropole=catalogue, slug=slug)


@pytest.fixture
def report_categories(catalogue):
    from metropole.reports.demo import install_categories
    from metropole.reports.models import ReportCategory

    install_categories(catalogue)
    return lambda slug: ReportCategory.objects.get(metropole=catalogue, slug=slug)


@pytest.fixture
def commune_agent(make_member, commune):
    def make(insee: str, email: str | None = None):
        return make_member(email or f"agent-{insee}@example.org", commune(insee), Role.AGENT)

    return make


@pytest.fixture
def citizen(make_user):
    return make_user("citizen@example.org", first_name="Camille", last_name="Martin")


WEEKDAYS_9_TO_12 = [["lundi", "vendredi", [["09:00:00", "12:00:00"]]]]


@pytest.fixture
def agenda_factory(commune):
    from metropole.appointments.models import Agenda, Agent, AppointmentType

    def make(insee=LILLE_COMMUNE, agents=2, duration=30, hours=WEEKDAYS_9_TO_12, **extra):
        agenda = Agenda.objects.create(
            territory=commune(insee), name="Accueil état civil", opening_hours=hours, **extra
        )
        for n in range(agents):
            Agent.objects.create(agenda=agenda, name=f"Guichet {n + 1}")
        kind = AppointmentType.objects.create(
            agenda=agenda,
            name="Dépôt de dossier",
            duration_minutes=duration,
            min_delay_hours=2,
            max_delay_days=60,
        )
        return agenda, kind

    return make


def next_weekday(start, weekday: int):
    """The first date on or after `start` falling on `weekday` (0 = Monday)."""
    return start + timedelta(days=(weekday - start.weekday()) % 7)


@pytest.fixture(autouse=True)
def english_messages():
    """Messages raised by services in English, the source language (pages get English
    through the test client's Accept-Language)."""
    from django.utils import translation

    with translation.override("en"):
        yield
