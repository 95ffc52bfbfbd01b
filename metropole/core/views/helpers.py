"""Shared plumbing of every module's pages: permission checks and error pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _

from ..exceptions import LoginRequired, PermissionDenied, PlatformError
from ..queries import territory_by_slug


def render_error(request, error: PlatformError):
    response = render(
        request,
        "core/error.html",
        {"title": error.title, "detail": error.detail},
        status=error.status,
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def require_page_permission(request, permission: str, obj, name=None) -> None:
    """The pages' permission check, through the same rules as the API (`has_perm`).

    An anonymous visitor gets LoginRequired (the middleware below sends them to log in and
    back), anyone else PermissionDenied (the 403 page naming `name`, by default the object)."""
    if request.user.has_perm(permission, obj):
        return
    refusal = PermissionDenied if request.user.is_authenticated else LoginRequired
    raise refusal(
        _("Access denied"),
        _("You are not allowed to open this page of %(name)s.")
        % {"name": name or getattr(obj, "display_name", obj)},
    )


def territory_permission_required(permission: str):
    """Load the territory named by the `slug` URL argument and check `permission` on it."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            territory = territory_by_slug(slug)
            require_page_permission(request, permission, territory)
            return view(request, territory, *args, **kwargs)

        return wrapper

    return decorator


class PlatformErrorMiddleware:
    """Turns PlatformError raised by a page into a readable page with the right status.

    LoginRequired sends an anonymous visitor to log in instead: after logging in they come back
    to the page, which then decides with their permissions.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PlatformError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, LoginRequired) and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return render_error(request, exception)
