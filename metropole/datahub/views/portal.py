"""The open-data portal: search the catalogue with facets, and a dataset's page (metadata,
files and downloads, table preview with filters, map, chart builder, API examples, versions)."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from metropole.core.exceptions import BadRequest, NotFound
from metropole.core.models import Organisation, Territory
from metropole.core.queries import basemap

from .. import queries
from ..models import Format, VersionStatus
from ..querying import exports
from ..querying.execute import stream_batches
from ..querying.parse import from_params
from ..services import allowed_licences
from ..vocabularies import LICENCE_URLS, Frequency, Theme
from . import explore

FACETS = ("theme", "territory", "publisher", "licence", "format")
PAGE_SIZE = 20


def _facet_links(request, name: str, counts: dict, labels: dict) -> list[dict]:
    """Links that add (or remove) one facet value, keeping the rest of the search."""
    current = request.GET.get(name, "")
    links = []
    for value, count in sorted(
        counts.items(), key=lambda kv: (-kv[1], str(labels.get(kv[0], kv[0])))
    ):
        params = {k: v for k, v in request.GET.items() if k not in (name, "page") and v}
        selected = value == current
        if not selected:
            params[name] = value
        links.append(
            {
                "value": value,
                "label": labels.get(value, value),
                "count": count,
                "selected": selected,
                "url": "?" + urlencode(params) if params else "?",
            }
        )
    return links


@require_safe
def index(request):
    """Search and browse the catalogue: words, facets with counts, pages of dataset cards."""
    criteria = {name: request.GET.get(name, "").strip()[:100] for name in ("q", *FACETS)}
    results = queries.search_datasets(request.user, **criteria)
    counts = queries.facet_counts(results)
    metropole = request.metropole
    codes = set(counts["territory"]) | set(counts["spatial"])
    codes |= {criteria["territory"], criteria["publisher"]} - {""}
    names = {t.code: t.display_name for t in Territory.objects.filter(code__in=codes)}
    organisations = {
        queries.organisation_key(o): o.name
        for o in Organisation.objects.filter(datasets__in=results.order_by().values("pk"))
        .distinct()
        .only("pk", "siren", "name")
    }
    facets = [
        (
            "theme",
            _("Theme"),
            _facet_links(request, "theme", counts["theme"], dict(Theme.choices)),
        ),
        (
            "territory",
            _("Territory covered"),
            _facet_links(request, "territory", counts["spatial"], names),
        ),
    ]
    publishers = {**counts["territory"], **counts["organisation"]}
    facets += [
        (
            "publisher",
            _("Publisher"),
            _facet_links(request, "publisher", publishers, {**names, **organisations}),
        ),
        (
            "licence",
            _("Licence"),
            _facet_links(request, "licence", counts["licence"], allowed_licences(metropole)),
        ),
        (
            "format",
            _("Format"),
            _facet_links(request, "format", counts["format"], dict(Format.choices)),
        ),
    ]
    page = Paginator(
        results.order_by("-data_updated_at", "-updated_at", "-pk"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    keep = urlencode({k: v for k, v in criteria.items() if v})
    chosen = [
        {
            "label": dict((f[0], f[1]) for f in facets).get(name, name),
            "value": next(
                (
                    link["label"]
                    for f in facets
                    if f[0] == name
                    for link in f[2]
                    if link["value"] == value
                ),
                value,
            ),
            "url": "?" + urlencode({k: v for k, v in criteria.items() if v and k != name}),
        }
        for name, value in criteria.items()
        if value and name != "q"
    ]
    return render(
        request,
        "datahub/index.html",
        {
            "territory": metropole,
            "criteria": criteria,
            "facets": facets,
            "chosen": chosen,
            "page": page,
            "keep": keep,
            "themes": dict(Theme.choices),
            "dcat": _dcat_links("catalog_file"),
            "my_organisations": queries.partner_organisations(request.user),
        },
    )


def _dcat_links(name: str, **kwargs) -> list[tuple[str, str]]:
    """Links to the DCAT-AP export (served by the harvest app when it is installed)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return [
            (label, reverse(f"harvest:{name}", kwargs={**kwargs, "ext": ext}))
            for ext, label in (("ttl", "Turtle"), ("rdf", "RDF/XML"), ("jsonld", "JSON-LD"))
        ]
    except NoReverseMatch:
        return []


def _resource_choice(request, dataset):
    resources = list(dataset.resources.select_related("current_version"))
    wanted = request.GET.get("ressource", "")
    chosen = next((r for r in resources if str(r.uid) == wanted), None)
    if chosen is None:
        chosen = next(
            (r for r in resources if r.current_version_id), resources[0] if resources else None
        )
    return resources, chosen


