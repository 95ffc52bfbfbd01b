"""How a module reads its own settings: one rule for every module.

    from metropole.core.conf import setting
    max_bytes = setting("DATAHUB_MAX_SOURCE_BYTES", 2 * 1024**3)

A Django setting of that name wins (tests use `settings` overrides); otherwise an environment
variable of the same name, converted to the type of the default; otherwise the default. So an
operator configures any module the same way as the core (`docs/configuration.md`), without an
entry in settings.py per module option.
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def setting(name: str, default):
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None:
        return default
    return _convert(name, raw, default)


def _convert(name: str, raw: str, default):
    raw = raw.strip()
    if isinstance(default, bool):
        if raw.lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.lower() in TRUE_WORDS
    elif isinstance(default, int | float):
        try:
            return type(default)(raw)
        except ValueError:
            pass
    else:
        return raw
    raise ImproperlyConfigured(
        f"Environment variable {name}={raw!r}: expected a {type(default).__name__} "
        f"like {default!r}."
    )
