# ruff: noqa: E501  (quoted source text reads better unwrapped)
"""Demo plans: the real strategies of the source deliberations (../shared/seeds/).

Everything here is quoted or summarised from the deliberations: titles, the tree of axes,
orientations, challenges and levers, the actions, their calendars, pilots and partners, the
FEDER budget of Lille's phase 1 and the Grand Paris innovation fund's figures. The sources
give no progress: actions are loaded as planned with 0 % and every plan says so in its demo
note. Where a date or an attachment to a branch is our reading of the text, the action's
description says so. Indicator values come only from the platform itself (automatic
collection) or from figures written in the sources (baselines).

Idempotent: a plan that already exists (same territory and title) is left untouched.
"""

import contextlib
from datetime import date
from decimal import Decimal

from django.db import transaction

from metropole.core.models import Territory

from . import collectors, services
from .models import BodyKind, Frequency, IndicatorKind, NodeKind, Plan

LILLE, GRAND_PARIS, ROUEN, AIX_MARSEILLE = "200093201", "200054781", "200023414", "200054807"

NO_PROGRESS = (
    "Contenu de démonstration tiré de la délibération : structure, actions, calendriers et "
    "montants viennent de la source. La source ne donne aucun avancement : les actions sont "
    "chargées « prévues » à 0 %, et les actions dont la date de fin est passée apparaissent "
    "donc en retard. Les valeurs d'indicateurs sont collectées sur la plateforme elle-même."
)


def load_demo(metropole: Territory) -> None:
    loader = LOADERS.get(metropole.code)
    if loader is None:
        return
    title = loader.__doc__.strip().splitlines()[0]
    if Plan.objects.filter(territory=metropole, title=title).exists():
        return
    with transaction.atomic():
        loader(metropole, title)


S = services.SYSTEM


def _communes(metropole, codes):
    return list(Territory.objects.communes().filter(metropole=metropole, code__in=codes))


def _tree(plan, items, parent=None):
    """items: (kind, code, title, description, children); returns {code: node}."""
    nodes = {}
    for position, (kind, code, title, description, children) in enumerate(items):
        node = services.add_node(
            S,
            plan,
            parent=parent,
            kind=kind,
            code=code,
            title=title,
            description=description,
            position=position,
        )
        nodes[code] = node
        nodes.update(_tree(plan, children, node))
    return nodes


def _action(plan, node, position, *, steps=(), communes=(), **values):
    action = services.add_action(
        S, plan, node=node, communes=communes, position=position, is_demo=True, **values
    )
    for index, (title, due) in enumerate(steps):
        services.add_step(S, action, title=title, due=due, position=index)
    return action


def _platform_indicator(plan, name, statistic, unit, **values):
    indicator = services.add_indicator(
        S,
        plan,
        name=name,
        kind=IndicatorKind.RESULT,
        unit=unit,
        frequency=Frequency.MONTHLY,
        collector=f"statistic:{statistic}",
        source="Statistiques de la plateforme Métropole (collecte automatique)",
        is_demo=True,
        **values,
    )
    with contextlib.suppress(Exception):  # a module's statistic failing must not stop the demo
        collectors.collect(indicator)
    return indicator


# --- Lille ------------------------------------------------------------------------------------


