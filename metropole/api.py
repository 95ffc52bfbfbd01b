"""The platform's HTTP API: one django-ninja instance, one router per module.

OpenAPI 3 at /api/openapi.json, documentation at /api/docs. Errors are
application/problem+json (RFC 9457) whatever raised them.
"""

from django.conf import settings
from django.http import Http404
from django.utils.csp import CSP
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.views.decorators.csp import csp_override
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from metropole.core.exceptions import NotFound, PlatformError
from metropole.core.registry import registry

api = NinjaAPI(
    title="Métropole API",
    version="1.0.0",
    description=(
        "Open API of the Métropole platform: territories of the metropole and its communes, "
        "and every module's data. Public endpoints need no authentication; personal ones take "
        "a personal access token (`Authorization: Bearer mtp_…`, created in *My account*) or "
        "the browser session. Errors follow RFC 9457 (application/problem+json)."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    # Swagger UI (served from our own static files) sets inline styles; only this page
    # relaxes style-src, every other page keeps the strict policy.
    docs_decorator=csp_override(
        {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}
    ),
)


def problem(request, status: int, title: str, detail: str = "", **extra):
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        **extra,
    }
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(PlatformError)
def platform_error(request, exc: PlatformError):
    extra = {"field": exc.field} if exc.field else {}
    if exc.errors:
        extra["errors"] = exc.errors
    response = problem(request, exc.status, str(exc.title), str(exc.detail), **extra)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
        for e in exc.errors
    ]
    where = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
    return problem(request, 400, "Invalid request", where, errors=errors)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return problem(
        request,
        401,
        "Authentication required",
        "Send a personal access token (Authorization: Bearer mtp_…) or log in.",
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return problem(request, 404, "Not found", str(exc) or "No such resource.")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return problem(request, exc.status_code, str(exc.message))


for module in registry:
    if module.api_router:
        api.add_router(module.api_prefix, import_string(module.api_router))


def api_aware_page_not_found(request, exception):
    """The 404 answer: problem+json under /api/ (an address no route matches, e.g. a negative
    id where the route takes a positive integer), else the platform's error page, in the
    visitor's language and with the site's menus (Django's bare "Not Found" has neither)."""
    if request.path.startswith("/api/"):
        return problem(request, 404, "Not found", "No such resource.")
    from metropole.core.views.helpers import render_error

    return render_error(
        request,
        NotFound(
            gettext("Page not found"),
            gettext("No page has this address. It may have moved: search from the home page."),
        ),
    )
