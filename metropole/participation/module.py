"""The participation module's manifest: what it adds to the platform, in one place."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from metropole.core.registry import (
    NAV_ADMIN,
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    Statistic,
    registry,
)


def _figure(key):
    def compute(territory):
        from . import queries

        return queries.figures(queries.territory_filter(territory))[key]

    return compute


def _process_count(territory) -> int:
    from . import queries
    from .models import Process

    return Process.objects.filter(queries.territory_filter(territory)).count()


def _proposal_rows(territory):
    """Anonymised: no author, no exact location (commune only), hidden content left out."""
    from . import queries
    from .models import Proposal

    qs = (
        Proposal.objects.filter(
            component__process__in=queries.processes(published_only=True).filter(
                queries.territory_filter(territory)
            ),
            is_hidden=False,
        )
        .select_related("component__process__territory", "commune")
        .order_by("pk")
    )
    for p in qs.iterator(chunk_size=1000):
        process = p.component.process
        yield {
            "id": p.pk,
            "process": process.title,
            "organiser_code": process.territory.code,
            "title": p.title,
            "body": p.body,
            "commune_insee": p.commune.code if p.commune else "",
            "status": p.status,
            "official_answer": p.answer,
            "supports": p.support_count,
            "comments": p.comment_count,
            "merged_into": p.merged_into_id or "",
            "created_on": p.created_at.date().isoformat(),
            "is_demo": p.is_demo,
        }


def _budget_rows(territory):
    from . import queries
    from .models import Component, ComponentKind

    components = Component.objects.filter(
        kind=ComponentKind.BUDGET,
        process__in=queries.processes(published_only=True).filter(
            queries.territory_filter(territory)
        ),
    ).select_related("process__territory")
    for component in components:
        for area in queries.budget_results(component):
            for row in area["rows"]:
                yield {
                    "process": component.process.title,
                    "organiser_code": component.process.territory.code,
                    "area": area["area"].name,
                    "area_budget": area["area"].amount,
                    "project": row["project"].title,
                    "cost": row["project"].cost,
                    "votes": row["votes"],
                    "selected": row["selected"],
                    "is_demo": row["project"].is_demo,
                }


def _debate_rows(territory):
    """Debates with their arguments counted by side and the territory's conclusion
    (no author, hidden arguments left out)."""
    from . import queries
    from .models import Component, ComponentKind

    components = Component.objects.filter(
        kind=ComponentKind.DEBATES,
        process__in=queries.processes(published_only=True).filter(
            queries.territory_filter(territory)
        ),
    ).select_related("process__territory")
    for component in components:
        for debate in queries.debates(component):
            yield {
                "id": debate.pk,
                "process": component.process.title,
                "organiser_code": component.process.territory.code,
                "question": debate.title,
                "opens_on": debate.start.date().isoformat(),
                "closes_on": debate.end.date().isoformat(),
                "arguments_for": debate.n_for,
                "arguments_against": debate.n_against,
                "arguments_neutral": debate.n_neutral,
                "conclusion": debate.conclusion,
                "concluded_on": debate.concluded_at.date().isoformat()
                if debate.concluded_at
                else "",
                "is_demo": debate.is_demo,
            }


def _statistics_rows(territory):
    from . import queries

    for row in queries.dashboard(territory)["by_process"]:
        process = row["process"]
        yield {
            "process": process.title,
            "organiser_code": process.territory.code,
            "kind": process.blueprint,
            "participants": row["participants"],
            "contributions": row["contributions"],
            "votes": row["votes"],
            "is_demo": process.is_demo,
        }


def _demo(metropole):
    from .demo import load_demo

    load_demo(metropole)


def _export(user):
    from .services import export_personal_data

    return export_personal_data(user)


def _erase(user):
    from .services import erase_personal_data

    erase_personal_data(user)


manifest = registry.register(
    ModuleManifest(
        label="participation",
        name=_("Citizen participation"),
        order=30,
        navigation=[
            NavEntry(_("Take part"), "participation:index", NAV_PUBLIC, order=30),
            NavEntry(
                _("Participation"),
                "participation:admin_processes",
                NAV_ADMIN,
                "participation.manage",
                per_territory=True,
                order=50,
            ),
            NavEntry(
                _("Moderation"),
                "participation:moderation",
                NAV_ADMIN,
                "participation.moderate",
                per_territory=True,
                order=51,
            ),
            NavEntry(
                _("Participation dashboard"),
                "participation:dashboard",
                NAV_ADMIN,
                "participation.view_dashboard",
                per_territory=True,
                order=52,
            ),
        ],
        permissions=[
            "participation.propose",
            "participation.comment",
            "participation.support",
            "participation.answer",
            "participation.vote",
            "participation.register",
            "participation.manage",
            "participation.moderate",
            "participation.view_dashboard",
            "participation.view_budget_results",
            "participation.argue",
            "participation.edit_comment",
        ],
        statistics=[
            Statistic.count(
                "participation_processes",
                ngettext_lazy("participatory process", "participatory processes", "n"),
                _process_count,
                headline=True,
            ),
            Statistic("participants", _("participants"), _figure("participants")),
            Statistic("participation_contributions", _("contributions"), _figure("contributions")),
            Statistic("participation_votes", _("supports and ballots"), _figure("votes")),
        ],
        exports=[
            OpenDataExport(
                key="proposals",
                title=_("Citizen proposals"),
                description=_(
                    "Proposals of the participatory processes, anonymised (no author, commune "
                    "instead of exact place), with their status, official answer and supports."
                ),
                fields=(
                    "id",
                    "process",
                    "organiser_code",
                    "title",
                    "body",
                    "commune_insee",
                    "status",
                    "official_answer",
                    "supports",
                    "comments",
                    "merged_into",
                    "created_on",
                    "is_demo",
                ),
                rows=_proposal_rows,
            ),
            OpenDataExport(
                key="budget_results",
                title=_("Participatory budget results"),
                description=_("Votes per project and selected projects of each budget area."),
                fields=(
                    "process",
                    "organiser_code",
                    "area",
                    "area_budget",
                    "project",
                    "cost",
                    "votes",
                    "selected",
                    "is_demo",
                ),
                rows=_budget_rows,
            ),
            OpenDataExport(
                key="debates",
                title=_("Public debates"),
                description=_(
                    "Questions put to debate, their arguments counted by side (for, against, "
                    "neither) and the conclusion of the territory; no author."
                ),
                fields=(
                    "id",
                    "process",
                    "organiser_code",
                    "question",
                    "opens_on",
                    "closes_on",
                    "arguments_for",
                    "arguments_against",
                    "arguments_neutral",
                    "conclusion",
                    "concluded_on",
                    "is_demo",
                ),
                rows=_debate_rows,
            ),
            OpenDataExport(
                key="statistics",
                title=_("Participation statistics"),
                description=_(
                    "Participants, contributions and votes per process (participant: see the "
                    "definition in the documentation)."
                ),
                fields=(
                    "process",
                    "organiser_code",
                    "kind",
                    "participants",
                    "contributions",
                    "votes",
                    "is_demo",
                ),
                rows=_statistics_rows,
            ),
        ],
        demo_data=_demo,
        export_personal_data=_export,
        erase_personal_data=_erase,
        api_router="metropole.participation.api.router",
        api_prefix="participation",
        urls="metropole.participation.urls",
        url_prefix="participer",
    )
)