def _lille(metropole, title):
    """#Résolument digitale ! — stratégie digitale de la MEL"""
    plan = services.create_plan(
        S,
        metropole,
        title=title,
        summary=(
            "Délibération cadre du Conseil de la Métropole Européenne de Lille (acte exécutoire au "
            "01/07/2016) : une ambition et une vision partagées à 3-5 ans, en 3 axes et 13 "
            "orientations ; phase 1 cofinancée par le FEDER (commission permanente de la Région "
            "Hauts-de-France du 18 mai 2017)."
        ),
        source=(
            "MEL, délibération cadre « stratégie digitale pour la métropole », 2016 ; Région "
            "Hauts-de-France, fiche de synthèse FEDER axe 2 n° 55209, 18 mai 2017."
        ),
        start=date(2016, 7, 1),
        end=date(2021, 6, 30),
        is_public=True,
        publish_budget=True,
        demo_note=NO_PROGRESS
        + " La fin du plan (5 ans) est notre lecture de « futur proche (3-5 ans) ».",
    )
    o = lambda n, text: (NodeKind.ORIENTATION, f"#{n}", text, "", [])  # noqa: E731
    nodes = _tree(
        plan,
        [
            (
                NodeKind.AXIS,
                "A1",
                "Une métropole résolument performante et résiliente",
                "Anticiper la mutation numérique et en faire un avantage concurrentiel : résilience et performance.",
                [
                    o(
                        1,
                        "Appuyer l'excellence technologique du territoire (IoT, IA, Big Data, Cloud)",
                    ),
                    o(
                        2,
                        "Accompagner la transition digitale des acteurs métropolitains et la montée en compétences",
                    ),
                    o(3, "Favoriser l'émergence de nouvelles connectivités"),
                    o(4, "Se doter d'une plateforme urbaine de services numériques"),
                    o(5, "Mettre l'innovation technologique au cœur des projets d'aménagement"),
                    o(6, "Développer l'intelligence des réseaux"),
                ],
            ),
            (
                NodeKind.AXIS,
                "A2",
                "Une métropole résolument citoyenne et créative pour impulser des changements de société",
                "Accompagner la créativité, l'innovation sociale, la médiation au service des citoyens.",
                [
                    o(7, "Favoriser l'émergence de lieux et dispositifs créatifs et contributifs"),
                    o(8, "Favoriser de nouveaux modèles de valeur et d'échange"),
                    o(9, "Mettre le numérique au service de nouvelles solidarités"),
                    o(
                        10,
                        "Produire une nouvelle expérience de la ville (patrimoine, culture, sports)",
                    ),
                    o(11, "Développer la mobilité intelligente"),
                ],
            ),
            (
                NodeKind.AXIS,
                "A3",
                "Une métropole résolument européenne et internationale pour renforcer sa position géostratégique",
                "",
                [
                    o(12, "Faire du numérique un outil de développement"),
                    o(
                        13,
                        "Renforcer la présence nationale, européenne et internationale de la MEL sur le numérique",
                    ),
                ],
            ),
        ],
    )
    start, end = date(2017, 1, 1), date(2018, 12, 31)
    dated = (
        "Dates : durée de 2 ans indiquée par le dossier FEDER, années 2017-2018 (notre lecture)."
    )
    lille = _communes(metropole, ["59350"])
    rtm = _communes(metropole, ["59512", "59599", "59378"])
    phase1 = _action(
        plan,
        nodes["#4"],
        0,
        code="FEDER-1",
        title="Stratégie numérique métropolitaine — phase 1 (dossier FEDER)",
        description=(
            "Quatre volets : stratégie digitale et animation (comité métropolitain du numérique, "
            "Grand barouf du numérique des 9 et 10 mars 2017) ; programme UCITY ; réseau de tiers-lieux "
            "numériques ; expérimentations à Roubaix, Tourcoing, Marcq-en-Barœul et Lille. "
            "12 personnes pendant deux ans ; dépenses uniquement de fonctionnement. " + dated
        ),
        pilot_name="Métropole Européenne de Lille",
        partners_text="Les 90 communes de la MEL",
        start=start,
        end=end,
        communes=_communes(
            metropole, [c.code for c in Territory.objects.communes().filter(metropole=metropole)]
        ),
        steps=[
            (
                "Volet 1 — stratégie digitale, instances de suivi, première rencontre du numérique",
                date(2017, 3, 10),
            ),
            (
                "Volet 2 — programme UCITY (MELCOME, ENJOY-MEL, CITY PASS, plateforme d'interopérabilité)",
                None,
            ),
            ("Volet 3 — cartographie des tiers-lieux numériques", None),
            ("Volet 4 — expérimentations communales et évaluation", None),
        ],
        budget_total=Decimal("1969083"),
    )
    services.set_budget(
        S,
        phase1,
        [
            {
                "year": 2017,
                "source": "eu_feder",
                "planned": "1181450",
                "rate": "60",
                "comment": "FEDER axe 2 — montant de la phase 1 (2 ans), non ventilé par année dans la source",
            },
            {
                "year": 2017,
                "source": "cofinancing",
                "planned": "787633",
                "comment": "Co-financements — montant de la phase 1 (2 ans), non ventilé par année dans la source",
            },
        ],
    )
    ucity = [
        (
            "#11",
            "UCITY-MELCOME",
            "MELCOME : application de géolocalisation en temps réel d'informations pratiques (transports, équipements…)",
            [],
        ),
        (
            "#10",
            "UCITY-ENJOY",
            "ENJOY-MEL : visibilité des commerces et parcours de proximité (pilote Wazemmes, Roubaix, Weppes)",
            _communes(metropole, ["59350", "59512"]),
        ),
        (
            "#10",
            "UCITY-PASS",
            "CITY PASS : pass tourisme dématérialisé donnant accès à plus de 45 sites",
            [],
        ),
        (
            "#4",
            "UCITY-INTEROP",
            "Plateforme d'interopérabilité pour les services de vie quotidienne des usagers",
            [],
        ),
    ]
    for position, (node, code, title_, communes) in enumerate(ucity, start=1):
        _action(
            plan,
            nodes[node],
            position,
            code=code,
            title=title_,
            description="Volet 2 du dossier FEDER phase 1 (programme UCITY). Rattachement à l'orientation : notre lecture. "
            + dated,
            pilot_name="Métropole Européenne de Lille",
            start=start,
            end=end,
            communes=communes,
        )
    _action(
        plan,
        nodes["#7"],
        5,
        code="TIERS-LIEUX",
        title="Réseau de tiers-lieux numériques : cartographie et accompagnement",
        description="Volet 3 : consolider les lieux existants et soutenir l'émergence de nouveaux lieux (créativité, médiation numérique, entrepreneuriat). Le réseau lui-même est prévu en phase 2. "
        + dated,
        pilot_name="Métropole Européenne de Lille",
        start=start,
        end=end,
    )
    experiments = [
        (
            "EXP-LILLE-1",
            "« Parcours scientifiques hors les murs » avec le Musée d'Histoire Naturelle",
            lille,
            "Ville de Lille",
        ),
        (
            "EXP-LILLE-2",
            "« Réseau de confiance » en partenariat avec Humanis",
            lille,
            "Ville de Lille",
        ),
        (
            "EXP-LILLE-3",
            "« Action sociale 2.0 » en partenariat avec Emmaüs Connect",
            lille,
            "Ville de Lille",
        ),
        (
            "EXP-RTM-1",
            "Intégration de la carte de la médiathèque sur la carte Pass-Pass",
            rtm,
            "Villes de Roubaix, Tourcoing et Marcq-en-Barœul",
        ),
        (
            "EXP-RTM-2",
            "Services numériques liés à la famille (Kiosque famille, réservation en ligne) sur la « TECHNOCARTE »",
            rtm,
            "Villes de Roubaix, Tourcoing et Marcq-en-Barœul",
        ),
        (
            "EXP-RTM-3",
            "Pilote UCITY Attractivité commerces & tourisme à Roubaix",
            _communes(metropole, ["59512"]),
            "Ville de Roubaix",
        ),
    ]
    for position, (code, title_, communes, pilot) in enumerate(experiments, start=6):
        _action(
            plan,
            nodes["#9"],
            position,
            code=code,
            title=title_,
            description="Volet 4 du dossier FEDER phase 1 : expérimentation vouée à être déployée sur la MEL après évaluation. Rattachement à l'orientation #9 : notre lecture. "
            + dated,
            pilot_name=pilot,
            start=start,
            end=end,
            communes=communes,
        )
    services.add_body(
        S,
        plan,
        kind=BodyKind.STEERING_COMMITTEE,
        name="Comité de pilotage",
        frequency="Tous les trois mois",
        description="Présidé par le Président de la MEL et animé par l'élu en charge du numérique ; actualise les orientations.",
    )
    services.add_body(
        S,
        plan,
        kind=BodyKind.DIGITAL_COMMITTEE,
        name="Comité métropolitain du numérique",
        frequency="Semestriel",
        description="Associe la Région et les acteurs clefs du numérique ; lieu de concertation, forte dimension éthique.",
    )
    services.add_body(
        S,
        plan,
        kind=BodyKind.SCIENTIFIC_COUNCIL,
        name="Conseil scientifique",
        frequency="Une fois par an",
        description="Comité de contenus des Rencontres du Numérique : leaders d'opinion et experts.",
    )
    services.add_body(
        S,
        plan,
        kind=BodyKind.WORKING_GROUP,
        name="Référents stratégie digitale",
        frequency="Groupe permanent",
        description="Consolident le portefeuille d'actions et sa cohérence globale.",
    )
    _platform_indicator(
        plan,
        "Communes utilisant la plateforme",
        "core.joined_communes",
        "communes",
        node=nodes["#4"],
        direction="increase",
        specific="Nombre de communes de la MEL ayant rejoint la plateforme urbaine de services numériques.",
        measurable="Compté automatiquement sur la plateforme.",
        relevant="Orientation #4 : une infrastructure fournie aux communes pour leurs propres contenus.",
        target_value=Decimal(90),
        target_date=date(2021, 6, 30),
        time_bound="Cible de démonstration : les 90 communes partenaires du dossier FEDER, d'ici la fin du plan.",
    )
    _platform_indicator(
        plan,
        "Personnes ayant un rôle sur la plateforme",
        "core.members",
        "personnes",
        node=nodes["#2"],
        direction="increase",
        specific="Agents, élus, partenaires et habitants inscrits avec un rôle.",
        measurable="Compté automatiquement sur la plateforme.",
    )


