"""Workbooks with several sheets: every sheet can become a table.

A load reads one sheet of an XLSX or ODS file: the one chosen for the version
(`report["sheet"]`), else the one the resource already holds, else the first; its report
lists the workbook's sheets (`report["sheets"]`) with a warning naming the others. From
there a publisher either loads another sheet into the same resource (`load_sheet`), or
turns every other sheet into a resource of its own in the same dataset
(`add_sheet_resources`, idempotent). Both are writes: permission-checked, transactional,
audited (`datahub.version_uploaded`, `datahub.resource_added`), and the loads run in the
background like any upload.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest
from metropole.core.rules import require_perm

from ..models import Resource, ResourceKind, ResourceVersion
from .errors import IngestError
from .readers import open_reader


def _workbook_version(resource: Resource) -> ResourceVersion:
    """The resource's latest version holding a workbook (its current one first)."""
    candidates = [resource.current_version] if resource.current_version_id else []
    candidates += list(resource.versions.order_by("-number")[:5])
    for version in candidates:
        if version is not None and version.format in ("xlsx", "ods") and version.file:
            return version
    raise BadRequest(
        _("No workbook"),
        _("This resource holds no XLSX or ODS file: there are no sheets to choose from."),
    )


def sheet_names(version: ResourceVersion) -> list[str]:
    """The sheets of a version's workbook, in the workbook's order (the report has them
    once the version is loaded; this reads the stored file otherwise)."""
    listed = (version.report or {}).get("sheets")
    if listed:
        return list(listed)
    try:
        reader = open_reader(version.file.path, version.format)
    except IngestError as error:
        raise BadRequest(error.title, error.detail) from None
    return reader.sheets


def _check_sheet(version: ResourceVersion, sheet: str) -> list[str]:
    sheets = sheet_names(version)
    if sheet not in sheets:
        raise BadRequest(
            _("Unknown sheet"),
            _("The workbook has no sheet named “%(name)s”; its sheets: %(sheets)s.")
            % {"name": sheet, "sheets": ", ".join(sheets)},
            field="sheet",
        )
    return sheets


@transaction.atomic
def load_sheet(actor, resource: Resource, sheet: str) -> ResourceVersion:
    """A new version of `resource` holding the sheet `sheet` of its latest workbook."""
    from .. import services

    require_perm(actor, "datahub.change_dataset", resource.dataset)
    source = _workbook_version(resource)
    _check_sheet(source, sheet)
    with source.file.open("rb") as handle:
        return services._new_version(
            actor,
            resource,
            handle,
            source.original_name or f"workbook.{source.format}",
            format=source.format,
            report={"sheet": sheet},
        )


@transaction.atomic
def add_sheet_resources(actor, resource: Resource) -> list[Resource]:
    """One resource per sheet of the resource's workbook that no resource of the dataset
    holds yet (titled "<title> — <sheet>"), each loaded with its sheet; the new
    resources. Running it again creates nothing new."""
    from .. import services

    require_perm(actor, "datahub.change_dataset", resource.dataset)
    source = _workbook_version(resource)
    sheets = sheet_names(source)
    held = (source.report or {}).get("sheet") or (sheets[0] if sheets else None)
    titles = set(resource.dataset.resources.values_list("title", flat=True))
    created = []
    for sheet in sheets:
        title = f"{resource.title} — {sheet}"[:200]
        if sheet == held or title in titles:
            continue
        added = services.add_resource(
            actor,
            resource.dataset,
            title=title,
            kind=ResourceKind.UPLOAD,
            description=_("Sheet “%(sheet)s” of the workbook of “%(title)s”.")
            % {"sheet": sheet, "title": resource.title},
            format=source.format,
        )
        with source.file.open("rb") as handle:
            services._new_version(
                actor,
                added,
                handle,
                source.original_name or f"workbook.{source.format}",
                format=source.format,
                report={"sheet": sheet},
            )
        created.append(added)
    return created
