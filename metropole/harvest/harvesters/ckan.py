"""CKAN portals, through the Action API: ``package_search`` paged with ``rows``/``start``.

The source's address is the portal (``https://demo.ckan.org``) or the action itself
(``https://demo.ckan.org/api/3/action/package_search?fq=organization:x``): its query
parameters are kept, so a source can harvest one organisation only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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

ACTION = "/api/3/action/package_search"


def search_url(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith(ACTION):
        path = path + ACTION
    params = dict(parse_qsl(parts.query))
    params.pop("start", None)
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")), params


def portal_root(url: str) -> str:
    base, _params = search_url(url)
    return base[: -len(ACTION)]


def _person(value: str, email: str) -> tuple[str, str]:
    """Maintainer or author: plain text, or (as some portals store it) a JSON object."""
    value = (value or "").strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            data = None
        if isinstance(data, dict):
            name = " ".join(
                str(data.get(k) or "").strip() for k in ("given_name", "name") if data.get(k)
            )
            return name, email or str(data.get("email") or "")
    if value.startswith("["):
        return "", email
    return value, email or ""


def package_to_dataset(package: dict, root: str) -> RemoteDataset:
    contact_name, contact_email = _person(
        package.get("maintainer") or "", package.get("maintainer_email") or ""
    )
    if not contact_name and not contact_email:
        contact_name, contact_email = _person(
            package.get("author") or "", package.get("author_email") or ""
        )
    extras = {e.get("key"): e.get("value") for e in package.get("extras") or [] if e.get("key")}
    distributions = []
    for resource in package.get("resources") or []:
        url = (resource.get("url") or "").strip()
        if not url or resource.get("state", "active") != "active":
            continue
        distributions.append(
            RemoteDistribution(
                url=url,
                title=(resource.get("name") or "").strip(),
                description=(resource.get("description") or "").strip(),
                format=short_format(resource.get("format") or resource.get("mimetype") or ""),
                media_type=resource.get("mimetype") or "",
            )
        )
    organisation = package.get("organization") or {}
    name = package.get("name") or package.get("id")
    return RemoteDataset(
        remote_id=str(package.get("id") or name)[:500],
        title=(package.get("title") or name or "").strip(),
        description=(package.get("notes") or "").strip(),
        keywords=sorted(
            {
                (t.get("display_name") or t.get("name") or "").strip()
                for t in package.get("tags") or []
                if (t.get("display_name") or t.get("name"))
            }
        ),
        licence=package.get("license_url") or package.get("license_id") or "",
        licence_title=package.get("license_title") or "",
        temporal_start=parse_date(extras.get("temporal_start")),
        temporal_end=parse_date(extras.get("temporal_end")),
        contact_name=contact_name,
        contact_email=contact_email,
        landing_page=f"{root}/dataset/{name}",
        publisher=(organisation.get("title") or organisation.get("name") or "").strip(),
        modified=package.get("metadata_modified") or "",
        distributions=sorted(distributions, key=lambda d: d.url),
    )


class CkanHarvester(Harvester):
    def pages(self) -> Iterator[PageResult]:
        base, params = search_url(self.url)
        root = portal_root(self.url)
        rows = min(1000, page_size())
        start, number = 0, 0
        while True:
            number += 1
            if number > max_pages():
                raise FetchError(f"More than {max_pages()} pages of {rows} datasets: stopped.")
            url = f"{base}?{urlencode({**params, 'rows': rows, 'start': start})}"
            answer = fetch_json(url)
            if not isinstance(answer, dict) or not answer.get("success"):
                error = answer.get("error") if isinstance(answer, dict) else None
                raise FetchError(f"{url}: the portal answered an error: {error!r}.")
            result = answer.get("result") or {}
            packages = result.get("results") or []
            count = int(result.get("count") or 0)
            page = PageResult(url=url)
            for package in packages:
                if not isinstance(package, dict):
                    page.problems.append(("", "a result is not an object"))
                    continue
                if package.get("private") or package.get("state", "active") != "active":
                    continue
                try:
                    page.datasets.append(package_to_dataset(package, root))
                except Exception as error:  # one odd record must not stop the page
                    page.problems.append((str(package.get("id", "")), f"unreadable: {error}"))
            yield page
            start += len(packages)
            if not packages or start >= count:
                return
