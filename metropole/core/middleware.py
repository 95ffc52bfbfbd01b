from django.utils.functional import SimpleLazyObject


class CurrentTerritoryMiddleware:
    """Makes `request.metropole` (the install's metropole) available, loaded on first use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .queries import current_metropole

        request.metropole = SimpleLazyObject(current_metropole)
        return self.get_response(request)


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
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        detail = _("The request contains a NUL character (%00), which no text may hold.")
        if request.path.startswith("/api/"):
            from metropole.api import problem

            return problem(request, 400, "Bad request", detail)
        return render(
            request, "core/error.html", {"title": _("Bad request"), "detail": detail}, status=400
        )


def _any_nul(query_dict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in query_dict.lists()
    )
