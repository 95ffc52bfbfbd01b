"""Pages of harvesting, in a territory's administration: its sources, a source with its
runs, one run's log. Every write goes through services.py (same permission as the API)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metropole.core.exceptions import PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import queries, services
from .forms import SourceForm, SourceSettingsForm
from .models import HarvestSource


def _source_of(territory, pk) -> HarvestSource:
    source = queries.sources_of(territory).filter(pk=pk).first()
    if source is None:
        raise Http404
    return source


@territory_permission_required("harvest.manage_sources")
def sources(request, territory):
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.create_source(request.user, territory, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            if source.next_run_at is None:
                messages.success(request, _("The source is added. Harvest it when you wish."))
            else:
                messages.success(
                    request,
                    _("The source is added. Its first harvest starts at the next planned round."),
                )
            return redirect("harvest:source", slug=territory.slug, pk=source.pk)
    items = queries.sources_with_last_run(territory)
    return render(
        request,
        "harvest/sources.html",
        admin_context(request, territory, form=form, items=items),
    )


@territory_permission_required("harvest.manage_sources")
def source(request, territory, pk):
    found = _source_of(territory, pk)
    initial = {
        "name": found.name,
        "kind": found.kind,
        "url": found.url,
        "schedule": found.schedule,
        "pull_data": found.pull_data,
        "active": found.active,
    }
    form = SourceSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_source(request.user, found, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The source is saved."))
            return redirect("harvest:source", slug=territory.slug, pk=found.pk)
    return render(
        request,
        "harvest/source.html",
        admin_context(
            request,
            territory,
            source=found,
            form=form,
            runs=found.runs.all()[:30],
            datasets=found.records.filter(removed_at__isnull=True).count(),
        ),
    )


@require_POST
@territory_permission_required("harvest.manage_sources")
def run_now(request, territory, pk):
    found = _source_of(territory, pk)
    try:
        services.request_run(request.user, found)
    except PlatformError as error:
        messages.error(request, error.detail or error.title)
    else:
        messages.success(
            request, _("The harvest is running. Reload this page in a minute to see its result.")
        )
    return redirect("harvest:source", slug=territory.slug, pk=found.pk)


@territory_permission_required("harvest.manage_sources")
def run_detail(request, territory, pk, run):
    found = _source_of(territory, pk)
    harvest_run = found.runs.filter(pk=run).first()
    if harvest_run is None:
        raise Http404
    return render(
        request,
        "harvest/run.html",
        admin_context(request, territory, source=found, run=harvest_run),
    )
