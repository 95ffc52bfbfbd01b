"""Demo procedures of a metropole: real procedures the communes run, with their workflows.

The source deliberations (../shared/seeds/) ask for "démarches administratives en ligne
accessibles 24h/24" (Rouen, 2021) and for the shared family services of Lille's communes
("Kiosque famille, réservation en ligne", MEL FEDER file, 2017). The procedures below are the
everyday ones every French commune runs; their fields follow the public rules of these
procedures (service-public.fr). They are published by the metropole (the shared platform)
and each request is routed to the commune of the address given. Marked as demo.
"""

from django.db import transaction

from metropole.core.models import Territory

from .models import FieldKind, Form, FormField, Routing, Team, Workflow

SEED_ROUEN = (
    "Métropole Rouen Normandie, « Territoire intelligent et durable » (2021) : "
    "démarches administratives en ligne accessibles 24h/24"
)
SEED_MEL = (
    "MEL, dossier FEDER de la stratégie numérique (2017) : Kiosque famille, réservation en ligne"
)
GENERAL = "Règles de la procédure : service-public.fr"

NOTIFY_RECEIVED = {
    "type": "notify",
    "channel": "email",
    "subject": "Demande {code} : {status}",
    "message": "Bonjour,\n\nVotre demande « {form} » ({code}) est maintenant : {status}.\n"
    "Suivez-la ici : {url}",
}
NOTIFY_SMS = {
    "type": "notify",
    "channel": "sms",
    "message": "Votre demande {code} : {status}. Détails : {url}",
}


def _workflow(team: str, done_label: str, done_message: str) -> dict:
    return {
        "statuses": [
            {
                "code": "nouvelle",
                "label": "Nouvelle demande",
                "actions": [{"type": "assign", "team": team}],
            },
            {
                "code": "en-instruction",
                "label": "En cours d'instruction",
                "actions": [NOTIFY_RECEIVED],
            },
            {
                "code": "complement",
                "label": "En attente d'informations",
                "actions": [
                    {
                        "type": "ask_citizen",
                        "then": "en-instruction",
                        "message": "Pour traiter votre demande {code}, le service a besoin d'une "
                        "précision ou d'une pièce complémentaire. Répondez en suivant le "
                        "lien ci-dessous.",
                    },
                    {"type": "timeout", "days": 30, "to": "sans-suite"},
                ],
            },
            {
                "code": "acceptee",
                "label": done_label,
                "final": True,
                "actions": [
                    {
                        "type": "notify",
                        "channel": "email",
                        "subject": "Demande {code} : {status}",
                        "message": done_message,
                    },
                    NOTIFY_SMS,
                ],
            },
            {"code": "refusee", "label": "Refusée", "final": True, "actions": [NOTIFY_RECEIVED]},
            {
                "code": "sans-suite",
                "label": "Classée sans suite (pas de réponse)",
                "final": True,
                "actions": [NOTIFY_RECEIVED],
            },
        ],
        "transitions": [
            {"from": "nouvelle", "to": "en-instruction", "label": "Prendre en charge"},
            {"from": "en-instruction", "to": "complement", "label": "Demander une information"},
            {"from": "en-instruction", "to": "acceptee", "label": done_label, "teams": [team]},
            {"from": "en-instruction", "to": "refusee", "label": "Refuser", "teams": [team]},
        ],
    }


ADDRESS_HELP = "La demande est transmise à la mairie de cette commune."