@require_safe
def dataset(request, slug):
    """A dataset's page. The table, chart and map show one resource (the first with data,
    or the one chosen with ?ressource=<id>); their forms are plain GET forms."""
    found = queries.dataset_for(request.user, slug)
    resources, resource = _resource_choice(request, found)
    context = {
        "dataset": found,
        "territory": found.territory,
        "resources": resources,
        "resource": resource,
        "licence_title": allowed_licences(found.territory.root).get(found.licence, found.licence),
        "licence_url": LICENCE_URLS.get(found.licence, ""),
        "frequency": dict(Frequency.choices).get(found.frequency, found.frequency),
        "themes": [(code, dict(Theme.choices).get(code, code)) for code in found.theme_codes],
        "basemap": basemap(),
        "dcat": _dcat_links("dataset_file", uid=found.uid),
        "manages": request.user.has_perm("datahub.change_dataset", found),
        "operators": explore.OPERATORS,
        "aggregates": explore.AGGREGATES,
        "parts": explore.PARTS,
        "type_labels": explore.TYPE_LABELS,
    }
    if resource is not None:
        context["versions"] = [
            v
            for v in queries.versions_of(resource)
            if v.status in (VersionStatus.READY, VersionStatus.SUPERSEDED)
        ]
        try:
            spec = queries.table_spec_for(request.user, resource.uid)
        except NotFound:
            spec = None
        if spec is not None:
            filters = explore.read_filters(request.GET, spec)
            table = explore.preview(spec, filters, request.GET.get("cursor", "")[:2000])
            chart_request = explore.read_chart(request.GET)
            drawn, chart_error = explore.chart(spec, filters, chart_request)
            keep = [
                (k, v)
                for k in explore.FORM_KEYS
                if k != "cursor"
                for v in request.GET.getlist(k)
                if v
            ]
            keep_chart = [(k, v) for k in explore.CHART_KEYS for v in request.GET.getlist(k) if v]
            next_url = None
            if table.get("next_cursor"):
                next_url = (
                    "?"
                    + urlencode([*keep, *keep_chart, ("cursor", table["next_cursor"])])
                    + "#table"
                )
            context.update(
                {
                    "spec": spec,
                    "columns": [c for c in spec.columns],
                    "groupable": [c for c in spec.columns if c.type != "geometry"],
                    "numeric": [
                        c
                        for c in spec.columns
                        if c.type in ("integer", "number", "date", "datetime")
                    ],
                    "filters": filters,
                    "value_examples": explore.value_examples(),
                    "table": table,
                    "first_page_url": "?" + urlencode([*keep, *keep_chart]) + "#table"
                    if request.GET.get("cursor")
                    else None,
                    "next_url": next_url,
                    "keep_for_chart": keep,
                    "keep_for_table": [(k, v) for k, v in keep_chart],
                    "chart_request": chart_request,
                    "chart": drawn,
                    "chart_error": chart_error,
                    "api": explore.examples(request, resource, spec, table.get("raw", [])),
                    "downloads": explore.downloads(
                        found, resource, urlencode(keep), spec.geolocated
                    ),
                    "map_url": (
                        f"{_map_url(found, resource)}?{urlencode(keep)}" if spec.geolocated else ""
                    ),
                    "map_sample": explore.MAP_SAMPLE,
                }
            )
    return render(request, "datahub/dataset.html", context)


def _map_url(dataset, resource):
    from django.urls import reverse

    return reverse("datahub:map_sample", kwargs={"slug": dataset.slug, "resource": resource.uid})


@require_safe
def map_sample(request, slug, resource):
    """The first rows with coordinates (at most MAP_SAMPLE) as GeoJSON, for the map preview:
    the query engine's GeoJSON export, cut short, with the table's filters applied."""
    found = queries.dataset_for(request.user, slug)
    if not found.resources.filter(uid=resource).exists():
        raise NotFound(_("Unknown resource"), _("This dataset has no such resource."))
    spec = queries.table_spec_for(request.user, resource)
    if not spec.geolocated:
        raise BadRequest(_("No coordinates"), _("This resource has no coordinates to map."))
    filters = explore.read_filters(request.GET, spec)
    params = {k: v for k, v in filters.params.items() if k != "sort"}
    params["_lat__is_null"] = ["false"]
    query = exports.export_query(spec, from_params(params), "geojson")
    # One batch of MAP_SAMPLE rows from the engine's export stream, then the cursor is closed.
    columns, batches = stream_batches(spec, query, batch=explore.MAP_SAMPLE)
    sample = next(batches, [])
    batches.close()
    body = b"".join(exports.geojson_chunks(columns, [sample], connection.vendor))
    response = HttpResponse(body, content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
def download(request, slug, resource, fmt):
    """A download button: small exports stream straight from the query API; large ones
    (more rows than the engine streams at once) start the engine's background export and
    go to a page that waits for it and then gives the link."""
    from django.shortcuts import redirect

    from ..querying import execute
    from ..querying.tasks import start_export

    found = queries.dataset_for(request.user, slug)
    if fmt not in exports.FORMATS or not found.resources.filter(uid=resource).exists():
        raise NotFound(_("Unknown export"), _("This dataset has no such download."))
    rid = str(resource)
    spec = queries.table_spec_for(request.user, rid)
    filters = explore.read_filters(request.GET, spec)
    query = from_params(filters.params)
    total, _estimate = execute.count(spec, query)
    if total is not None and total <= exports.background_threshold():
        url = explore.api_url("datahub_export", resource_id=rid, fmt=fmt)
        query_string = filters.query_string()
        return redirect(f"{url}?{query_string}" if query_string else url)
    token = start_export(request.user, rid, fmt, filters.params)
    return redirect("datahub:export", slug=found.slug, resource=resource, token=token)


@require_safe
def export_status(request, slug, resource, token):
    """The page of a background export: waiting (refreshed by htmx every 3 s, or by the
    visitor), then the download link (valid for a day)."""
    from django.urls import reverse

    found = queries.dataset_for(request.user, slug)
    rid = str(resource)
    queries.table_spec_for(request.user, rid)  # the same access check as the API's
    status = exports.export_status(rid, token)
    if "signed" in status:
        status["download_url"] = reverse(
            "api:datahub_export_download", kwargs={"signed": status["signed"]}
        )
    context = {
        "dataset": found,
        "territory": found.territory,
        "status": status,
        "running": status["state"] in ("queued", "running"),
        "format": exports.FORMATS.get(status["fmt"] or "", ("", ""))[1].upper(),
    }
    if request.headers.get("HX-Request"):
        if not context["running"]:
            response = HttpResponse("")
            response["HX-Refresh"] = "true"
            return response
        return render(request, "datahub/_export_status.html", context)
    return render(request, "datahub/export.html", context)
