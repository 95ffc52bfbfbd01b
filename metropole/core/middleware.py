from django.template.defaultfilters import filesizeformat
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy


class CurrentTerritoryMiddleware:
    """Makes `request.metropole` (the install's metropole) available, loaded on first use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .queries import current_metropole

        request.metropole = SimpleLazyObject(current_metropole)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Answers 413 to a request that announces a body above METROPOLE_MAX_REQUEST_BYTES.

    Checked on the Content-Length header, before anything reads the body: a 2 GB upload is
    refused at once instead of after Django has spooled it to disk. Each module still checks
    its own smaller limits on what it receives (e.g. an attachment's size). Behind a proxy,
    set the proxy's body limit to the same value (docs/deployment.md).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = max_request_bytes()
        if _announced_length(request) > limit:
            return _refuse_request(
                request,
                413,
                _lazy("Request too large"),
                _("The file or form sent is larger than the %(limit)s this platform accepts.")
                % {"limit": filesizeformat(limit)},
            )
        return self.get_response(request)


def max_request_bytes() -> int:
    from .conf import setting

    return int(setting("METROPOLE_MAX_REQUEST_BYTES", 1024**3))


def _announced_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RejectNulCharactersMiddleware:
    """Answers 400 to a request whose path, parameters or text body hold a NUL character.

    PostgreSQL text cannot hold NUL, so such a value reaching a query would be a 500 on
    PostgreSQL and a silent mismatch on SQLite; no legitimate text carries one. Checked once
    here rather than in every module's filters and schemas (schemathesis found it in several).
    File uploads (multipart) are left alone: binary files legitimately contain NUL bytes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._holds_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    def _holds_nul(self, request) -> bool:
        if "\x00" in request.path or _any_nul(request.GET):
            return True
        if request.content_type == "application/x-www-form-urlencoded":
            return _any_nul(request.POST)
        if request.content_type == "application/json":
            # Raw, or escaped inside a JSON string.
            return b"\x00" in request.body or b"\\u0000" in request.body
        return False

    @staticmethod
    def _refuse(request):
        return _refuse_request(
            request,
            400,
            _lazy("Bad request"),
            _lazy("The request contains a NUL character (%00), which no text may hold."),
        )


def _refuse_request(request, status: int, title, detail):
    """A refusal before any view ran: problem+json under /api/, the error page elsewhere."""
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        from metropole.api import problem

        return problem(request, status, str(title), str(detail))
    response = render(request, "core/error.html", {"title": title, "detail": detail}, status=status)
    if status == 413:
        # The unread body stays on the socket: closing tells the server not to reuse it.
        response["Connection"] = "close"
    return response


def _any_nul(query_dict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in query_dict.lists()
    )
