"""What every page needs: the metropole, its branding and the navigation menus."""

from django.urls import NoReverseMatch, reverse

from .registry import NAV_ACCOUNT, NAV_PUBLIC, registry


def _links(request, section):
    links = []
    for entry in registry.navigation(section):
        if entry.per_territory:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url))
        links.append({"label": entry.label, "url": url, "current": current})
    return links


def platform(request):
    return {
        "metropole": getattr(request, "metropole", None),
        "public_nav": _links(request, NAV_PUBLIC),
        "account_nav": _links(request, NAV_ACCOUNT),
    }