# --- Grand Paris ---------------------------------------------------------------------------------


def _grand_paris(metropole, title):
    """Schéma Métropolitain d'Aménagement Numérique (SMAN) — Métropole d'Intelligences"""
    plan = services.create_plan(
        S,
        metropole,
        title=title,
        summary=(
            "Six défis à relever à horizon 2024, une première feuille de route bisannuelle "
            "2019-2020 de 17 actions, des indicateurs SMART de processus et de résultats, et un "
            "comité de pilotage d'exécution qui revoit chaque action (avancement, planning, budget) "
            "et décide de la maintenir, de la diffuser à l'échelle métropolitaine ou de l'abandonner."
        ),
        source="Métropole du Grand Paris, Schéma Métropolitain d'Aménagement Numérique, 2019 (article L1425-2 du CGCT).",
        start=date(2019, 1, 1),
        end=date(2024, 12, 31),
        is_public=True,
        publish_budget=True,
        demo_note=NO_PROGRESS,
    )
    d = lambda n, name, chantiers: (NodeKind.CHALLENGE, f"D{n}", name, chantiers, [])  # noqa: E731
    nodes = _tree(
        plan,
        [
            d(
                1,
                "Une Métropole connectée",
                "Accès universel aux infrastructures numériques. Chantiers : fibre, datacenters, wifi, réseaux mobiles.",
            ),
            d(
                2,
                "Une Métropole Inclusive et Solidaire",
                "Lutter contre le décrochage numérique. Chantiers : numérique pour tous et numérique solidaire.",
            ),
            d(
                3,
                "Une Métropole Collaborative et Participative",
                "Coopérer avec les acteurs publics et privés, renforcer la participation. Chantiers : implication citoyenne, coopération avec les privés, données, centre de ressources.",
            ),
            d(
                4,
                "Une Métropole Agile et Efficiente",
                "Moderniser les administrations et les services publics. Chantiers : montée en compétences, intrapreneuriat, expérimentations, mise en commun.",
            ),
            d(
                5,
                "Une Métropole Résiliente et Durable",
                "Réduire l'empreinte environnementale, la nature en ville. Chantiers : optimisation de la ville, économie circulaire, qualité de l'air.",
            ),
            d(
                6,
                "Une Métropole Rayonnante et Attractive",
                "Dynamisme des centres-villes, culture. Chantiers : mobilité urbaine, centres-villes, culture.",
            ),
        ],
    )
    wave = "Première feuille de route bisannuelle 2019-2020."
    start, end = date(2019, 1, 1), date(2020, 12, 31)
    mgp = "Métropole du Grand Paris"
    actions = [
        (
            "D1",
            "Faire du Grand Paris Express une rocade d'infrastructures et de services numériques pour les métropolitains",
            "Réponse conjointe MGP / Société du Grand Paris à l'appel à projets Territoire d'Innovation Grande Ambition (TIGA) ; consultation de type « Inventons la Métropole du Grand Paris » sur le numérique et la data ; accès à la fibre du GPE ; services des datacenters de la SGP.",
            "SGP, communes volontaires, CDC",
            [],
            None,
        ),
        (
            "D1",
            "Plateforme d'information pour le raccordement FttH avec l'ARCEP, l'APUR et le SIPPAREC",
            "Outil métropolitain, centré sur l'utilisateur, alimenté par les opérateurs et l'ARCEP : carte d'éligibilité interactive et date d'arrivée de la fibre. Budget : de l'ordre de 200 k€ HT.",
            "Opérateurs, ARCEP, APUR, SIPPAREC",
            [
                ("Convention de partenariat MGP / ARCEP / opérateurs", date(2019, 4, 30)),
                ("Attribution du marché de service", date(2019, 6, 30)),
                (
                    "Déploiement de la solution, dont design thinking avec un panel de citoyens",
                    date(2020, 12, 31),
                ),
            ],
            Decimal(200000),
        ),
        (
            "D2",
            "Déploiement et généralisation du Pass Numérique pour lutter contre la fracture numérique",
            "Heures de formation à la culture numérique sur le modèle du titre-restaurant : carnets de 50 à 100 € (1 heure = 1 ticket de 10 €), 10 à 20 heures parmi 129 formations labellisées par la MedNum, dans des lieux labellisés APTIC.",
            "MedNum, Agence du Numérique, SGP, mairies, départements, entreprises (RSE)",
            [],
            None,
        ),
        (
            "D2",
            "Soutenir le déploiement d'espaces de fabrication numérique pour diffuser les savoirs de pointe",
            "",
            "",
            [],
            None,
        ),
        (
            "D3",
            "Mise en œuvre d'une plateforme de participation citoyenne mutualisée avec les collectivités volontaires",
            "Plateforme de consultation à l'échelle métropolitaine (ex. Decidim, open source) pour chaque collectivité volontaire.",
            "Communes et EPT du territoire métropolitain",
            [
                ("Communication auprès des collectivités", date(2019, 4, 30)),
                ("Remontée des besoins des collectivités", date(2019, 5, 31)),
                ("Benchmark des solutions existantes", date(2019, 7, 31)),
                ("Rédaction du cahier des charges", date(2019, 9, 30)),
                ("Lancement des premières démarches de participation citoyenne", date(2020, 3, 31)),
            ],
            None,
        ),
        (
            "D3",
            "Mise en œuvre d'une place de marché pour connecter les besoins des collectivités et les solutions des acteurs du numérique",
            "Place de marché conforme à la réglementation des marchés publics (exemple : « Adopte une start-up » en Hauts-de-France).",
            "Communes et EPT du territoire",
            [
                ("Identification des besoins auprès des collectivités", date(2019, 6, 30)),
                ("Rédaction d'un CCTP et ouverture d'un marché", date(2019, 9, 30)),
                ("Identification des entreprises du numérique et communication", date(2019, 9, 30)),
                ("Mise en service de la plateforme", date(2020, 3, 31)),
            ],
            None,
        ),
        (
            "D3",
            "Animer le centre de ressources en ligne pour la transition numérique",
            "Avec les contributions des collectivités et des acteurs de l'innovation et du numérique : contenus, retours d'expériences, veille.",
            "Communes et EPT du territoire",
            [
                ("Besoins en communication du centre de ressources", date(2019, 6, 30)),
                ("Besoins en animation du centre de ressources", date(2019, 6, 30)),
                ("CCTP et marché d'accompagnement à l'animation", date(2019, 9, 30)),
            ],
            None,
        ),
        (
            "D3",
            "Développer les actions de Paris dans Co en matière d'expérimentation à l'échelle métropolitaine",
            "",
            "",
            [],
            None,
        ),
        (
            "D4",
            "Soutenir la montée en compétence des collectivités du Grand Paris via le programme des Explorateurs du numérique",
            "Deuxième session du programme de formation-action ; la première a mobilisé 25 agents.",
            "Communes et EPT ; Station F, le 104 ; écoles et centres de recherche du territoire",
            [
                ("Lancement d'un marché pour animer la communauté", date(2019, 4, 30)),
                ("Recrutement d'un prestataire", date(2019, 6, 30)),
                ("Recrutement d'explorateurs pour la seconde édition", date(2019, 7, 31)),
                ("Seconde édition : 6 journées d'exploration", date(2020, 6, 30)),
            ],
            None,
        ),
        (
            "D4",
            "Soutenir l'expérimentation et la recherche-action via le Fonds Métropolitain pour l'Innovation Numérique (FMIN) et des groupes thématiques",
            "Enveloppe globale d'un million d'euros ; subvention d'au plus 50 % du projet, dans la limite de 40 k€ par collectivité (60 k€ si le projet est porté par plusieurs collectivités). 23 expérimentations retenues à la première session ; la deuxième pourrait aussi être d'un million d'euros par an.",
            "Communes et EPT de la Métropole du Grand Paris",
            [
                ("Communiquer sur la vague 2019 et les règles du FMIN", date(2019, 3, 31)),
                (
                    "Accompagnement des collectivités dans leur dossier de candidature",
                    date(2019, 5, 31),
                ),
                ("Dépôt et sélection des dossiers de candidature", date(2019, 6, 30)),
            ],
            None,
        ),
        (
            "D4",
            "Élaboration d'un pôle d'ingénierie pour la transition numérique du territoire métropolitain",
            "Pôle pluridisciplinaire (données, design des politiques publiques, open source, financements) pour accompagner les collectivités.",
            "Communes et EPT de la Métropole du Grand Paris",
            [
                ("Identification des besoins et des moyens des collectivités", date(2019, 6, 30)),
                ("Benchmark du véhicule juridique et du mode de financement", date(2019, 9, 30)),
                ("Concertation sur le véhicule juridique", date(2019, 12, 31)),
                ("Rédaction des statuts du pôle", date(2020, 3, 31)),
            ],
            None,
        ),
        (
            "D4",
            "Soutenir l'intrapreneuriat pour développer des services numériques métropolitains (« Start-up de métropole » avec beta.gouv.fr)",
            "La Métropole prendrait en charge le ticket d'entrée de pré-incubation (20 000 € par collectivité).",
            "Communes et EPT",
            [("Date limite de dépôt de la candidature à l'appel à projets", date(2019, 1, 7))],
            None,
        ),
        (
            "D5",
            "Appel à projets métropolitain : solutions qui incitent les citoyens à adopter des comportements conformes au PCAEM",
            "",
            "",
            [],
            None,
        ),
        (
            "D5",
            "Développer la plateforme Plante et Moi pour la végétalisation de l'espace public par les citoyens (avec beta.gouv.fr)",
            "",
            "beta.gouv.fr",
            [],
            None,
        ),
        (
            "D6",
            "Soutenir le déploiement d'espaces culturels numériques (ex. Micro-Folies avec la Villette)",
            "",
            "La Villette",
            [],
            None,
        ),
        (
            "D6",
            "Développer une plateforme de bourse aux espaces vacants, notamment pour l'économie sociale et solidaire",
            "",
            "",
            [],
            None,
        ),
        (
            "D6",
            "Développer la Plateforme Ouverte du Patrimoine pour les citoyens et les startups (avec beta.gouv.fr)",
            "",
            "beta.gouv.fr",
            [],
            None,
        ),
    ]
    explorers = _communes(
        metropole,
        [
            "92071",
            "94028",
            "93048",
            "94002",
            "92046",
            "92026",
            "93070",
            "94033",
            "94015",
            "94042",
            "92050",
            "93064",
            "92063",
            "94067",
            "94077",
            "92078",
            "92051",
            "92004",
        ],
    )
    created = {}
    for number, (defi, title_, description, partners, steps, total) in enumerate(actions, start=1):
        created[number] = _action(
            plan,
            nodes[defi],
            number,
            code=f"#{number}",
            title=title_,
            description=(description + " " + wave).strip(),
            pilot_name=mgp,
            partners_text=partners,
            start=start,
            end=end,
            steps=steps,
            budget_total=total,
            communes=explorers if number == 9 else (),
        )
    services.set_budget(
        S,
        created[2],
        [
            {
                "year": 2019,
                "source": "own",
                "planned": "200000",
                "comment": "« De l'ordre de 200 k€ HT » (fiche action)",
            },
        ],
    )
    services.set_budget(
        S,
        created[10],
        [
            {
                "year": 2019,
                "source": "own",
                "planned": "1000000",
                "comment": "FMIN : enveloppe globale d'un million d'euros (première session)",
            },
            {
                "year": 2020,
                "source": "own",
                "planned": "1000000",
                "comment": "Deuxième session : « pourrait également être d'un million d'euros par an »",
            },
        ],
    )
    services.add_body(
        S,
        plan,
        kind=BodyKind.STEERING_COMMITTEE,
        name="Comité de pilotage d'exécution du SMAN",
        frequency="Au minimum semestriel",
        description="Revoit à chaque réunion l'avancement, le planning et le budget de chaque action, et formule un avis : maintien, diffusion à une échelle plus large voire métropolitaine, ou abandon. Rapport d'évaluation semestriel.",
    )
    services.add_indicator(
        S,
        plan,
        name="Expérimentations soutenues par le FMIN",
        kind=IndicatorKind.RESULT,
        unit="expérimentations",
        node=nodes["D4"],
        action=created[10],
        baseline_value=Decimal(23),
        baseline_date=date(2019, 6, 30),
        specific="Projets d'innovation numérique de collectivités subventionnés par le FMIN.",
        measurable="Nombre de dossiers retenus par session.",
        source="SMAN 2019 : « La première session du FMIN a retenu 23 expérimentations »",
        frequency=Frequency.ANNUAL,
        is_demo=True,
    )
    services.add_indicator(
        S,
        plan,
        name="Agents formés par le programme des Explorateurs du numérique",
        kind=IndicatorKind.RESULT,
        unit="agents",
        node=nodes["D4"],
        action=created[9],
        baseline_value=Decimal(25),
        baseline_date=date(2018, 12, 31),
        specific="Agents des collectivités ayant suivi une session du programme.",
        source="SMAN 2019 : « La première session … a réussi à mobiliser sur la durée 25 agents »",
        frequency=Frequency.ANNUAL,
        is_demo=True,
    )
    services.add_indicator(
        S,
        plan,
        name="Écart entre échéancier planifié et calendrier réel des livrables",
        kind=IndicatorKind.PROCESS,
        unit="jours",
        direction="decrease",
        specific="Indicateur de processus proposé par le SMAN (exemple de la section 4.2.1.3).",
        frequency=Frequency.SEMIANNUAL,
        is_demo=True,
    )
    _platform_indicator(
        plan,
        "Communes utilisant la plateforme",
        "core.joined_communes",
        "communes",
        node=nodes["D3"],
    )


