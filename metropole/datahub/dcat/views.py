"""The catalogue's endpoints (mounted at the site's root by the harvest app's URLconf):

- ``/catalog.ttl``, ``/catalog.rdf``, ``/catalog.jsonld`` — one page of the catalogue
  (``?page=N&page_size=M``, at most 1000 a page), with its Hydra paging;
- ``/catalog`` — the same, in the syntax the Accept header asks for (Turtle by default);
- ``/catalog/datasets/<uuid>`` (and ``.ttl`` / ``.rdf`` / ``.jsonld``) — one dataset;
  its URI is this address, so every subject of the export can be dereferenced;
- ``/catalog/datasets/<uuid>/schema.json`` — the Table Schema a dataset declares.
"""

import hashlib

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from ..models import Access, Dataset, DatasetStatus
from .export import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SERIALISATIONS,
    build_catalog_graph,
    build_dataset_graph,
    exportable_datasets,
    serialise,
)

CACHE_SECONDS = 300  # what browsers and proxies may keep
CACHE_PAGES_SECONDS = 3600  # what the server keeps (also bounded by the catalogue's changes)


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def negotiate(request) -> str:
    """The extension matching the Accept header (Turtle when nothing better is asked)."""
    accept = request.headers.get("Accept", "")
    for ext, (_fmt, media) in SERIALISATIONS.items():
        if media in accept:
            return ext
    if "application/json" in accept:
        return "jsonld"
    if "application/xml" in accept or "text/xml" in accept:
        return "rdf"
    return "ttl"


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _response(text: str, ext: str) -> HttpResponse:
    media = SERIALISATIONS[ext][1]
    response = HttpResponse(text, content_type=f"{media}; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response["Vary"] = "Accept"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _catalogue_version(metropole) -> str:
    """Changes whenever an exported dataset, or one of its resources, changes (or one is
    added or removed): the key of the cached pages."""
    found = (
        exportable_datasets(metropole)
        .order_by()
        .aggregate(
            n=Count("pk", distinct=True),
            updated=Max("updated_at"),
            data=Max("data_updated_at"),
            resources=Max("resources__updated_at"),
        )
    )
    return hashlib.sha256(repr(sorted(found.items())).encode()).hexdigest()[:16]


@require_safe
def catalog(request, ext: str | None = None):
    """A page of the catalogue. Serialising RDF is costly (seconds for 1000 datasets), so
    pages are cached until an exported dataset changes (at most CACHE_PAGES_SECONDS)."""
    ext = ext or negotiate(request)
    if ext not in SERIALISATIONS:
        raise Http404("Unknown serialisation")
    page = max(1, _int(request.GET.get("page"), 1))
    size = max(1, min(MAX_PAGE_SIZE, _int(request.GET.get("page_size"), DEFAULT_PAGE_SIZE)))
    base = _base_url(request)
    metropole = request.metropole
    key = (
        "dcat:"
        + hashlib.sha256(
            f"{metropole.pk}|{base}|{ext}|{page}|{size}|{_catalogue_version(metropole)}".encode()
        ).hexdigest()
    )
    cached = cache.get(key)
    if cached is None:
        graph, info = build_catalog_graph(metropole, base, page=page, page_size=size, ext=ext)
        cached = (serialise(graph, ext), info.total)
        cache.set(key, cached, CACHE_PAGES_SECONDS)
    text, total = cached
    response = _response(text, ext)
    response["X-Total-Count"] = str(total)
    return response


def _public_dataset(uid) -> Dataset:
    dataset = (
        Dataset.objects.filter(uid=uid, status=DatasetStatus.PUBLISHED, access=Access.PUBLIC)
        .select_related("territory", "organisation")
        .prefetch_related("themes", "spatial", "resources__current_version")
        .first()
    )
    if dataset is None:
        raise Http404("No public dataset with this identifier")
    return dataset


@require_safe
def dataset(request, uid, ext: str | None = None):
    if (
        ext is None
        and "text/html" in request.headers.get("Accept", "")
        and not any(
            media in request.headers.get("Accept", "") for _f, media in SERIALISATIONS.values()
        )
    ):
        # A person following the URI in a browser gets the dataset's page.
        return redirect(_public_dataset(uid).get_absolute_url())
    ext = ext or negotiate(request)
    if ext not in SERIALISATIONS:
        raise Http404("Unknown serialisation")
    graph = build_dataset_graph(_public_dataset(uid), _base_url(request))
    return _response(serialise(graph, ext), ext)


@require_safe
def table_schema(request, uid):
    found = _public_dataset(uid)
    if not found.table_schema:
        raise Http404("This dataset declares no Table Schema")
    return JsonResponse(found.table_schema)
