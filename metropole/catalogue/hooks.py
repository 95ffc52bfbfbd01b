"""How other modules add links to a service page ("Report a problem", "Book an
appointment", "Start the procedure") without the catalogue importing them.

A module calls `register_service_links(provider)` from its module.py; `provider(service)`
returns a list of {"label": str, "url": str}.
"""

from collections.abc import Callable

_providers: list[Callable] = []


def register_service_links(provider: Callable) -> Callable:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def service_links(service) -> list[dict]:
    links = []
    for provider in _providers:
        links.extend(provider(service) or [])
    return links
