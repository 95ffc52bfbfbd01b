"""Catalogue API: the services open to a commune, categories, competences, one service."""

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from metropole.core import queries as core_queries
from metropole.core.api_pagination import Pagination

from . import queries

router = Router(tags=["services"])


class CategoryOut(Schema):
    slug: str
    name: str


class CompetenceOut(Schema):
    code: str
    name: str
    holder: str = Field(description="metropole, ept or commune")
    description: str


class AnswerOut(Schema):
    question: str
    answer: str


class ServiceOut(Schema):
    slug: str
    title: str
    summary: str
    territory_code: str = Field(description="INSEE code or SIREN of the territory that runs it")
    territory_name: str
    category: str
    competence: str | None = None
    channels: list[str]
    url: str
    is_demo: bool

    @staticmethod
    def resolve_territory_code(obj) -> str:
        return obj.territory.code

    @staticmethod
    def resolve_territory_name(obj) -> str:
        return obj.territory.display_name

    @staticmethod
    def resolve_category(obj) -> str:
        return obj.category.slug

    @staticmethod
    def resolve_competence(obj) -> str | None:
        return obj.competence.code if obj.competence_id else None

    @staticmethod
    def resolve_url(obj, context) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url())


class ServiceDetailOut(ServiceOut):
    description: str
    contact: str
    answers: list[AnswerOut]

    @staticmethod
    def resolve_answers(obj) -> list:
        return list(obj.answers.all())


@router.get(
    "/", response=list[ServiceOut], url_name="services", summary="Services open to a commune"
)
@paginate(Pagination)
def service_list(
    request,
    commune: str = Query("", description="INSEE code: services open to its people"),
    q: str = Query("", description="Words to search (accents and case ignored)"),
    category: str = Query("", description="Category slug"),
):
    metropole = core_queries.current_metropole()
    place = core_queries.territory_by_code(commune, metropole) if commune else metropole
    qs = queries.services_for(place)
    if category:
        qs = qs.filter(category=queries.category_by_slug(metropole, category))
    return queries.search(qs, q) if q else qs.order_by("category__order", "search_title")


@router.get("/categories", response=list[CategoryOut], url_name="service_categories")
def category_list(request):
    return list(queries.categories_of(core_queries.current_metropole()))


@router.get(
    "/competences",
    response=list[CompetenceOut],
    url_name="competences",
    summary="Who holds each competence: the metropole, the EPT or each commune",
)
def competence_list(request):
    return list(queries.competences_of(core_queries.current_metropole()))


@router.get("/{territory_code}/{slug}", response=ServiceDetailOut, url_name="service")
def service_detail(request, territory_code: str, slug: str):
    territory = core_queries.territory_by_code(territory_code, core_queries.current_metropole())
    return queries.service_detail(territory.slug, slug)