# --- Rouen ----------------------------------------------------------------------------------------


def _rouen(metropole, title):
    """Territoire intelligent et durable — Métropole Rouen Normandie"""
    plan = services.create_plan(
        S,
        metropole,
        title=title,
        summary=(
            "Stratégie lancée par le Conseil du 5 juillet 2021 selon les principes de la Tech for good : "
            "3 orientations et une visibilité donnée à la démarche autour de cinq premières actions "
            "au second semestre 2021. Gouvernance : groupe #MaMétropoleConnectée et comité de pilotage "
            "tous les trois mois."
        ),
        source="Métropole Rouen Normandie, délibération C2021_0170 du 5 juillet 2021.",
        start=date(2021, 7, 5),
        end=None,
        is_public=True,
        demo_note=NO_PROGRESS,
    )
    t = lambda code, name: (NodeKind.THEME, code, name, "", [])  # noqa: E731
    nodes = _tree(
        plan,
        [
            (
                NodeKind.ORIENTATION,
                "O1",
                "Vers une métropole plus inclusive et participative",
                "Participation citoyenne, transparence de l'action publique, ouverture des données.",
                [
                    t("O1.1", "Participation citoyenne"),
                    t("O1.2", "Transparence de la vie publique"),
                ],
            ),
            (
                NodeKind.ORIENTATION,
                "O2",
                "Vers une métropole plus durable et résiliente",
                "Attractivité des emplois et des entreprises, transition industrielle, mobilité durable.",
                [
                    t("O2.1", "Numérisation des acteurs économiques de la Métropole"),
                    t("O2.2", "Résilience du territoire"),
                ],
            ),
            (
                NodeKind.ORIENTATION,
                "O3",
                "Vers une métropole plus attractive, dynamique et innovante",
                "Sentiment d'appartenance, attractivité touristique, Capitale européenne de la Culture 2028.",
                [t("O3.1", "E-administration"), t("O3.2", "Open Innovation")],
            ),
        ],
    )
    start, end = date(2021, 7, 5), date(2021, 12, 31)
    first = [
        ("O3.1", "Lancement de l'application Ma Métropole dans ma poche"),
        ("O3.1", "Valorisation du Wi-Fi territorial"),
        ("O1.1", "Déploiement de cabines connectées"),
        (
            "O3.2",
            "Premiers usages innovants grâce à la valorisation des données (énergie, mobilité, tourisme)",
        ),
        ("O2.1", "Organisation d'un Hackathon Good Tech"),
    ]
    for position, (node, title_) in enumerate(first, start=1):
        _action(
            plan,
            nodes[node],
            position,
            code=f"A{position}",
            title=title_,
            description="Une des cinq premières actions du second semestre 2021. Rattachement au thème : notre lecture.",
            pilot_name="Métropole Rouen Normandie",
            start=start,
            end=end,
        )
    services.add_body(
        S,
        plan,
        kind=BodyKind.STEERING_COMMITTEE,
        name="Comité de pilotage",
        frequency="Tous les trois mois",
        description="Présidé par le Président de la Métropole, animé par l'élu en charge du numérique.",
    )
    services.add_body(
        S,
        plan,
        kind=BodyKind.WORKING_GROUP,
        name="#MaMétropoleConnectée",
        frequency="Groupe de travail permanent",
        description="Ambassadeurs stratégie numérique des directions : consolident le portefeuille d'actions.",
    )