FORMS = [
    {
        "slug": "acte-etat-civil",
        "service": "acte-etat-civil",
        "title": "Demander un acte d'état civil",
        "description": (
            "Copie intégrale ou extrait d'acte de naissance, de mariage ou de décès, délivré "
            "gratuitement par la mairie de la commune où l'événement a eu lieu. Démarche "
            "possible 24h/24, sans compte."
        ),
        "allow_anonymous": True,
        "deadline_days": 10,
        "retention_days": 365,
        "source": SEED_ROUEN,
        "team": ("etat-civil", "État civil"),
        "workflow": (
            "etat-civil",
            "Délivrance d'un acte d'état civil",
            "Acte envoyé",
            "Bonjour,\n\nL'acte demandé ({code}) vous a été envoyé.\n{url}",
        ),
        "fields": [
            ("page", "acte", "L'acte demandé", {}),
            (
                "radio",
                "type_acte",
                "Type d'acte",
                {"choices": ["Acte de naissance", "Acte de mariage", "Acte de décès"]},
            ),
            (
                "select",
                "format",
                "Format",
                {
                    "choices": [
                        "Copie intégrale",
                        "Extrait avec filiation",
                        "Extrait sans filiation",
                        "Extrait plurilingue",
                    ],
                    "help_text": "La copie intégrale et l'extrait avec filiation sont "
                    "réservés à la personne concernée, à sa famille proche et aux professionnels "
                    "habilités.",
                },
            ),
            ("text", "nom", "Nom de la personne concernée par l'acte", {}),
            ("text", "prenoms", "Prénoms", {}),
            ("date", "date_evenement", "Date de l'événement", {"help_text": "JJ/MM/AAAA"}),
            (
                "address",
                "lieu",
                "Lieu de l'événement (mairie, maternité…)",
                {"help_text": ADDRESS_HELP},
            ),
            ("page", "demandeur", "Vous", {}),
            (
                "radio",
                "qualite",
                "Vous êtes",
                {
                    "choices": [
                        "La personne concernée",
                        "Son parent",
                        "Son enfant",
                        "Son époux ou épouse",
                        "Autre",
                    ]
                },
            ),
            (
                "text",
                "qualite_autre",
                "Précisez votre lien avec la personne",
                {"condition_field": "qualite", "condition_value": "Autre"},
            ),
            ("text", "nom_demandeur", "Votre nom et prénom", {}),
            ("textarea", "adresse_envoi", "Adresse d'envoi de l'acte", {}),
            (
                "number",
                "exemplaires",
                "Nombre d'exemplaires",
                {"help_text": "De 1 à 5.", "number_whole": True, "number_min": 1, "number_max": 5},
            ),
        ],
    },
    {
        "slug": "inscription-scolaire",
        "service": "inscription-scolaire",
        "title": "Inscrire son enfant à l'école",
        "description": (
            "Première inscription à l'école maternelle ou élémentaire publique de votre "
            "commune. La mairie délivre un certificat d'inscription à présenter à l'école."
        ),
        "allow_anonymous": False,
        "deadline_days": 21,
        "retention_days": 730,
        "source": SEED_ROUEN,
        "team": ("scolarite", "Scolarité"),
        "workflow": (
            "inscription-scolaire",
            "Inscription scolaire",
            "Certificat d'inscription délivré",
            "Bonjour,\n\nLe certificat d'inscription de votre enfant ({code}) est "
            "disponible. Présentez-le à l'école avec le carnet de santé.\n{url}",
        ),
        "fields": [
            ("page", "enfant", "L'enfant", {}),
            ("text", "nom_enfant", "Nom de l'enfant", {}),
            ("text", "prenom_enfant", "Prénom de l'enfant", {}),
            ("date", "naissance", "Date de naissance", {"help_text": "JJ/MM/AAAA"}),
            (
                "select",
                "niveau",
                "Classe à la rentrée",
                {
                    "choices": [
                        "Petite section",
                        "Moyenne section",
                        "Grande section",
                        "CP",
                        "CE1",
                        "CE2",
                        "CM1",
                        "CM2",
                    ]
                },
            ),
            ("page", "famille", "La famille", {}),
            ("address", "domicile", "Adresse du domicile", {"help_text": ADDRESS_HELP}),
            ("phone", "telephone", "Téléphone d'un responsable légal", {}),
            (
                "checkboxes",
                "services",
                "Services souhaités",
                {
                    "required": False,
                    "choices": [
                        "Restauration scolaire",
                        "Accueil périscolaire du matin",
                        "Accueil périscolaire du soir",
                    ],
                },
            ),
            ("page", "pieces", "Justificatifs", {}),
            (
                "file",
                "justificatif_domicile",
                "Justificatif de domicile de moins de 3 mois",
                {"help_text": "Facture d'eau, d'électricité ou quittance de loyer."},
            ),
            ("file", "livret_famille", "Livret de famille ou acte de naissance de l'enfant", {}),
        ],
    },
]

