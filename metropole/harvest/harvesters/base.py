"""What every harvester produces, and fetching remote documents safely.

A harvester reads a remote catalogue page by page and turns each remote dataset into a
`RemoteDataset` (plain values, no database). The services compare its fingerprint with
the one last applied and create, update or leave the hub's dataset accordingly.

Fetching: http(s) only (redirects included), a timeout, and a size limit checked on the
declared length and while reading, so a huge or endless answer is cut short.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from urllib.parse import urlsplit

from metropole.core.conf import setting

USER_AGENT = "Metropole-harvester/1.0 (+DCAT-AP, CKAN, OpenDataSoft)"


class FetchError(Exception):
    """The remote catalogue could not be read (network, HTTP status, size, syntax)."""


@dataclass
class RemoteDistribution:
    url: str
    title: str = ""
    description: str = ""
    format: str = ""  # short lowercase name: "csv", "json", "zip", ...
    media_type: str = ""


@dataclass
class RemoteDataset:
    remote_id: str
    title: str
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)  # EU data-theme codes
    licence: str = ""  # remote licence identifier or URL
    licence_title: str = ""
    frequency: str = ""  # EU frequency code
    temporal_start: date | None = None
    temporal_end: date | None = None
    contact_name: str = ""
    contact_email: str = ""
    landing_page: str = ""
    publisher: str = ""
    spatial: list[str] = field(default_factory=list)  # INSEE / SIREN codes
    schema_name: str = ""
    schema_version: str = ""
    modified: str = ""
    distributions: list[RemoteDistribution] = field(default_factory=list)

    def fingerprint(self) -> str:
        """SHA-256 of the metadata, in a canonical JSON form (key order, lists as given)."""
        payload = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class PageResult:
    url: str
    datasets: list[RemoteDataset] = field(default_factory=list)
    # (remote id or "", message): records of the page that could not be read
    problems: list[tuple[str, str]] = field(default_factory=list)


class Harvester:
    """Reads one kind of catalogue. Subclasses implement `pages()`."""

    def __init__(self, url: str):
        self.url = url

    def pages(self) -> Iterator[PageResult]:  # pragma: no cover - abstract
        raise NotImplementedError


def max_document_bytes() -> int:
    return int(setting("HARVEST_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024))


def max_pages() -> int:
    return int(setting("HARVEST_MAX_PAGES", 500))


def page_size() -> int:
    return int(setting("HARVEST_PAGE_SIZE", 100))


def timeout() -> float:
    return float(setting("HARVEST_TIMEOUT", 30.0))


def check_http_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"Only http(s) addresses are harvested, not {url!r}.")


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_http_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_HttpOnlyRedirects)


def fetch(url: str, accept: str) -> tuple[bytes, str]:
    """The body and content type of `url`; FetchError when it cannot be had within the
    limits."""
    check_http_url(url)
    limit = max_document_bytes()
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept})
    try:
        with _opener.open(request, timeout=timeout()) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(
                    f"{url} announces {int(declared)} bytes, more than the limit of {limit}."
                )
            chunks, size = [], 0
            while chunk := response.read(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"{url} sends more than the limit of {limit} bytes.")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url} answered HTTP {error.code} {error.reason}.") from None
    except urllib.error.URLError as error:
        raise FetchError(f"{url} could not be reached: {error.reason}.") from None
    except (TimeoutError, OSError, ValueError) as error:
        raise FetchError(f"{url} could not be read: {error}.") from None


def fetch_json(url: str):
    body, _type = fetch(url, "application/json")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FetchError(f"{url} did not answer valid JSON: {error}.") from None


def parse_date(value) -> date | None:
    """The date of an ISO date or date-time string (None when there is none)."""
    text = str(value or "").strip()[:10]
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


#: IANA media types -> short format names
MEDIA_FORMATS = {
    "text/csv": "csv",
    "application/json": "json",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.apache.parquet": "parquet",
    "application/zip": "zip",
    "application/pdf": "pdf",
}


def short_format(value: str) -> str:
    """ "CSV", "text/csv", ".../file-type/CSV", ".../media-types/text/csv" -> "csv"."""
    text = (value or "").strip()
    if not text:
        return ""
    if "/media-types/" in text:
        text = text.split("/media-types/", 1)[1]
    if text.lower() in MEDIA_FORMATS:
        return MEDIA_FORMATS[text.lower()]
    if "/" in text:
        text = text.rstrip("/").rsplit("/", 1)[1]
    return text.lower()[:20]
