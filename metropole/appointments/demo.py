"""Demo agendas (labelled as demo) at the real town halls of the demo communes, with the
town halls' real opening hours from the reference data."""

from django.db import transaction

from metropole.catalogue.models import Service
from metropole.core.models import Territory

from .models import Agenda, Agent, AppointmentType, Mode


@transaction.atomic
def load_appointments_demo(metropole) -> None:
    from metropole.catalogue.demo import DEMO_COMMUNES

    for commune in Territory.objects.filter(code__in=DEMO_COMMUNES.get(metropole.code, [])):
        hall = commune.town_hall or {}
        if not hall.get("opening_hours"):
            continue
        service = Service.objects.filter(territory=commune, slug="carte-identite-passeport").first()
        agenda, created = Agenda.objects.get_or_create(
            territory=commune,
            name="Carte d'identité et passeport",
            defaults={
                "service": service,
                "place_name": hall.get("name") or "Mairie",
                "address": " ".join(
                    p for p in (hall.get("address"), hall.get("postal_code"), hall.get("city")) if p
                ),
                "is_demo": True,
            },
        )
        if created:
            Agenda.objects.filter(pk=agenda.pk).update(is_demo=True)
            for n in (1, 2):
                Agent.objects.create(agenda=agenda, name=f"Guichet {n} (démo)")
            AppointmentType.objects.create(
                agenda=agenda, name="Dépôt d'une demande", duration_minutes=30, mode=Mode.OFFICE
            )
            AppointmentType.objects.create(
                agenda=agenda, name="Retrait du titre", duration_minutes=15, mode=Mode.OFFICE
            )
        family = Service.objects.filter(territory=commune, slug="kiosque-famille").first()
        if family is not None:
            agenda, created = Agenda.objects.get_or_create(
                territory=commune,
                name="Aide au portail famille",
                defaults={
                    "service": family,
                    "place_name": hall.get("name") or "Mairie",
                    "closed_on_school_holidays": True,
                    "is_demo": True,
                },
            )
            if created:
                Agent.objects.create(agenda=agenda, name="Conseiller famille (démo)")
                AppointmentType.objects.create(
                    agenda=agenda, name="Rappel téléphonique", duration_minutes=15, mode=Mode.PHONE
                )
