"""A statistic that counts is named once, singular and plural (Statistic.count): its label
for the dashboards is the plural form, in the language of the moment."""

from django.utils import translation

from metropole.core.registry import registry


def test_a_counted_statistic_is_labelled_with_its_plural_form_in_each_language():
    fixed = next(s for s in registry.statistics() if s.key == "reports_fixed")
    with translation.override("fr"):
        assert (str(fixed.label), fixed.label_for(1)) == (
            "signalements résolus",
            "signalement résolu",
        )
    with translation.override("en"):
        assert (str(fixed.label), fixed.label_for(1)) == ("reports fixed", "report fixed")
    counted = [s for s in registry.statistics() if s.counted is not None]
    assert len(counted) >= 6
    with translation.override("fr"):
        assert all(str(s.label) == s.label_for(2) for s in counted)
