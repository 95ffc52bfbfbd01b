"""OpenDataSoft portals, through the Explore API v2.1:
``/api/explore/v2.1/catalog/datasets`` paged with ``limit``/``offset`` (at most 100 a page).

The source's address is the portal (``https://data.example.fr``) or the endpoint itself
(its ``where``/``refine`` parameters are kept). The older v2.0 answer shape
(``datasets[].dataset``) is read too. Each dataset with records becomes distributions
for its CSV, JSON and (when it has a geographic field) GeoJSON exports; attachments are
listed as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.utils.html import strip_tags

from metropole.datahub.vocabularies import Frequency

from .base import (
    FetchError,
    Harvester,
    PageResult,
    RemoteDataset,
    RemoteDistribution,
    fetch_json,
    max_pages,
    page_size,
    parse_date,
    short_format,
)

ENDPOINT = "/api/explore/v2.1/catalog/datasets"
GEO_TYPES = {"geo_point_2d", "geo_shape"}
FREQUENCIES = {
    "continuously": "CONT",
    "continuous": "CONT",
    "hourly": "HOURLY",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "biweekly": "BIWEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "semiannual": "ANNUAL_2",
    "annual": "ANNUAL",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
    "never": "NEVER",
}


def endpoint(url: str) -> tuple[str, dict, str]:
    """(endpoint, kept query parameters, portal root)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if "/api/explore/" in path:
        root_path = path.split("/api/explore/", 1)[0]
    else:
        root_path, path = path, path + ENDPOINT
    params = {k: v for k, v in parse_qsl(parts.query) if k not in ("limit", "offset")}
    root = urlunsplit((parts.scheme, parts.netloc, root_path, "", ""))
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")), params, root


def _frequency(value) -> str:
    text = str(value or "").strip()
    if text.rsplit("/", 1)[-1] in Frequency.values:
        return text.rsplit("/", 1)[-1]
    return FREQUENCIES.get(text.lower(), "")


def _list(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []


def record_to_dataset(item: dict, root: str) -> RemoteDataset:
    dataset_id = str(item.get("dataset_id") or "")
    metas = item.get("metas") or {}
    default = metas.get("default") or {}
    dcat = metas.get("dcat") or {}
    api = f"{root}{ENDPOINT}/{quote(dataset_id)}"
    distributions = []
    if item.get("has_records", True) and dataset_id:
        formats = ["csv", "json"]
        if any(f.get("type") in GEO_TYPES for f in item.get("fields") or []):
            formats.append("geojson")
        for fmt in formats:
            distributions.append(
                RemoteDistribution(
                    url=f"{api}/exports/{fmt}",
                    title=f"{default.get('title') or dataset_id} ({fmt.upper()})",
                    format=fmt,
                )
            )
    for attachment in item.get("attachments") or []:
        url = attachment.get("url") or attachment.get("href") or ""
        if url.startswith("odsfile://") or not url:
            url = f"{api}/attachments/{quote(str(attachment.get('id') or ''))}"
        distributions.append(
            RemoteDistribution(
                url=url,
                title=str(attachment.get("title") or attachment.get("id") or ""),
                format=short_format(attachment.get("mimetype") or ""),
                media_type=attachment.get("mimetype") or "",
            )
        )
    return RemoteDataset(
        remote_id=str(item.get("dataset_uid") or dataset_id)[:500],
        title=str(default.get("title") or dataset_id).strip(),
        description=strip_tags(str(default.get("description") or "")).strip(),
        keywords=sorted(set(_list(default.get("keyword")))),
        licence=str(default.get("license_url") or default.get("license") or ""),
        licence_title=str(default.get("license") or ""),
        frequency=_frequency(dcat.get("accrualperiodicity")),
        temporal_start=parse_date(dcat.get("temporal_coverage_start")),
        temporal_end=parse_date(dcat.get("temporal_coverage_end")),
        contact_name=str(dcat.get("contact_name") or "").strip(),
        contact_email=str(dcat.get("contact_email") or "").strip(),
        landing_page=f"{root}/explore/dataset/{quote(dataset_id)}/" if dataset_id else "",
        publisher=str(default.get("publisher") or "").strip(),
        modified=str(default.get("modified") or ""),
        distributions=sorted(distributions, key=lambda d: d.url),
    )


class OdsHarvester(Harvester):
    def pages(self) -> Iterator[PageResult]:
        base, params, root = endpoint(self.url)
        limit = min(100, page_size())
        offset, number = 0, 0
        while True:
            number += 1
            if number > max_pages():
                raise FetchError(f"More than {max_pages()} pages of {limit} datasets: stopped.")
            url = f"{base}?{urlencode({**params, 'limit': limit, 'offset': offset})}"
            answer = fetch_json(url)
            if not isinstance(answer, dict) or "total_count" not in answer:
                raise FetchError(f"{url} is not an Explore API catalogue answer.")
            items = answer.get("results")
            if items is None:  # v2.0: {"datasets": [{"dataset": {...}, "links": [...]}]}
                items = [d.get("dataset") or {} for d in answer.get("datasets") or []]
            total = int(answer.get("total_count") or 0)
            page = PageResult(url=url)
            for item in items:
                if not isinstance(item, dict):
                    page.problems.append(("", "a result is not an object"))
                    continue
                try:
                    page.datasets.append(record_to_dataset(item, root))
                except Exception as error:  # one odd record must not stop the page
                    page.problems.append((str(item.get("dataset_id", "")), f"unreadable: {error}"))
            yield page
            offset += len(items)
            if not items or offset >= total:
                return
