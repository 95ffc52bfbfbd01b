"""Shared plumbing of the core's pages: permission decorator and error pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _

from ..exceptions import LoginRequired, PlatformError
from ..queries import territory_by_slug


def render_error(request, error: PlatformError):
    return render(
        request,
        "core/error.html",
        {"title": error.title, "detail": error.detail},
        status=error.status,
    )


def territory_permission_required(permission: str):
    """Load the territory named by the `slug` URL argument and check `permission` on it
    through the same predicates as the API (rules.py). Anonymous users go to log-in."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            territory = territory_by_slug(slug)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission, territory):
                return render(
                    request,
                    "core/error.html",
                    {
                        "title": "403",
                        "detail": _("You are not allowed to open this page of %(territory)s.")
                        % {"territory": territory.display_name},
                    },
                    status=403,
                )
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
