"""Colour checks for per-territory branding (WCAG 2.1 contrast)."""

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .exceptions import BadRequest

MIN_CONTRAST = 4.5  # WCAG AA for normal text
# The design system's defaults (core/static/core/css/metropole.css, --brand and --accent).
DEFAULT_PRIMARY = "#1f3a93"
DEFAULT_ACCENT = "#a8430b"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def require_readable_on_white(hex_colour: str, *, field: str) -> None:
    """Brand colours carry white text and are used as text on white: both need 4.5:1."""
    ratio = contrast_ratio(hex_colour, "#ffffff")
    if ratio < MIN_CONTRAST:
        raise BadRequest(
            _("Colour too light"),
            _(
                "%(colour)s has a contrast of %(ratio)s:1 with white; at least %(minimum)s:1 is "
                "needed so that everyone can read the text. Choose a darker colour."
            )
            % {
                "colour": hex_colour,
                "ratio": number_format(ratio, 1),
                "minimum": number_format(MIN_CONTRAST, 1),
            },
            field=field,
        )
