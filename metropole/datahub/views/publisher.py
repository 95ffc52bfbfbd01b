"""The publishers' back-office, inside a territory's administration: the territory's
datasets, create and edit one, add files (upload or web address), follow a load and read its
report, review columns that may hold personal data, versions and rollback, publish/archive.

Every change goes through metropole.datahub.services (permission-checked, audited); the
pages only read through queries.py and show the services' errors next to the field they name.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metropole.core.exceptions import NotFound, PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from .. import queries, services
from ..forms import DatasetForm, ResourceForm, UploadForm
from ..ingest.errors import IngestError
from ..models import Access, DatasetStatus, ResourceKind, VersionStatus
from . import explore

SPACE = "datahub.view_publisher_space"
# What to fill in to raise the quality score (keys of services.QUALITY_FIELDS).
QUALITY_HINTS = {
    "description": gettext_lazy("a longer description (at least a few lines)"),
    "keywords": gettext_lazy("some keywords"),
    "themes": gettext_lazy("some themes"),
    "frequency": gettext_lazy("how often it is updated"),
    "spatial": gettext_lazy("the territories covered"),
    "temporal": gettext_lazy("the period covered"),
    "contact": gettext_lazy("a contact"),
    "provenance": gettext_lazy("the source or a web page"),
    "schema": gettext_lazy("the Table Schema it follows"),
}


def _dataset(request, territory, key):
    """A dataset of this territory that the user may change (404 / 403 otherwise)."""
    dataset = queries.dataset_for(request.user, key, manage=True)
    if dataset.territory_id != territory.pk:
        raise NotFound(_("Unknown dataset"), _("No dataset %(key)s here.") % {"key": key})
    return dataset


def _resource(request, dataset, key):
    resource = queries.resource_for(request.user, key, manage=True)
    if resource.dataset_id != dataset.pk:
        raise NotFound(_("Unknown resource"), _("No resource %(key)s here.") % {"key": key})
    resource.dataset = dataset
    return resource


def _form_error(form, error: PlatformError):
    field = error.field if error.field in form.fields else None
    if field is None and isinstance(error, IngestError) and "file" in form.fields:
        field = "file"  # what is wrong with a file is said next to the file
    form.add_error(field, error.detail or error.title)


@territory_permission_required(SPACE)
def datasets(request, territory):
    """The territory's datasets, every status, with what needs attention."""
    qs = (
        queries.managed_datasets(request.user)
        .filter(territory=territory)
        .select_related("territory", "organisation")
        .prefetch_related("resources__current_version")
        .order_by("-updated_at", "-pk")
    )
    status = request.GET.get("statut", "")
    if status in DatasetStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    loading = queries.loads_in_progress(request.user).filter(resource__dataset__territory=territory)
    return render(
        request,
        "datahub/publisher/datasets.html",
        admin_context(
            request,
            territory,
            page=page,
            status=status,
            statuses=DatasetStatus.choices,
            loading=loading[:20],
            may_add=request.user.has_perm("datahub.add_dataset", territory),
        ),
    )


@territory_permission_required("datahub.add_dataset")
def create_dataset(request, territory):
    form = DatasetForm(request.POST or None, territory=territory)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = services.create_dataset(request.user, territory, **form.service_values())
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(
                request, _("The dataset is created as a draft. Now add its data file.")
            )
            return redirect("datahub:add_resource", slug=territory.slug, dataset=dataset.slug)
    return render(
        request,
        "datahub/publisher/dataset_form.html",
        admin_context(request, territory, form=form, dataset=None),
    )


