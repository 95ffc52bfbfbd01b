"""Demo services of a metropole, from the source deliberations (../shared/seeds/).

Each demo service names its source. Services the deliberations cite by name (Rouen's
"Ma Métropole dans ma poche", Lille's family portals, Aix-Marseille-Provence's services
hub) are attached to the territory that runs them; the everyday services every commune
runs (civil status, school registration, electoral rolls) and those every metropole
runs (waste collection, water) are added to the communes the demo marks as joined.
Knowledge-base answers state general rules of French public administration.
"""

from django.db import transaction

from metropole.core.models import Territory

from .models import Answer, Category, Competence, Service
from .services import install_defaults

LILLE, GRAND_PARIS, ROUEN, AIX_MARSEILLE = "200093201", "200054781", "200023414", "200054807"
SEED_MEL = "Région Hauts-de-France, dossier FEDER de la stratégie numérique de la MEL (2017)"
SEED_ROUEN = "Métropole Rouen Normandie, stratégie « Territoire intelligent et durable » (2021)"
SEED_AMP = "Métropole d'Aix-Marseille-Provence, agenda numérique (2019)"
SEED_GP = "Métropole du Grand Paris, Schéma métropolitain d'aménagement numérique (2019)"
GENERAL = "Règles générales de l'administration (service-public.fr)"

# Services every commune runs (commune competences).
COMMUNE_SERVICES = [
    {
        "slug": "acte-etat-civil",
        "title": "Demander un acte d'état civil",
        "summary": "Copie ou extrait d'acte de naissance, de mariage ou de décès.",
        "description": (
            "La mairie du lieu de l'événement délivre les actes de naissance, de mariage et de "
            "décès. La demande peut se faire en ligne, au guichet ou par courrier."
        ),
        "category": "papiers-citoyennete",
        "competence": "etat-civil",
        "channels": ["online", "counter", "mail"],
        "answers": [
            (
                "La demande est-elle payante ?",
                "Non, la délivrance d'un acte d'état civil est gratuite.",
            ),
            (
                "Quelle mairie dois-je contacter ?",
                "La mairie de la commune où l'événement (naissance, mariage, décès) a eu lieu.",
            ),
        ],
    },
    {
        "slug": "inscription-scolaire",
        "title": "Inscrire son enfant à l'école",
        "summary": "Première inscription en maternelle ou élémentaire publique.",
        "description": (
            "L'inscription à l'école publique se fait d'abord en mairie, qui délivre un "
            "certificat d'inscription, puis auprès de l'école."
        ),
        "category": "famille-education",
        "competence": "ecoles",
        "channels": ["online", "counter"],
        "answers": [
            (
                "Quels documents fournir ?",
                "Un justificatif de domicile, le livret de famille ou un acte de naissance de "
                "l'enfant et un document attestant des vaccinations obligatoires.",
            ),
        ],
    },
    {
        "slug": "listes-electorales",
        "title": "S'inscrire sur les listes électorales",
        "summary": "Pour voter dans la commune.",
        "description": (
            "L'inscription se fait en ligne ou en mairie, au plus tard le sixième vendredi "
            "précédant le scrutin."
        ),
        "category": "papiers-citoyennete",
        "competence": "elections",
        "channels": ["online", "counter", "mail"],
        "answers": [
            (
                "Jusqu'à quand puis-je m'inscrire ?",
                "Jusqu'au sixième vendredi avant le scrutin.",
            ),
        ],
    },
    {
        "slug": "carte-identite-passeport",
        "title": "Carte d'identité et passeport",
        "summary": "Prendre rendez-vous pour déposer sa demande.",
        "description": (
            "Le dépôt d'une demande de carte nationale d'identité ou de passeport se fait sur "
            "rendez-vous dans une mairie équipée d'un dispositif de recueil."
        ),
        "category": "papiers-citoyennete",
        "competence": "identite",
        "channels": ["counter"],
        "answers": [
            (
                "Faut-il prendre rendez-vous ?",
                "Oui : la prise d'empreintes se fait au guichet, sur rendez-vous.",
            ),
        ],
    },
]

# Services every metropole runs for all its communes (metropole competences).
METROPOLE_SERVICES = [
    {
        "slug": "collecte-dechets",
        "title": "Collecte des déchets et encombrants",
        "summary": "Jours de collecte, bacs, encombrants, déchèteries.",
        "description": (
            "La métropole collecte les ordures ménagères et le tri dans toutes les communes, "
            "et gère les déchèteries."
        ),
        "category": "dechets-proprete",
        "competence": "dechets",
        "channels": ["online", "phone"],
        "answers": [
            (
                "Mon bac est cassé, que faire ?",
                "Signalez-le en ligne : la métropole le répare ou le remplace.",
            ),
        ],
    },
    {
        "slug": "signaler-probleme-voirie",
        "title": "Signaler un problème sur la voirie",
        "summary": "Nid-de-poule, trottoir abîmé, dépôt sauvage, signalisation.",
        "description": (
            "Signalez un problème dans l'espace public en plaçant un point sur la carte : "
            "il est transmis au service responsable."
        ),
        "category": "voirie-deplacements",
        "competence": "voirie",
        "channels": ["online", "app", "phone"],
        "answers": [],
    },
    {
        "slug": "eau-assainissement",
        "title": "Eau potable et assainissement",
        "summary": "Abonnement, fuite, qualité de l'eau.",
        "description": "La métropole distribue l'eau potable et gère l'assainissement.",
        "category": "eau-environnement",
        "competence": "eau",
        "channels": ["online", "phone"],
        "answers": [],
    },
]

