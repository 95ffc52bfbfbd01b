"""Pages of the catalogue: find a service from one's commune, a service page, and the
back-office where a territory's staff describe their services."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from metropole.core import queries as core_queries
from metropole.core.exceptions import PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import queries, services
from .forms import AnswerForm, ServiceForm
from .hooks import service_links
from .models import Answer, Holder, Service


@require_safe
def index(request):
    """Start page: "where do you live?" then the services open to that commune."""
    metropole = request.metropole
    where = request.GET.get("commune", "").strip()
    q = request.GET.get("q", "").strip()
    context = {"where": where, "q": q, "matches": None, "error": None}
    if where:
        try:
            matches = core_queries.search_communes(metropole, where)
        except PlatformError as error:
            context["error"] = error
            matches = []
        if len(matches) == 1:
            url = _commune_url(matches[0])
            return redirect(url + (f"?{urlencode({'q': q})}" if q else ""))
        context["matches"] = matches
    base = queries.services_for(metropole)
    results = queries.search(base, q) if q else None
    context.update(
        {
            "territory": metropole,
            "results": results,
            "categories": queries.category_counts(base),
            "all_categories": queries.categories_of(metropole),
        }
    )
    return render(request, "catalogue/index.html", context)


def _commune_url(commune):
    from django.urls import reverse

    return reverse("catalogue:commune", kwargs={"slug": commune.slug})


@require_safe
def commune(request, slug):
    """Every service open to the people of a commune, whoever runs it."""
    place = core_queries.territory_by_slug(slug)
    q = request.GET.get("q", "").strip()
    category_slug = request.GET.get("category", "").strip()
    base = queries.services_for(place)
    shown = queries.search(base, q) if q else base.order_by("category__order", "search_title")
    category = None
    if category_slug:
        category = queries.category_by_slug(place.root, category_slug)
        shown = shown.filter(category=category)
    groups: dict = {}
    for service in shown:
        groups.setdefault(service.category, []).append(service)
    return render(
        request,
        "catalogue/commune.html",
        {
            "territory": place,
            "place": place,
            "q": q,
            "category": category,
            "groups": list(groups.items()),
            "count": sum(len(v) for v in groups.values()),
            "categories": queries.category_counts(base),
        },
    )


@require_safe
def category(request, slug):
    metropole = request.metropole
    cat = queries.category_by_slug(metropole, slug)
    return render(
        request,
        "catalogue/category.html",
        {
            "territory": metropole,
            "category": cat,
            "services": queries.services_for(metropole).filter(category=cat),
            "commune_services": (
                queries.Service.objects.filter(
                    active=True, category=cat, metropole=metropole, territory__kind="commune"
                )
                .select_related("territory")
                .order_by("territory__search_name", "search_title")[:200]
            ),
        },
    )


@require_safe
def service(request, territory, slug):
    item = queries.service_detail(territory, slug)
    return render(
        request,
        "catalogue/service.html",
        {"territory": item.territory, "service": item, "links": _service_links(item)},
    )


def _service_links(service: Service) -> list[dict]:
    """What other modules offer for this service (reports, appointments, procedures)."""
    return service_links(service)


# --- back-office --------------------------------------------------------------------------


@territory_permission_required("catalogue.manage_services")
def manage(request, territory):
    return render(
        request,
        "catalogue/manage.html",
        admin_context(request, territory, services=queries.services_run_by(territory)),
    )


@territory_permission_required("catalogue.manage_services")
def edit(request, territory, pk=None):
    item = get_object_or_404(Service, pk=pk, territory=territory) if pk else None
    initial = None
    if item is not None:
        initial = {
            "title": item.title,
            "summary": item.summary,
            "description": item.description,
            "category": item.category_id,
            "competence": item.competence_id,
            "channels": item.channels,
            "url": item.url,
            "contact": item.contact,
            "active": item.active,
        }
    form = ServiceForm(request.POST or None, initial=initial, territory=territory)
    answer_form = AnswerForm(prefix="kb")
    if request.method == "POST" and form.is_valid():
        try:
            item = services.save_service(request.user, territory, service=item, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The service is saved."))
            return redirect("catalogue:edit", slug=territory.slug, pk=item.pk)
    return render(
        request,
        "catalogue/edit.html",
        admin_context(request, territory, form=form, service=item, answer_form=answer_form),
    )


@require_POST
@territory_permission_required("catalogue.manage_services")
def add_answer(request, territory, pk):
    item = get_object_or_404(Service, pk=pk, territory=territory)
    form = AnswerForm(request.POST, prefix="kb")
    if form.is_valid():
        try:
            services.add_answer(
                request.user,
                item,
                form.cleaned_data["question"],
                form.cleaned_data["answer"],
                order=item.answers.count(),
            )
        except PlatformError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("The answer is added."))
    else:
        messages.error(request, _("Write both the question and the answer."))
    return redirect("catalogue:edit", slug=territory.slug, pk=item.pk)


@require_POST
@territory_permission_required("catalogue.manage_services")
def delete_answer(request, territory, pk, answer_id):
    answer = get_object_or_404(Answer, pk=answer_id, service__pk=pk, service__territory=territory)
    services.delete_answer(request.user, answer)
    messages.success(request, _("The answer is deleted."))
    return redirect("catalogue:edit", slug=territory.slug, pk=pk)


@territory_permission_required("catalogue.manage_competences")
def competences(request, territory):
    if request.method == "POST":
        changed = 0
        for competence in queries.competences_of(territory):
            holder = request.POST.get(f"holder-{competence.pk}")
            if holder and holder != competence.holder:
                try:
                    services.set_competence_holder(request.user, competence, holder)
                except PlatformError as error:
                    messages.error(request, f"{competence.name}: {error.detail}")
                    continue
                changed += 1
        messages.success(request, _("%(count)d competence(s) changed.") % {"count": changed})
        return redirect("catalogue:competences", slug=territory.slug)
    return render(
        request,
        "catalogue/competences.html",
        admin_context(
            request,
            territory,
            competences=queries.competences_of(territory),
            holders=Holder.choices,
        ),
    )
