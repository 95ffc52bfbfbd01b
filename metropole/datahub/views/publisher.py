"""The publishers' back-office: the datasets of a publishing space, create and edit one, add
files (upload or web address), follow a load and read its report, review columns that may
hold personal data, versions and rollback, publish/archive.

Two kinds of space show the same pages (`Space`):
- a territory's, inside its administration (`/data/gestion/<territory>/`), for its agents;
- a partner organisation's (`/data/partenaire/<organisation>/`), for its members.

Every change goes through metropole.datahub.services (permission-checked, audited); the
pages only read through queries.py and show the services' errors next to the field they name.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from metropole.core.exceptions import NotFound, PlatformError
from metropole.core.models import Organisation, Territory
from metropole.core.queries import territory_by_slug
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import require_page_permission

from .. import queries, services
from ..forms import DatasetForm, ResourceForm, UploadForm
from ..ingest import sheets
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


@dataclass
class Space:
    """Where a publisher works: a territory's datasets, or a partner organisation's.

    Templates build their links with `{% url space.ns|add:'<name>' space.key … %}`, so the
    same pages serve both spaces."""

    territory: Territory  # the territory, or the organisation's metropole
    organisation: Organisation | None = None

    @property
    def ns(self) -> str:
        return "datahub:partner_" if self.organisation else "datahub:"

    @property
    def key(self):
        return self.organisation.pk if self.organisation else self.territory.slug

    @property
    def name(self) -> str:
        return self.organisation.name if self.organisation else self.territory.display_name

    @property
    def layout(self) -> str:
        if self.organisation:
            return "datahub/publisher/_partner_layout.html"
        return "core/admin/_layout.html"

    def url(self, name: str, *args) -> str:
        return reverse(self.ns + name, args=[self.key, *args])

    def datasets(self, user):
        """The datasets of this space that `user` may change."""
        qs = queries.managed_datasets(user)
        if self.organisation:
            return qs.filter(organisation=self.organisation)
        return qs.filter(territory=self.territory)

    def owns(self, dataset) -> bool:
        if self.organisation:
            return dataset.organisation_id == self.organisation.pk
        return dataset.territory_id == self.territory.pk

    def may_add(self, user) -> bool:
        if self.organisation:
            return user.has_perm("datahub.publish_as_organisation", self.organisation)
        return user.has_perm("datahub.add_dataset", self.territory)

    def context(self, request, **extra) -> dict:
        if self.organisation is None:
            return admin_context(request, self.territory, space=self, **extra)
        links = [
            {"label": _("Datasets of %(name)s") % {"name": self.name}, "url": self.url("manage")}
        ]
        if self.may_add(request.user):
            links.append({"label": _("Publish a new dataset"), "url": self.url("create")})
        for link in links:
            link["current"] = request.path == link["url"]
        return {
            "territory": self.territory,
            "organisation": self.organisation,
            "partner_nav": links,
            "space": self,
            **extra,
        }


def in_space(permission: str, *, partner_permission: str = "datahub.view_partner_space"):
    """Load the space named by the URL (`slug` of a territory, or `organisation` id) and
    check the permission on it through rules.py (the API's path): `permission` on a
    territory, `partner_permission` on an organisation. Anonymous people go to log in."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, slug=None, organisation=None, **kwargs):
            if organisation is not None:
                found = Organisation.objects.select_related("metropole").filter(pk=organisation)
                found = found.first()
                if found is None:
                    raise NotFound(_("Unknown organisation"), _("No such partner organisation."))
                space, target, needed = Space(found.metropole, found), found, partner_permission
            else:
                territory = territory_by_slug(slug)
                space, target, needed = Space(territory), territory, permission
            require_page_permission(request, needed, target, name=space.name)
            return view(request, space, *args, **kwargs)

        return wrapper

    return decorator


def _dataset(request, space: Space, key):
    """A dataset of this space that the user may change (404 / 403 otherwise)."""
    dataset = queries.dataset_for(request.user, key, manage=True)
    if not space.owns(dataset):
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


@in_space(SPACE)
def datasets(request, space):
    """The space's datasets, every status, with what needs attention."""
    qs = (
        space.datasets(request.user)
        .select_related("territory", "organisation")
        .prefetch_related("resources__current_version")
        .order_by("-updated_at", "-pk")
    )
    status = request.GET.get("statut", "")
    if status in DatasetStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    loading = queries.loads_in_progress(request.user).filter(
        resource__dataset__in=space.datasets(request.user).values("pk")
    )
    return render(
        request,
        "datahub/publisher/datasets.html",
        space.context(
            request,
            page=page,
            status=status,
            statuses=DatasetStatus.choices,
            loading=loading[:20],
            may_add=space.may_add(request.user),
        ),
    )


@in_space("datahub.add_dataset", partner_permission="datahub.publish_as_organisation")
def create_dataset(request, space):
    form = DatasetForm(
        request.POST or None, territory=space.territory, organisation=space.organisation
    )
    if request.method == "POST" and form.is_valid():
        try:
            dataset = services.create_dataset(
                request.user,
                space.territory,
                organisation=space.organisation,
                **form.service_values(),
            )
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(
                request, _("The dataset is created as a draft. Now add its data file.")
            )
            return redirect(space.url("add_resource", dataset.slug))
    return render(
        request,
        "datahub/publisher/dataset_form.html",
        space.context(request, form=form, dataset=None),
    )


@in_space(SPACE)
def edit_dataset(request, space, dataset):
    found = _dataset(request, space, dataset)
    form = DatasetForm(
        request.POST or None,
        territory=space.territory,
        organisation=found.organisation,
        initial=DatasetForm.initial_for(found),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_dataset(request.user, found, **form.service_values())
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The description of the dataset is saved."))
            return redirect(space.url("manage_dataset", found.slug))
    return render(
        request,
        "datahub/publisher/dataset_form.html",
        space.context(request, form=form, dataset=found),
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


@in_space(SPACE)
def dataset(request, space, dataset):
    """A dataset's page in the back-office: its state, what blocks publication, its files."""
    found = _dataset(request, space, dataset)
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
        space.context(
            request,
            dataset=found,
            resources=[(r, latest[r.pk]) for r in resources],
            pending=pending,
            blockers=blockers,
            may_review=request.user.has_perm("datahub.review_personal_data", found),
            improve=improve,
        ),
    )


@require_POST
@in_space(SPACE)
def change_status(request, space, dataset):
    """Publish, archive or put back to draft (the service refuses what is not allowed)."""
    found = _dataset(request, space, dataset)
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
    return redirect(space.url("manage_dataset", found.slug))


@in_space(SPACE)
def add_resource(request, space, dataset):
    """A new file for the dataset: sent now, or fetched from a web address."""
    found = _dataset(request, space, dataset)
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
                    return redirect(space.url("manage_resource", found.slug, resource.uid))
            else:
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
            return redirect(space.url("version", found.slug, resource.uid, version.number))
    return render(
        request,
        "datahub/publisher/resource_form.html",
        space.context(request, form=form, dataset=found, size_limit=services.human_limit()),
    )


@in_space(SPACE)
def resource(request, space, dataset, resource):
    """A resource: send a new version, its versions (with rollback), its columns to review."""
    found = _dataset(request, space, dataset)
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
            return redirect(space.url("version", found.slug, item.uid, version.number))
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
        space.context(
            request,
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
@in_space(SPACE)
def review_column(request, space, dataset, resource):
    found = _dataset(request, space, dataset)
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
    if request.POST.get("next", "") == "dataset":
        return redirect(space.url("manage_dataset", found.slug))
    return redirect(space.url("manage_resource", found.slug, item.uid))


def _version_context(request, space, dataset, resource, number):
    found = _dataset(request, space, dataset)
    item = _resource(request, found, resource)
    version = queries.version_by_number(item, number)
    report = version.report or {}
    return {
        "dataset": found,
        "resource": item,
        "version": version,
        "running": version.status in (VersionStatus.QUEUED, VersionStatus.LOADING),
        "errors": (report.get("errors") or [])[:500],
        "error_count": report.get("error_count", len(report.get("errors") or [])),
        "warnings": report.get("warnings") or [],
        "formulas": report.get("formulas") or [],
        "sheets": _sheets(item, version, report),
        "status_url": space.url("version_status", found.slug, item.uid, version.number),
    }


def _sheets(resource, version, report) -> list[dict]:
    """The sheets of a loaded workbook, each with whether this version holds it (empty
    for anything but a workbook of several sheets)."""
    listed = report.get("sheets") or []
    if len(listed) < 2 or version.format not in ("xlsx", "ods"):
        return []
    held = report.get("sheet") or listed[0]
    return [{"name": name, "loaded": name == held} for name in listed]


@require_POST
@in_space(SPACE)
def load_sheet(request, space, dataset, resource, number):
    """Load another sheet of the workbook into the same resource (a new version)."""
    found = _dataset(request, space, dataset)
    item = _resource(request, found, resource)
    sheet = request.POST.get("sheet", "")
    try:
        version = sheets.load_sheet(request.user, item, sheet)
    except PlatformError as error:
        messages.error(request, f"{error.title}. {error.detail}")
        return redirect(space.url("version", found.slug, item.uid, number))
    messages.success(
        request,
        _("The sheet “%(name)s” is being loaded into this resource.") % {"name": sheet},
    )
    return redirect(space.url("version", found.slug, item.uid, version.number))


@require_POST
@in_space(SPACE)
def sheet_resources(request, space, dataset, resource, number):
    """One new resource of the dataset per other sheet of the workbook."""
    found = _dataset(request, space, dataset)
    item = _resource(request, found, resource)
    try:
        created = sheets.add_sheet_resources(request.user, item)
    except PlatformError as error:
        messages.error(request, f"{error.title}. {error.detail}")
        return redirect(space.url("version", found.slug, item.uid, number))
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)d resource is created: %(titles)s. It is being loaded.",
                "%(count)d resources are created: %(titles)s. They are being loaded.",
                len(created),
            )
            % {"count": len(created), "titles": ", ".join(r.title for r in created)},
        )
    else:
        messages.info(request, _("Every sheet of the workbook already has its resource."))
    return redirect(space.url("manage_dataset", found.slug))


@in_space(SPACE)
def version(request, space, dataset, resource, number):
    """A load: its progress while it runs, then its report (by row and column)."""
    context = _version_context(request, space, dataset, resource, number)
    return render(request, "datahub/publisher/version.html", space.context(request, **context))


@in_space(SPACE)
def version_status(request, space, dataset, resource, number):
    """The progress block alone, polled by htmx; once the load is over, the whole page is
    reloaded (HX-Refresh) to show the report."""
    context = _version_context(request, space, dataset, resource, number)
    if not context["running"] and request.headers.get("HX-Request"):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "datahub/publisher/_progress.html", {**context, "space": space})


@require_POST
@in_space(SPACE)
def rollback(request, space, dataset, resource, number):
    found = _dataset(request, space, dataset)
    item = _resource(request, found, resource)
    try:
        services.rollback(request.user, item, number)
    except PlatformError as error:
        messages.error(request, f"{error.title}. {error.detail}")
    else:
        messages.success(request, _("Version %(n)d is served again.") % {"n": number})
    return redirect(space.url("manage_resource", found.slug, item.uid))
