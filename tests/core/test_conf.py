"""A module setting: Django setting, else environment variable typed like the default, else
the default; a value of the wrong type is a clear configuration error."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from metropole.core.conf import setting


def test_django_setting_wins_over_the_environment(settings, monkeypatch):
    settings.EXAMPLE_LIMIT = 7
    monkeypatch.setenv("EXAMPLE_LIMIT", "9")
    assert setting("EXAMPLE_LIMIT", 3) == 7


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [("9", 3, 9), ("2.5", 1.0, 2.5), ("yes", False, True), ("off", True, False), (" x ", "", "x")],
)
def test_environment_is_typed_like_the_default(monkeypatch, raw, default, expected):
    monkeypatch.setenv("EXAMPLE_VALUE", raw)
    assert setting("EXAMPLE_VALUE", default) == expected


def test_missing_gives_the_default_and_a_bad_value_names_the_variable(monkeypatch):
    assert setting("EXAMPLE_MISSING", 42) == 42
    monkeypatch.setenv("EXAMPLE_BAD", "lots")
    with pytest.raises(ImproperlyConfigured, match=r"EXAMPLE_BAD='lots': expected a int"):
        setting("EXAMPLE_BAD", 5)
