"""Demo participation content, taken from the source deliberations (../shared/seeds/).

Subjects are real: Lille's "associer les usagers au plus tôt dans les processus de
décision" and its UCITY projects (FEDER file, 2017), Rouen's « Je participe » and « Donnez-
nous votre avis ? » (2021), Grand Paris' action "plateforme de participation citoyenne
mutualisée avec les collectivités volontaires" (SMAN, 2019). Contributions, amounts per
project and answers are demo values and carry `is_demo` (shown as "demo" on every page).
Idempotent: each process has a fixed slug and is built once.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from metropole.core.demo import DEMO_DOMAIN, DEMO_JOINED
from metropole.core.models import Territory, User

from . import services
from .models import (
    Answer,
    Ballot,
    BallotLine,
    BudgetArea,
    BudgetRule,
    Comment,
    ComponentKind,
    Debate,
    Meeting,
    Process,
    Project,
    Proposal,
    Question,
    QuestionKind,
    Result,
    Support,
    SurveyResponse,
)

DEMO = " (démo)"


def _commune(metropole, index=0):
    codes = DEMO_JOINED.get(metropole.code, [])
    communes = Territory.objects.communes().filter(metropole=metropole)
    found = list(communes.filter(code__in=codes)) or list(communes.order_by("-population")[:3])
    by_code = {c.code: c for c in found}
    ordered = [by_code[c] for c in codes if c in by_code] or found
    return ordered[min(index, len(ordered) - 1)] if ordered else metropole


def _people(metropole):
    """Demo citizens (fictitious, example.org) living in the demo communes."""
    people = []
    for i, (first, last) in enumerate(
        [("Maryse", "Habitante"), ("Karim", "Voisin"), ("Inès", "Riveraine"), ("Paul", "Usager")]
    ):
        email = f"habitant@{DEMO_DOMAIN}" if i == 0 else f"habitant{i + 1}@{DEMO_DOMAIN}"
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first,
                "last_name": last,
                "email_verified_at": timezone.now(),
                "home_commune": _commune(metropole, i % 3) if i else None,
            },
        )
        if created:
            from metropole.core.demo import demo_password

            user.set_password(demo_password())
            user.save()
        if user.home_commune_id is None and i == 0:
            user.home_commune = _commune(metropole, 1)
            user.save(update_fields=["home_commune"])
        people.append(user)
    return people


def _component(process, kind):
    return process.components.get(kind=kind)


def _proposals(process, texts, people):
    component = _component(process, ComponentKind.PROPOSALS)
    created = []
    for i, (title, body) in enumerate(texts):
        proposal = Proposal.objects.create(
            component=component,
            author=people[i % len(people)],
            title=title + DEMO,
            body=body,
            is_demo=True,
        )
        created.append(proposal)
    # Demo supports: person k supports the first k proposals.
    for k, person in enumerate(people):
        for proposal in created[: k + 1]:
            Support.objects.get_or_create(proposal=proposal, user=person, component=component)
    for proposal in created:
        proposal.support_count = proposal.supports.count()
        proposal.save(update_fields=["support_count"])
    return created


def _survey(process, questions, people, answers):
    component = _component(process, ComponentKind.SURVEY)
    made = []
    for position, (kind, text, choices) in enumerate(questions):
        made.append(
            Question.objects.create(
                component=component, position=position, kind=kind, text=text, choices=choices
            )
        )
    for person, given in zip(people, answers, strict=False):
        response = SurveyResponse.objects.create(component=component, user=person, is_demo=True)
        for question, value in zip(made, given, strict=True):
            if question.kind == QuestionKind.TEXT:
                Answer.objects.create(response=response, question=question, text=value)
            else:
                Answer.objects.create(response=response, question=question, choices=value)


@transaction.atomic
def load_demo(metropole: Territory) -> None:
    people = _people(metropole)
    now = timezone.now().replace(second=0, microsecond=0)
    loaders = {
        "200093201": _lille,
        "200054781": _grand_paris,
        "200023414": _rouen,
    }
    loader = loaders.get(metropole.code)
    if loader is not None:
        loader(metropole, people, now)
    from .tasks import embed_missing

    transaction.on_commit(embed_missing)


def _build(slug, territory, **kwargs):
    if Process.objects.filter(slug=slug).exists():
        return None
    return services.build_process(territory, slug=slug, is_demo=True, **kwargs)


def _lille(metropole, people, now):
    ideas = _build(
        "mel-associer-les-usagers-au-plus-tot",
        metropole,
        title="Résolument digitale : associer les usagers au plus tôt",
        blueprint="idea_box",
        start=now - timedelta(days=5),
        description=(
            "La MEL veut « favoriser l'émergence de nouveaux repères en matière de conduite de "
            "politiques publiques, en associant les usagers au plus tôt dans les processus de "
            "décision et de conception des projets » (délibération cadre « stratégie digitale "
            "pour la métropole », 2016). Proposez les services numériques à expérimenter dans "
            "les trois champs retenus : les nouvelles solidarités, les services aux usagers, "
            "la préservation des ressources."
        ),
    )
    if ideas is not None:
        _proposals(
            ideas,
            [
                (
                    "Maintien des personnes âgées à domicile",
                    "Expérimenter des services numériques pour le maintien des personnes âgées à "
                    "domicile, champ « nouvelles solidarités » de la stratégie.",
                ),
                (
                    "Accessibilité de la ville aux personnes handicapées",
                    "Rendre la ville plus accessible aux personnes handicapées grâce au numérique "
                    "(information sur l'accessibilité des équipements et des trajets).",
                ),
                (
                    "Un laboratoire des usages métropolitain",
                    "Créer un laboratoire des usages pour impliquer les usagers dans la création "
                    "de nouveaux services numériques pour la ville de demain.",
                ),
                (
                    "Économies d'énergie et réduction des déchets",
                    "De nouveaux usages numériques au service de la préservation des ressources : "
                    "économies d'énergie et réduction des déchets.",
                ),
                (
                    "Un réseau de tiers-lieux numériques",
                    "Consolider les tiers-lieux existants et soutenir l'émergence de lieux dédiés "
                    "à la créativité, à la médiation numérique et aux nouvelles formes de travail.",
                ),
            ],
            people,
        )
        first = ideas.components.get(kind=ComponentKind.PROPOSALS).proposals.order_by("pk").first()
        Comment.objects.create(
            proposal=first,
            author=people[1],
            body="Penser aussi aux aidants familiaux, qui utilisent déjà ces outils.",
            is_demo=True,
        )
        first.comment_count = 1
        first.save(update_fields=["comment_count"])
        result = Result.objects.create(
            component=_component(ideas, ComponentKind.RESULTS),
            title="Expérimentations pour les communes" + DEMO,
            description="Expérimentations répondant aux besoins des communes, avec vocation à "
            "être généralisées à l'ensemble du territoire métropolitain.",
            status="En préparation",
        )
        Result.objects.create(
            component=result.component,
            parent=result,
            title="Nouvelles solidarités" + DEMO,
            progress=40,
            weight=2,
        )
        Result.objects.create(
            component=result.component,
            parent=result,
            title="Services aux usagers" + DEMO,
            progress=10,
            weight=1,
        )

    budget = _build(
        "mel-budget-participatif-ucity",
        metropole,
        title="Budget participatif numérique : les services UCITY" + DEMO,
        blueprint="budget",
        start=now - timedelta(days=62),
        description=(
            "Le programme UCITY (dossier FEDER, phase 1 de la stratégie numérique "
            "métropolitaine, 2017) comprend l'application MELCOME, le portail ENJOY-MEL, le "
            "CITY PASS et un réseau de tiers-lieux numériques. Démonstration : les montants "
            "par projet et l'enveloppe sont fictifs."
        ),
    )
    if budget is not None:
        component = _component(budget, ComponentKind.BUDGET)
        component.settings = {"residents_only": True}
        component.save(update_fields=["settings"])
        area = BudgetArea.objects.create(
            component=component,
            name="Toute la métropole" + DEMO,
            amount=500_000,
            rule=BudgetRule.KNAPSACK,
            min_projects=1,
            max_projects=3,
        )
        projects = [
            Project.objects.create(
                area=area, title=title, description=text, cost=cost, is_demo=True
            )
            for title, text, cost in [
                (
                    "MELCOME",
                    "Application de géolocalisation en temps réel d'informations "
                    "pratiques liées aux transports et aux équipements.",
                    250_000,
                ),
                (
                    "ENJOY-MEL",
                    "Visibilité des commerces et parcours de proximité, pilote sur "
                    "Wazemmes, Roubaix et les Weppes.",
                    150_000,
                ),
                (
                    "CITY PASS",
                    "Pass tourisme dématérialisé donnant accès à plus de 45 sites.",
                    200_000,
                ),
                (
                    "Cartographie des tiers-lieux numériques",
                    "Cartographie des tiers-lieux "
                    "présents sur le territoire et accompagnement des structures.",
                    80_000,
                ),
            ]
        ]
        for person, chosen in zip(people[:3], [[0, 1], [0, 3], [2, 3]], strict=True):
            ballot = Ballot.objects.create(
                component=component, area=area, user=person, cast_at=now, is_demo=True
            )
            BallotLine.objects.bulk_create(
                [BallotLine(ballot=ballot, project=projects[i]) for i in chosen]
            )

    roubaix = _commune(metropole, 1)
    consultation = _build(
        f"consultation-usages-numeriques-{roubaix.code}",
        roubaix,
        title="Vos usages des services numériques" + DEMO,
        blueprint="consultation",
        start=now - timedelta(days=8),
        description=(
            "Consultation de démonstration : la stratégie de la MEL prévoit des "
            "expérimentations pour les communes « répondant à leurs besoins et ceux de leur "
            "population »."
        ),
    )
    if consultation is not None:
        _survey(
            consultation,
            [
                (
                    QuestionKind.SINGLE,
                    "Utilisez-vous les démarches en ligne de la mairie ?",
                    ["Souvent", "Parfois", "Jamais"],
                ),
                (
                    QuestionKind.MULTIPLE,
                    "Quels services voudriez-vous en ligne ?",
                    [
                        "Informations transports en temps réel",
                        "Prise de rendez-vous",
                        "Signalement d'un problème",
                        "Pass culture et tourisme",
                    ],
                ),
                (QuestionKind.SCALE, "Êtes-vous à l'aise avec les outils numériques ?", []),
                (
                    QuestionKind.RANKING,
                    "Classez ces priorités",
                    [
                        "Nouvelles solidarités",
                        "Services aux usagers",
                        "Préservation des ressources",
                    ],
                ),
                (QuestionKind.TEXT, "Une remarque ?", []),
            ],
            people,
            [
                [[0], [0, 1], [4], [1, 0, 2], "Plus d'accompagnement en mairie."],
                [[1], [2], [2], [0, 1, 2], ""],
                [[2], [1, 3], [1], [2, 1, 0], "Je préfère le guichet."],
            ],
        )

    meeting_process = _build(
        "mel-comite-metropolitain-du-numerique",
        metropole,
        title="Comité métropolitain du numérique : séance ouverte" + DEMO,
        blueprint="meeting",
        start=now - timedelta(days=2),
        description=(
            "« Intégrant une forte dimension éthique, ce Comité est d'abord un lieu de "
            "concertation, de discussion et de coordination entre l'ensemble des partenaires "
            "impliqués dans le développement du numérique avec la MEL. » Date et lieu : démo."
        ),
    )
    if meeting_process is not None:
        hall = _commune(metropole, 0).town_hall or {}
        Meeting.objects.create(
            component=_component(meeting_process, ComponentKind.MEETINGS),
            title="Séance ouverte du comité" + DEMO,
            start=now + timedelta(days=14, hours=2),
            end=now + timedelta(days=14, hours=4),
            address=", ".join(
                x for x in [hall.get("address"), hall.get("postal_code"), hall.get("city")] if x
            )
            or "Hôtel de ville",
            capacity=2,
            is_demo=True,
        )
        meeting = Meeting.objects.filter(component__process=meeting_process).first()
        debate = Debate.objects.create(
            component=_component(meeting_process, ComponentKind.DEBATES),
            title="Quelle « forte dimension éthique » pour le numérique de la métropole ?" + DEMO,
            description=(
                "Le Comité métropolitain du numérique se veut « d'abord un lieu de concertation, "
                "de discussion et de coordination ». Avant la séance ouverte, donnez vos "
                "arguments : ils seront lus en séance. (Arguments : démo.)"
            ),
            start=now - timedelta(days=2),
            end=now + timedelta(days=14, hours=2),
            meeting=meeting,
            is_demo=True,
        )
        for person, stance, body in [
            (
                people[0],
                "for",
                "Que chaque service en ligne garde un accueil humain en mairie.",
            ),
            (
                people[1],
                "against",
                "Une charte de plus ne suffit pas : publiez plutôt les données des services.",
            ),
            (people[2], "neutral", "Il faudrait d'abord savoir qui siège au comité."),
        ]:
            Comment.objects.create(
                debate=debate, author=person, stance=stance, body=body, is_demo=True
            )


def _grand_paris(metropole, people, now):
    process = _build(
        "mgp-plateforme-participation-mutualisee",
        metropole,
        title="Une plateforme de participation citoyenne mutualisée",
        blueprint="consultation",
        start=now - timedelta(days=8),
        description=(
            "Action #6 du Schéma Métropolitain d'Aménagement Numérique (2019) : « Développer ou "
            "acquérir une plateforme de consultation à l'échelle du territoire métropolitain "
            "qui permettrait à chaque collectivité volontaire de disposer d'un outil pour "
            "mettre en œuvre ses démarches. Cette plateforme permettrait également de suivre la "
            "participation citoyenne à l'échelle du territoire. » Remontée des besoins des "
            "collectivités (questionnaire de démonstration)."
        ),
    )
    if process is not None:
        _survey(
            process,
            [
                (
                    QuestionKind.MULTIPLE,
                    "De quels outils votre collectivité a-t-elle besoin ?",
                    ["Consultations", "Boîte à idées", "Budget participatif", "Réunions publiques"],
                ),
                (QuestionKind.TEXT, "Vos attentes", []),
            ],
            people,
            [[[0, 2], "Suivre la participation à l'échelle du territoire."], [[1], ""]],
        )


def _rouen(metropole, people, now):
    ideas = _build(
        "rouen-je-participe",
        metropole,
        title="Je participe : vos besoins pour les nouveaux services numériques",
        blueprint="idea_box",
        start=now - timedelta(days=5),
        description=(
            "Stratégie « Territoire intelligent et durable » (2021) : « Prendre en compte les "
            "besoins et les usages des citoyens pour chaque nouveau service numérique "
            "(Plateforme « Je participe ») »."
        ),
    )
    if ideas is not None:
        _proposals(
            ideas,
            [
                ("Ma Métropole dans ma poche", "Réunir les démarches dans l'application."),
                ("Wifi public", "Étendre le wifi public sur le territoire."),
            ],
            people,
        )
    survey = _build(
        "rouen-donnez-nous-votre-avis",
        metropole,
        title="Donnez-nous votre avis ?",
        blueprint="consultation",
        start=now - timedelta(days=8),
        description=(
            "« S'assurer de la qualité » de chaque nouveau service numérique (stratégie "
            "« Territoire intelligent et durable », 2021). Questionnaire de démonstration."
        ),
    )
    if survey is not None:
        _survey(
            survey,
            [
                (QuestionKind.SCALE, "Êtes-vous satisfait du service ?", []),
                (QuestionKind.TEXT, "Que faudrait-il améliorer ?", []),
            ],
            people,
            [[[4], "Plus simple sur téléphone."], [[3], ""]],
        )
