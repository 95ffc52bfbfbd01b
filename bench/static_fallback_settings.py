"""The production settings with bench.static_storage as the static files storage.

Used by the page benchmarks only if `collectstatic` fails with metropole.settings; every
other setting is the application's own.
"""

from metropole.settings import *  # noqa: F403
from metropole.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "bench.static_storage.SourceMapTolerantStorage"},
}
