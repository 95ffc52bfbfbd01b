"""Report categories of a metropole and a few demo reports (labelled as demo).

The categories are the usual ones of French reporting services (FixMyStreet-like
portals of metropoles); each points at the competence that decides who receives it.
"""

from django.db import transaction

from metropole.catalogue.models import Competence
from metropole.catalogue.services import install_defaults

from .models import Report, ReportAttribute, ReportCategory, Status, Update

DEFAULT_CATEGORIES = [
    ("nid-de-poule", "Nid-de-poule, chaussée abîmée", "Voirie", "voirie"),
    ("trottoir", "Trottoir ou piste cyclable abîmé", "Voirie", "voirie"),
    ("signalisation", "Panneau ou feu tricolore en panne", "Voirie", "voirie"),
    ("mobilier-urbain", "Mobilier urbain abîmé (banc, potelet)", "Voirie", "voirie"),
    ("depot-sauvage", "Dépôt sauvage de déchets", "Propreté", "dechets"),
    ("bac-collecte", "Bac de collecte cassé ou non collecté", "Propreté", "dechets"),
    ("fuite-eau", "Fuite d'eau sur la voie publique", "Eau", "eau"),
    ("arret-bus", "Arrêt de bus ou de tram endommagé", "Transports", "transports"),
    ("eclairage", "Éclairage public en panne", "Éclairage", "eclairage"),
    (
        "stationnement-genant",
        "Véhicule ventouse ou stationnement gênant",
        "Tranquillité",
        "police-municipale",
    ),
]


# Extra questions (Open311 attributes) that reporting services commonly ask; none is
# required, so a report stays quick to make.
DEFAULT_QUESTIONS = {
    "eclairage": [
        ("nombre-lampadaires", "Combien de lampadaires sont éteints ?", "number", []),
    ],
    "depot-sauvage": [
        (
            "nature-dechets",
            "Quels déchets ?",
            "multivaluelist",
            [
                {"key": "encombrants", "name": "Encombrants (meubles, électroménager)"},
                {"key": "gravats", "name": "Gravats, déchets de chantier"},
                {"key": "sacs", "name": "Sacs d'ordures ménagères"},
                {"key": "dechets-verts", "name": "Déchets verts"},
            ],
        ),
    ],
}


@transaction.atomic
def install_categories(metropole) -> None:
    install_defaults(metropole)
    competences = {c.code: c for c in Competence.objects.filter(metropole=metropole)}
    for order, (slug, name, group, competence) in enumerate(DEFAULT_CATEGORIES):
        ReportCategory.objects.get_or_create(
            metropole=metropole,
            slug=slug,
            defaults={
                "name": name,
                "group": group,
                "competence": competences[competence],
                "order": order,
            },
        )
    for slug, questions in DEFAULT_QUESTIONS.items():
        category = ReportCategory.objects.get(metropole=metropole, slug=slug)
        for position, (code, label, datatype, choices) in enumerate(questions, start=1):
            ReportAttribute.objects.get_or_create(
                category=category,
                code=code,
                defaults={
                    "label": label,
                    "datatype": datatype,
                    "choices": choices,
                    "order": position,
                },
            )


DEMO_REPORTS = [
    ("nid-de-poule", "Démonstration : nid-de-poule devant la mairie.", Status.ACKNOWLEDGED),
    ("eclairage", "Démonstration : lampadaire éteint sur la place.", Status.NEW),
    ("depot-sauvage", "Démonstration : sacs déposés au pied d'un arbre.", Status.FIXED),
]


def load_reports_demo(metropole) -> None:
    """Categories, and three demo reports near the town halls of the demo communes."""
    from metropole.catalogue.demo import DEMO_COMMUNES
    from metropole.core.models import Territory

    from .services import submit_report

    install_categories(metropole)
    if Report.objects.filter(metropole=metropole, is_demo=True).exists():
        return
    communes = Territory.objects.filter(code__in=DEMO_COMMUNES.get(metropole.code, []))
    for commune, (code, text, status) in zip(communes, DEMO_REPORTS, strict=False):
        hall = commune.town_hall or {}
        if hall.get("lat") is None:
            continue
        report = submit_report(
            None,
            metropole,
            category=ReportCategory.objects.get(metropole=metropole, slug=code),
            lat=hall["lat"] + 0.0003,
            lon=hall["lon"] + 0.0003,
            description=text,
            address=hall.get("address") or "",
        )
        Report.objects.filter(pk=report.pk).update(is_demo=True, status=status)
        if status != Status.NEW:
            Update.objects.create(
                report=report,
                status_before=Status.NEW,
                status_after=status,
                text="Démonstration : réponse du service.",
            )