# Services the deliberations name, by metropole: (commune INSEE or None for the metropole).
NAMED_SERVICES = {
    ROUEN: [
        (
            None,
            {
                "slug": "ma-metropole-dans-ma-poche",
                "title": "Ma Métropole dans ma poche",
                "summary": "L'application de la métropole pour l'information et les démarches.",
                "description": (
                    "Application annoncée par la stratégie « Territoire intelligent et durable » "
                    "pour simplifier l'accès à l'information et à l'administration : démarches "
                    "en ligne accessibles 24h/24, informations en temps réel, remontée de "
                    "signalements."
                ),
                "category": "numerique",
                "competence": "numerique",
                "channels": ["app", "online"],
                "source": SEED_ROUEN,
                "answers": [],
            },
        ),
        (
            None,
            {
                "slug": "agence-en-ligne-eau",
                "title": "Agence en ligne de l'eau",
                "summary": "Abonnement et factures d'eau en ligne.",
                "description": (
                    "Citée par la stratégie de la métropole parmi les procédures à simplifier."
                ),
                "category": "eau-environnement",
                "competence": "eau",
                "channels": ["online"],
                "source": SEED_ROUEN,
                "answers": [],
            },
        ),
    ],
    LILLE: [
        (
            code,
            {
                "slug": "kiosque-famille",
                "title": "Kiosque famille : réservation en ligne",
                "summary": "Cantine, accueil périscolaire et centres de loisirs.",
                "description": (
                    "Services numériques liés à la famille (kiosque famille, réservation en "
                    "ligne) développés et partagés par les villes de Tourcoing, "
                    "Marcq-en-Barœul et Roubaix."
                ),
                "category": "famille-education",
                "competence": "famille",
                "channels": ["online"],
                "source": SEED_MEL,
                "answers": [],
            },
        )
        for code in ("59599", "59378", "59512")
    ]
    + [
        (
            None,
            {
                "slug": "melcome",
                "title": "MELCOME : l'information en temps réel",
                "summary": "Application d'information géolocalisée en temps réel.",
                "description": (
                    "Application du programme UCITY de la MEL donnant une information "
                    "géolocalisée en temps réel sur la vie quotidienne."
                ),
                "category": "numerique",
                "competence": "numerique",
                "channels": ["app"],
                "source": SEED_MEL,
                "answers": [],
            },
        ),
    ],
    AIX_MARSEILLE: [
        (
            None,
            {
                "slug": "hub-de-services",
                "title": "Hub de services de la Métropole",
                "summary": "Point d'entrée unique des services métropolitains.",
                "description": (
                    "« Métropole as a Service » : la métropole joue le rôle de hub de services "
                    "construit autour des attentes et de l'expérience des usagers."
                ),
                "category": "numerique",
                "competence": "numerique",
                "channels": ["online", "app"],
                "source": SEED_AMP,
                "answers": [],
            },
        ),
    ],
}

# Communes that carry the everyday demo services (joined in the core's demo).
DEMO_COMMUNES = {
    LILLE: ["59350", "59512", "59599", "59009"],
    GRAND_PARIS: ["75056", "93066", "94081"],
    ROUEN: ["76540", "76575", "76157"],
    AIX_MARSEILLE: ["13055", "13001", "13005"],
}


def _put(territory: Territory, item: dict, categories, competences) -> Service:
    values = {
        "title": item["title"],
        "summary": item["summary"],
        "description": item["description"],
        "category": categories[item["category"]],
        "competence": competences[item["competence"]],
        "channels": item["channels"],
        "source": item.get("source", GENERAL),
        "is_demo": True,
        "active": True,
    }
    service, _created = Service.objects.update_or_create(
        territory=territory, slug=item["slug"], defaults=values
    )
    for order, (question, answer) in enumerate(item["answers"]):
        Answer.objects.update_or_create(
            service=service, question=question, defaults={"answer": answer, "order": order}
        )
    return service


@transaction.atomic
def load_catalogue_demo(metropole: Territory) -> None:
    """Idempotent: competences, categories and the demo services of `metropole`."""
    install_defaults(metropole)
    categories = {c.slug: c for c in Category.objects.filter(metropole=metropole)}
    competences = {c.code: c for c in Competence.objects.filter(metropole=metropole)}
    for item in METROPOLE_SERVICES:
        _put(metropole, item, categories, competences)
    communes = Territory.objects.filter(
        metropole=metropole, code__in=DEMO_COMMUNES.get(metropole.code, [])
    )
    for commune in communes:
        for item in COMMUNE_SERVICES:
            _put(commune, item, categories, competences)
    for code, item in NAMED_SERVICES.get(metropole.code, []):
        territory = metropole if code is None else Territory.objects.filter(code=code).first()
        if territory is not None:
            _put(territory, item, categories, competences)