# --- Aix-Marseille-Provence ------------------------------------------------------------------------


def _aix_marseille(metropole, title):
    """Agenda numérique métropolitain — Aix-Marseille-Provence"""
    plan = services.create_plan(
        S,
        metropole,
        title=title,
        summary=(
            "Présenté au Conseil du 19 décembre 2019 : faire du territoire une Zone de Confiance "
            "Numérique, 3 axes stratégiques et 4 leviers d'accélération. Le rapport n'a pas "
            "d'incidence budgétaire : les crédits sont inscrits chaque année par politique publique."
        ),
        source="Métropole d'Aix-Marseille-Provence, délibération FAG 172-7820/19/CM du 19 décembre 2019.",
        start=date(2019, 12, 19),
        end=None,
        is_public=True,
        demo_note="Contenu de démonstration tiré de la délibération : axes et leviers. La source ne liste pas d'actions ni de budget.",
    )
    sub = lambda code, name: (NodeKind.THEME, code, name, "", [])  # noqa: E731
    lever = lambda code, name, text: (NodeKind.LEVER, code, name, text, [])  # noqa: E731
    _tree(
        plan,
        [
            (
                NodeKind.AXIS,
                "1",
                "Innover pour les usagers",
                "Devenir un « hub de services », une « Métropole As A Service » : des services instantanés, personnalisés, simplifiés et accessibles, en toute sécurité.",
                [],
            ),
            (
                NodeKind.AXIS,
                "2",
                "Devenir un territoire d'excellence et de confiance numérique",
                "Infrastructures, données et services numériques.",
                [
                    sub("2.1", "Une Métropole connectée"),
                    sub("2.2", "Une Métropole intelligente"),
                    sub("2.3", "Une Métropole orientée données"),
                    sub("2.4", "Une Métropole entrepreneuriale et innovante"),
                    sub("2.5", "Une Métropole de talents"),
                    sub("2.6", "Une Métropole au numérique inclusif"),
                    sub("2.7", "Une métropole durable (sobriété numérique)"),
                ],
            ),
            (
                NodeKind.AXIS,
                "3",
                "Rendre l'administration innovante et agile",
                "Outils collaboratifs, de pilotage, de traitement de la donnée ; nouveaux modes de travail.",
                [],
            ),
            (
                NodeKind.THEME,
                "L",
                "Leviers d'accélération",
                "Transversaux à tous les projets de l'Agenda numérique.",
                [
                    lever(
                        "L1",
                        "Mettre l'usager au cœur et le rendre acteur",
                        "Design de service, participation civique, tiers-lieux.",
                    ),
                    lever(
                        "L2",
                        "Maîtriser, valoriser, sécuriser les gisements de données",
                        "Stockage, sécurité, ouverture des données.",
                    ),
                    lever(
                        "L3",
                        "Favoriser l'expérimentation, moderniser les méthodes",
                        "Méthodes agiles, hackathons, appels à expérimentation.",
                    ),
                    lever(
                        "L4",
                        "S'ouvrir et favoriser les projets numériques des communes",
                        "Réplication des projets réussis des communes.",
                    ),
                ],
            ),
        ],
    )


LOADERS = {
    LILLE: _lille,
    GRAND_PARIS: _grand_paris,
    ROUEN: _rouen,
    AIX_MARSEILLE: _aix_marseille,
}
