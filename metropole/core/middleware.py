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
    """Answers 400 to an address whose path or parameters hold a NUL character.

    PostgreSQL text cannot hold NUL, so such a value reaching a query would be a 500 on
    PostgreSQL and a silent mismatch on SQLite; no legitimate request carries one. Checked once
    here rather than in every module's filters (schemathesis found it in several).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _refuse(request):
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        detail = _("The address contains a NUL character (%00), which no parameter may hold.")
        if request.path.startswith("/api/"):
            from metropole.api import problem

            return problem(request, 400, "Bad request", detail)
        return render(
            request, "core/error.html", {"title": _("Bad request"), "detail": detail}, status=400
        )