@territory_permission_required(SPACE)
def edit_dataset(request, territory, dataset):
    found = _dataset(request, territory, dataset)
    form = DatasetForm(
        request.POST or None, territory=territory, initial=DatasetForm.initial_for(found)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_dataset(request.user, found, **form.service_values())
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The description of the dataset is saved."))
            return redirect("datahub:manage_dataset", slug=territory.slug, dataset=found.slug)
    return render(
        request,
        "datahub/publisher/dataset_form.html",
        admin_context(request, territory, form=form, dataset=found),
    )


def _pending_reviews(dataset):
    """(resource, column) pairs flagged as personal and not decided yet, in every resource's
    current version."""
    pending = []
    for resource in dataset.resources.select_related("current_version"):
        version = resource.current_version
        if version is None:
            continue
        version.resource = resource
        pending += [(resource, column) for column in version.undecided_personal_columns]
    return pending


@territory_permission_required(SPACE)
def dataset(request, territory, dataset):
    """A dataset's page in the back-office: its state, what blocks publication, its files."""
    found = _dataset(request, territory, dataset)
    resources = list(found.resources.select_related("current_version"))
    latest = {}
    for resource in resources:
        latest[resource.pk] = resource.versions.order_by("-number").first()
    pending = _pending_reviews(found)
    blockers = []
    if not found.description.strip():
        blockers.append(_("Write a description."))
    if not any(r.current_version_id for r in resources):
        blockers.append(_("Add a file and wait until it is loaded."))
    if found.access == Access.PRIVATE:
        blockers.append(_("Choose who may see it (everyone, or restricted) in the description."))
    if pending and found.access == Access.PUBLIC:
        blockers.append(
            _("Review the columns that may hold personal data (%(n)d left).") % {"n": len(pending)}
        )
    missing = (found.quality_details or {}).get("missing_metadata") or []
    improve = [str(QUALITY_HINTS[k]) for k in missing if k in QUALITY_HINTS]
    return render(
        request,
        "datahub/publisher/dataset.html",
        admin_context(
            request,
            territory,
            dataset=found,
            resources=[(r, latest[r.pk]) for r in resources],
            pending=pending,
            blockers=blockers,
            may_review=request.user.has_perm("datahub.review_personal_data", found),
            improve=improve,
        ),
    )


@require_POST
@territory_permission_required(SPACE)
def change_status(request, territory, dataset):
    """Publish, archive or put back to draft (the service refuses what is not allowed)."""
    found = _dataset(request, territory, dataset)
    action = request.POST.get("action")
    actions = {
        "publish": (services.publish, _("The dataset is published.")),
        "archive": (
            services.archive,
            _("The dataset is archived: it stays readable at its address but is no longer listed."),
        ),
        "unpublish": (
            services.unpublish,
            _("The dataset is back to draft: only publishers see it."),
        ),
    }
    if action not in actions:
        messages.error(request, _("Unknown action."))
    else:
        function, done = actions[action]
        try:
            function(request.user, found)
        except PlatformError as error:
            messages.error(request, f"{error.title}. {error.detail}")
        else:
            messages.success(request, done)
    return redirect("datahub:manage_dataset", slug=territory.slug, dataset=found.slug)


@territory_permission_required(SPACE)
def add_resource(request, territory, dataset):
    """A new file for the dataset: sent now, or fetched from a web address."""
    found = _dataset(request, territory, dataset)
    form = ResourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == ResourceKind.REMOTE:
                resource = services.add_resource(
                    request.user,
                    found,
                    title=data["title"],
                    description=data["description"],
                    kind=ResourceKind.REMOTE,
                    remote_url=data["remote_url"].strip(),
                    pull_frequency=data["pull_frequency"],
                )
                version = services.pull_remote(resource, request.user)
                if version is None:
                    messages.warning(
                        request,
                        _(
                            "The file could not be fetched from this address now; "
                            "it will be tried again."
                        ),
                    )
                    return redirect(
                        "datahub:manage_resource",
                        slug=territory.slug,
                        dataset=found.slug,
                        resource=resource.uid,
                    )
            else:
                from django.db import transaction

                with transaction.atomic():
                    resource = services.add_resource(
                        request.user,
                        found,
                        title=data["title"],
                        description=data["description"],
                        kind=ResourceKind.UPLOAD,
                    )
                    version = services.upload(request.user, resource, data["file"])
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The file is received; it is being loaded."))
            return redirect(
                "datahub:version",
                slug=territory.slug,
                dataset=found.slug,
                resource=resource.uid,
                number=version.number,
            )
    return render(
        request,
        "datahub/publisher/resource_form.html",
        admin_context(
            request, territory, form=form, dataset=found, size_limit=services.human_limit()
        ),
    )


@territory_permission_required(SPACE)
def resource(request, territory, dataset, resource):
    """A resource: send a new version, its versions (with rollback), its columns to review."""
    found = _dataset(request, territory, dataset)
    item = _resource(request, found, resource)
    form = UploadForm(request.POST or None, request.FILES or None)
    if not (found.table_schema or found.schema_name):
        del form.fields["invalid_rows"]  # only rows checked against a schema can break it
    if request.method == "POST" and form.is_valid():
        try:
            version = services.upload(
                request.user,
                item,
                form.cleaned_data["file"],
                invalid_rows=form.cleaned_data.get("invalid_rows", ""),
            )
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The file is received; it is being loaded."))
            return redirect(
                "datahub:version",
                slug=territory.slug,
                dataset=found.slug,
                resource=item.uid,
                number=version.number,
            )
    current = item.current_version
    columns = []
    if current is not None:
        current.resource = item
        for column in current.columns:
            columns.append(
                {
                    **column,
                    "decision": item.decision(column["name"]),
                    "type_label": explore.TYPE_LABELS.get(column["type"], column["type"]),
                }
            )
    return render(
        request,
        "datahub/publisher/resource.html",
        admin_context(
            request,
            territory,
            dataset=found,
            resource=item,
            current=current,
            columns=columns,
            versions=queries.versions_of(item),
            form=form if item.kind in (ResourceKind.UPLOAD, ResourceKind.REMOTE) else None,
            may_review=request.user.has_perm("datahub.review_personal_data", found),
            size_limit=services.human_limit(),
        ),
    )


@require_POST
@territory_permission_required(SPACE)
def review_column(request, territory, dataset, resource):
    found = _dataset(request, territory, dataset)
    item = _resource(request, found, resource)
    column = request.POST.get("column", "")
    decision = request.POST.get("decision", "")
    try:
        services.review_column(request.user, item, column, decision)
    except PlatformError as error:
        messages.error(request, f"{error.title}. {error.detail}")
    else:
        if decision == "removed":
            messages.success(
                request,
                _("The column “%(name)s” is removed: it no longer appears anywhere.")
                % {"name": column},
            )
        else:
            messages.success(
                request,
                _("The column “%(name)s” is confirmed as not personal data.") % {"name": column},
            )
    back = request.POST.get("next", "")
    if back == "dataset":
        return redirect("datahub:manage_dataset", slug=territory.slug, dataset=found.slug)
    return redirect(
        "datahub:manage_resource", slug=territory.slug, dataset=found.slug, resource=item.uid
    )


def _version_context(request, territory, dataset, resource, number):
    found = _dataset(request, territory, dataset)
    item = _resource(request, found, resource)
    version = queries.version_by_number(item, number)
    report = version.report or {}
    return (
        found,
        item,
        version,
        {
            "dataset": found,
            "resource": item,
            "version": version,
            "running": version.status in (VersionStatus.QUEUED, VersionStatus.LOADING),
            "errors": (report.get("errors") or [])[:500],
            "error_count": report.get("error_count", len(report.get("errors") or [])),
            "warnings": report.get("warnings") or [],
            "formulas": report.get("formulas") or [],
            "status_url": reverse(
                "datahub:version_status",
                kwargs={
                    "slug": territory.slug,
                    "dataset": found.slug,
                    "resource": item.uid,
                    "number": version.number,
                },
            ),
        },
    )


@territory_permission_required(SPACE)
def version(request, territory, dataset, resource, number):
    """A load: its progress while it runs, then its report (by row and column)."""
    _d, _r, _v, context = _version_context(request, territory, dataset, resource, number)
    return render(
        request, "datahub/publisher/version.html", admin_context(request, territory, **context)
    )


@territory_permission_required(SPACE)
def version_status(request, territory, dataset, resource, number):
    """The progress block alone, polled by htmx; once the load is over, the whole page is
    reloaded (HX-Refresh) to show the report."""
    _d, _r, _v, context = _version_context(request, territory, dataset, resource, number)
    if not context["running"] and request.headers.get("HX-Request"):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "datahub/publisher/_progress.html", context)


@require_POST
@territory_permission_required(SPACE)
def rollback(request, territory, dataset, resource, number):
    found = _dataset(request, territory, dataset)
    item = _resource(request, found, resource)
    try:
        services.rollback(request.user, item, number)
    except PlatformError as error:
        messages.error(request, f"{error.title}. {error.detail}")
    else:
        messages.success(request, _("Version %(n)d is served again.") % {"n": number})
    return redirect(
        "datahub:manage_resource", slug=territory.slug, dataset=found.slug, resource=item.uid
    )
