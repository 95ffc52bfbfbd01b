"""Demo accounts and settings for a metropole, on top of the real territory data.

Nothing here is invented about the territories: names, populations, contours and town
halls come from the reference data. Only the people are fictitious (example.org).
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Membership, Organisation, OrganisationKind, Role, Territory, User

# Communes named in the source deliberations as early partners of their metropole's
# strategy; they are marked as having joined in the demo.
DEMO_JOINED = {
    "200093201": [
        "59350",
        "59512",
        "59599",
        "59009",
    ],  # Lille, Roubaix, Tourcoing, Villeneuve-d'Ascq
    "200054781": ["75056", "93066", "94081"],  # Paris, Saint-Denis, Vitry-sur-Seine
    "200023414": ["76540", "76575", "76157"],  # Rouen, Saint-Étienne-du-Rouvray, Darnétal
    "200054807": ["13055", "13001", "13005"],  # Marseille, Aix-en-Provence, Aubagne
}
DEMO_DOMAIN = "demo.example.org"
CREDENTIALS_FILE = settings.VAR_DIR / "demo-credentials.txt"


def demo_password() -> str:
    """One password for every demo account, generated on first use and kept in var/."""
    if CREDENTIALS_FILE.exists():
        return CREDENTIALS_FILE.read_text().split("password: ", 1)[1].split()[0]
    password = "demo-" + secrets.token_urlsafe(9)
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(f"login: admin@{DEMO_DOMAIN}\npassword: {password}\n")
    return password


def _person(email, first, last, password, **extra) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first,
            "last_name": last,
            "email_verified_at": timezone.now(),
            **extra,
        },
    )
    if created:
        user.set_password(password)
        user.save()
    return user


def _grant(user, territory, role, organisation=None):
    Membership.objects.get_or_create(
        user=user, territory=territory, role=role, defaults={"organisation": organisation}
    )


@transaction.atomic
def load_core_demo(metropole: Territory) -> None:
    password = demo_password()
    communes = Territory.objects.communes().filter(metropole=metropole)
    joined = list(communes.filter(code__in=DEMO_JOINED.get(metropole.code, [])))
    if not joined:
        joined = list(communes.order_by("-population")[:3])
    now = timezone.now()
    for commune in joined:
        if not commune.has_joined:
            commune.has_joined, commune.joined_at = True, now
            commune.save(update_fields=["has_joined", "joined_at", "updated_at"])
    first, second = joined[0], joined[1 % len(joined)]

    admin = _person(f"admin@{DEMO_DOMAIN}", "Camille", "Admin", password)
    _grant(admin, metropole, Role.ADMIN)
    _grant(
        _person(f"agent.metropole@{DEMO_DOMAIN}", "Dominique", "Agent", password),
        metropole,
        Role.AGENT,
    )
    _grant(
        _person(f"admin.{first.slug}@{DEMO_DOMAIN}", "Alex", "Mairie", password), first, Role.ADMIN
    )
    _grant(
        _person(f"agent.{first.slug}@{DEMO_DOMAIN}", "Sam", "Guichet", password), first, Role.AGENT
    )
    _grant(
        _person(f"agent.{second.slug}@{DEMO_DOMAIN}", "Lou", "Service", password),
        second,
        Role.AGENT,
    )
    _grant(_person(f"elu@{DEMO_DOMAIN}", "Claude", "Élu", password), metropole, Role.ELECTED)
    citizen = _person(
        f"habitant@{DEMO_DOMAIN}", "Maryse", "Habitante", password, home_commune=second
    )
    _grant(citizen, second, Role.CITIZEN)
    partner, _ = Organisation.objects.get_or_create(
        metropole=metropole,
        name="Association des tiers-lieux (démo)",
        defaults={"kind": OrganisationKind.ASSOCIATION},
    )
    _grant(
        _person(f"partenaire@{DEMO_DOMAIN}", "Noa", "Partenaire", password),
        metropole,
        Role.PARTNER,
        partner,
    )
