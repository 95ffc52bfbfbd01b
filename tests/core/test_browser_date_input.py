"""Date pickers get their value as browsers read it, whatever the page's language."""

import datetime as dt

import pytest
from django.utils import translation

from metropole.core.forms import ApiTokenForm


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_date_picker_is_filled_with_an_iso_date_in_every_language(language):
    """An <input type="date"> ignores 01/06/2025 (the French and British short format): the
    field would show empty, and saving the form would erase the date."""
    with translation.override(language):
        html = str(ApiTokenForm(initial={"expires_at": dt.date(2025, 6, 1)})["expires_at"])
    assert 'type="date"' in html and 'value="2025-06-01"' in html
