"""HTML to PDF with WeasyPrint (ADR 0050): the meeting pack and the annual report are one
template each, rendered as a page or printed to PDF; charts are inline SVG in both.

Static files (the print stylesheet) are read from disk through the staticfiles finders,
so no HTTP request is made to the server itself and nothing outside is contacted."""

from django.contrib.staticfiles import finders
from django.utils.translation import gettext as _

from metropole.core.exceptions import PlatformError

STATIC_PREFIX = "/static/"


def _fetcher(url, *args, **kwargs):
    from weasyprint import default_url_fetcher

    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else path
    if path.startswith(STATIC_PREFIX):
        found = finders.find(path[len(STATIC_PREFIX) :].split("?")[0])
        if found:
            return {
                "file_obj": open(found, "rb"),
                "mime_type": "text/css" if found.endswith(".css") else None,
            }
    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"External resource refused in a PDF: {url}")


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as error:  # Pango missing on this machine
        raise PlatformError(_("PDF unavailable"), str(error)) from None
    return HTML(string=html, base_url="http://localhost/", url_fetcher=_fetcher).write_pdf()
