"""HTML to PDF with WeasyPrint (ADR 0050): the meeting pack and the annual report are one
template each, rendered as a page or printed to PDF; charts are inline SVG in both.

Static files (the print stylesheet) are read from disk through the staticfiles finders:
no HTTP request is made, to the server itself or to anyone else (any other URL is refused).
"""

from django.contrib.staticfiles import finders
from django.utils.translation import gettext as _

from metropole.core.exceptions import PlatformError

STATIC_PREFIX = "/static/"
BASE_URL = "http://pdf.invalid/"


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(BASE_URL):
                path = "/" + url[len(BASE_URL) :].split("?")[0]
                if path.startswith(STATIC_PREFIX):
                    found = finders.find(path[len(STATIC_PREFIX) :])
                    if found:
                        with open(found, "rb") as handle:
                            body = handle.read()
                        kind = "text/css" if found.endswith(".css") else "application/octet-stream"
                        return URLFetcherResponse(url, body, {"Content-Type": kind})
            raise ValueError(f"Resource refused in a PDF: {url}")

    return StaticOnlyFetcher


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as error:  # Pango missing on this machine
        raise PlatformError(_("PDF unavailable"), str(error)) from None
    fetcher = _fetcher_class()(allowed_protocols={"http"})
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
