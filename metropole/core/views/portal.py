"""The public portal: the metropole's home, commune pages, "find my commune"."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from .. import queries
from ..exceptions import PlatformError
from ..models import TerritoryKind
from ..opening_hours import describe_opening_hours
from ..registry import registry


@require_safe
def home(request):
    metropole = request.metropole
    communes = list(queries.commune_links(metropole))
    statistics = registry.figures(metropole, headline_only=True)
    return render(
        request,
        "core/home.html",
        {
            "territory": metropole,
            "communes": communes,
            "statistics": statistics,
            "epts": metropole.children.filter(kind=TerritoryKind.EPT),
            "basemap": queries.basemap(),
        },
    )


@require_safe
def territory(request, slug):
    place = queries.territory_by_slug(slug)
    if place.is_metropole:
        return redirect("core:home")
    context = {"territory": place, "basemap": queries.basemap()}
    if place.is_commune:
        hall = place.town_hall or {}
        context["town_hall"] = hall
        context["opening_hours"] = describe_opening_hours(hall.get("opening_hours"))
        context["postal_codes"] = [p.code for p in place.postal_codes.all()]
    else:
        context["communes"] = place.children.order_by("search_name")
    return render(request, "core/territory.html", context)


@require_safe
def find_commune(request):
    """Search by name or postal code; or locate coordinates. Works without JavaScript."""
    metropole = request.metropole
    q = request.GET.get("q", "").strip()
    lat, lon = request.GET.get("lat", "").strip(), request.GET.get("lon", "").strip()
    context = {"q": q, "lat": lat, "lon": lon, "results": None, "error": None}
    try:
        if lat or lon:
            found = queries.commune_at(metropole, lat, lon)
            return redirect(found.get_absolute_url())
        if q:
            results = list(queries.search_communes(metropole, q))
            if len(results) == 1:
                return redirect(results[0].get_absolute_url())
            context["results"] = results
    except PlatformError as error:
        context["error"] = error
    status = 400 if context["error"] and context["error"].status == 400 else 200
    return render(request, "core/find.html", context, status=status)


@require_safe
def branding_css(request, slug):
    """The territory's colours as CSS variables (a file, so the CSP can forbid inline styles)."""
    place = queries.territory_by_slug(slug)
    root = place.root
    primary = place.primary_colour or root.primary_colour
    accent = place.accent_colour or root.accent_colour
    lines = [f"--brand: {primary};" if primary else "", f"--accent: {accent};" if accent else ""]
    css = ":root {" + " ".join(line for line in lines if line) + "}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def api_docs_link(request):
    return redirect(reverse("api:openapi-view"))


def health(request):
    """For load balancers: answers 200 when the database is reachable."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse(_("ok"), content_type="text/plain")