LILLE_FORMS = [
    {
        "slug": "kiosque-famille-inscription",
        "service": "kiosque-famille",
        "title": "Kiosque famille : inscription à la cantine et au périscolaire",
        "description": (
            "Inscription de votre enfant à la restauration scolaire, à l'accueil périscolaire "
            "et aux centres de loisirs, pour les villes qui partagent le Kiosque famille "
            "(Tourcoing, Marcq-en-Barœul, Roubaix)."
        ),
        "allow_anonymous": False,
        "deadline_days": 15,
        "retention_days": 730,
        "source": SEED_MEL,
        "team": ("famille", "Service famille"),
        "workflow": (
            "kiosque-famille",
            "Kiosque famille",
            "Inscription validée",
            "Bonjour,\n\nL'inscription ({code}) est validée. Vous pouvez réserver "
            "les repas et les accueils.\n{url}",
        ),
        "fields": [
            ("text", "nom_enfant", "Nom et prénom de l'enfant", {}),
            ("text", "ecole", "École fréquentée", {}),
            (
                "checkboxes",
                "services",
                "Services",
                {
                    "choices": [
                        "Restauration scolaire",
                        "Accueil périscolaire",
                        "Centre de loisirs du mercredi",
                    ]
                },
            ),
            (
                "radio",
                "regime",
                "Régime alimentaire",
                {
                    "choices": [
                        "Standard",
                        "Sans porc",
                        "Végétarien",
                        "Projet d'accueil individualisé",
                    ]
                },
            ),
            (
                "file",
                "pai",
                "Projet d'accueil individualisé (PAI)",
                {"condition_field": "regime", "condition_value": "Projet d'accueil individualisé"},
            ),
            ("address", "domicile", "Adresse du domicile", {"help_text": ADDRESS_HELP}),
        ],
    }
]


@transaction.atomic
def load_demo(metropole: Territory) -> None:
    """Idempotent: workflows, teams and forms of the demo for `metropole`."""
    communes = list(Territory.objects.filter(metropole=metropole, has_joined=True))
    specs = FORMS + (LILLE_FORMS if metropole.code == "200093201" else [])
    for spec in specs:
        team_slug, team_name = spec["team"]
        for territory in [metropole, *communes]:
            Team.objects.get_or_create(
                territory=territory, slug=team_slug, defaults={"name": team_name}
            )
        wf_slug, wf_name, done_label, done_message = spec["workflow"]
        workflow, _created = Workflow.objects.update_or_create(
            territory=metropole,
            slug=wf_slug,
            defaults={
                "name": wf_name,
                "definition": _workflow(team_slug, done_label, done_message),
            },
        )
        service = _service(metropole, spec["service"])
        form, _created = Form.objects.update_or_create(
            metropole=metropole,
            slug=spec["slug"],
            defaults={
                "territory": metropole,
                "title": spec["title"],
                "description": spec["description"],
                "workflow": workflow,
                "routing": Routing.COMMUNE,
                "allow_anonymous": spec["allow_anonymous"],
                "published": True,
                "deadline_days": spec["deadline_days"],
                "retention_days": spec["retention_days"],
                "source": spec["source"],
                "service": service,
                "is_demo": True,
            },
        )
        for order, (kind, key, label, extra) in enumerate(spec["fields"]):
            FormField.objects.update_or_create(
                form=form,
                key=key,
                defaults={
                    "order": (order + 1) * 10,
                    "kind": FieldKind(kind),
                    "label": label,
                    "required": extra.get("required", kind != "page"),
                    "help_text": extra.get("help_text", ""),
                    "choices": extra.get("choices", []),
                    "condition_field": extra.get("condition_field", ""),
                    "condition_value": extra.get("condition_value", ""),
                    "number_whole": extra.get("number_whole", False),
                    "number_min": extra.get("number_min"),
                    "number_max": extra.get("number_max"),
                },
            )


def _service(metropole, slug):
    try:
        from metropole.catalogue.models import Service
    except ImportError:
        return None
    return Service.objects.filter(metropole=metropole, slug=slug).order_by("pk").first()
