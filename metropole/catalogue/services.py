"""Write paths of the catalogue: transactional, permission-checked, audited."""

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest, Conflict
from metropole.core.models import Territory, TerritoryKind
from metropole.core.rules import require_perm
from metropole.core.services import audit

from .competences import DEFAULT_CATEGORIES, DEFAULT_COMPETENCES
from .models import Answer, Category, Channel, Competence, Holder, Service


@transaction.atomic
def install_defaults(metropole: Territory) -> None:
    """Create the default competences and categories of a metropole (idempotent: a
    holder an administrator changed is kept)."""
    for item in DEFAULT_COMPETENCES:
        Competence.objects.get_or_create(
            metropole=metropole,
            code=item["code"],
            defaults={
                "name": item["name"],
                "description": item["description"],
                "holder": item["holder"],
            },
        )
    for item in DEFAULT_CATEGORIES:
        Category.objects.get_or_create(
            metropole=metropole,
            slug=item["slug"],
            defaults={"name": item["name"], "order": item["order"]},
        )


@transaction.atomic
def set_competence_holder(actor, competence: Competence, holder: str) -> Competence:
    """Move a competence between the metropole, its EPTs and the communes."""
    require_perm(actor, "catalogue.manage_competences", competence.metropole)
    if holder not in Holder.values:
        raise BadRequest(
            _("Unknown holder"),
            _("%(holder)r is not one of: %(choices)s.")
            % {"holder": holder, "choices": ", ".join(Holder.values)},
            field="holder",
        )
    before = competence.holder
    competence.holder = holder
    competence.save(update_fields=["holder"])
    audit(
        actor,
        "catalogue.competence_holder",
        competence.metropole,
        competence,
        code=competence.code,
        before=before,
        after=holder,
    )
    return competence


def _level(territory: Territory) -> str:
    return {
        TerritoryKind.METROPOLE: Holder.METROPOLE,
        TerritoryKind.EPT: Holder.EPT,
        TerritoryKind.COMMUNE: Holder.COMMUNE,
    }[territory.kind]


def _check_competence(territory: Territory, competence: Competence | None) -> None:
    if competence is None:
        return
    if competence.metropole_id != territory.root.pk:
        raise BadRequest(
            _("Unknown competence"),
            _("This competence belongs to another metropole."),
            field="competence",
        )
    level = _level(territory)
    # A metropole also runs EPT competences where there is no EPT.
    allowed = {level} | ({Holder.EPT} if level == Holder.METROPOLE else set())
    if competence.holder not in allowed:
        raise BadRequest(
            _("Competence held by another level"),
            _(
                "%(territory)s cannot run a service of the competence “%(competence)s”: "
                "it is held by %(holder)s."
            )
            % {
                "territory": territory.display_name,
                "competence": competence.name,
                "holder": competence.get_holder_display(),
            },
            field="competence",
        )


@transaction.atomic
def save_service(actor, territory: Territory, *, service: Service | None = None, **values):
    """Create (service=None) or update a service of `territory`.

    `values`: title, summary, description, category, competence, channels, url, contact,
    active, source, and optionally slug.
    """
    require_perm(actor, "catalogue.manage_services", territory)
    if service is not None and service.territory_id != territory.pk:
        raise BadRequest(_("Wrong territory"), _("This service is run by another territory."))
    title = (values.get("title") or "").strip()
    if not title:
        raise BadRequest(_("Missing title"), _("A service needs a title."), field="title")
    category = values.get("category")
    if category is None or category.metropole_id != territory.root.pk:
        raise BadRequest(
            _("Missing category"), _("Choose a category of this metropole."), field="category"
        )
    competence = values.get("competence")
    _check_competence(territory, competence)
    channels = list(values.get("channels") or [])
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        raise BadRequest(
            _("Unknown channel"),
            _("Unknown channel(s): %(channels)s.") % {"channels": ", ".join(unknown)},
            field="channels",
        )
    created = service is None
    service = service or Service(territory=territory)
    service.slug = values.get("slug") or service.slug or slugify(title)[:200]
    for name in ("summary", "description", "url", "contact", "source"):
        if name in values:
            setattr(service, name, (values[name] or "").strip())
    service.title = title
    service.category = category
    service.competence = competence
    service.channels = channels
    if "active" in values:
        service.active = bool(values["active"])
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError:
        raise Conflict(
            _("Name already used"),
            _("%(territory)s already has a service at the address “%(slug)s”.")
            % {"territory": territory.display_name, "slug": service.slug},
            field="title",
        ) from None
    audit(
        actor,
        "catalogue.service_created" if created else "catalogue.service_updated",
        territory,
        service,
        title=service.title,
    )
    return service


@transaction.atomic
def add_answer(actor, service: Service, question: str, answer: str, order: int = 100) -> Answer:
    require_perm(actor, "catalogue.manage_services", service.territory)
    question, answer = (question or "").strip(), (answer or "").strip()
    if not question:
        raise BadRequest(_("Missing question"), _("Write the question."), field="question")
    if not answer:
        raise BadRequest(_("Missing answer"), _("Write the answer."), field="answer")
    item = Answer.objects.create(service=service, question=question, answer=answer, order=order)
    audit(actor, "catalogue.answer_added", service.territory, service, question=question)
    return item


@transaction.atomic
def delete_answer(actor, answer: Answer) -> None:
    service = answer.service
    require_perm(actor, "catalogue.manage_services", service.territory)
    audit(actor, "catalogue.answer_deleted", service.territory, service, question=answer.question)
    answer.delete()
