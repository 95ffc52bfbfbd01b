from django.utils.functional import SimpleLazyObject


class CurrentTerritoryMiddleware:
    """Makes `request.metropole` (the install's metropole) available, loaded on first use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .queries import current_metropole

        request.metropole = SimpleLazyObject(current_metropole)
        return self.get_response(request)
