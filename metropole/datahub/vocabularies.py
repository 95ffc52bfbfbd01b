"""Controlled vocabularies of the catalogue (DCAT-AP): data themes, update frequencies,
licences. Codes are the EU Publications Office's authority tables, so that the DCAT-AP
export can name them by their URIs and harvesters (data.gouv.fr, data.europa.eu) read them."""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

EU_THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"


class Theme(models.TextChoices):
    """The 13 EU data themes (authority table `data-theme`)."""

    AGRI = "AGRI", _("Agriculture, fisheries, forestry and food")
    ECON = "ECON", _("Economy and finance")
    EDUC = "EDUC", _("Education, culture and sport")
    ENER = "ENER", _("Energy")
    ENVI = "ENVI", _("Environment")
    GOVE = "GOVE", _("Government and public sector")
    HEAL = "HEAL", _("Health")
    INTR = "INTR", _("International issues")
    JUST = "JUST", _("Justice, legal system and public safety")
    REGI = "REGI", _("Regions and cities")
    SOCI = "SOCI", _("Population and society")
    TECH = "TECH", _("Science and technology")
    TRAN = "TRAN", _("Transport")


class Frequency(models.TextChoices):
    """Update frequencies (authority table `frequency`), the ones a territory uses."""

    CONT = "CONT", _("continuously")
    HOURLY = "HOURLY", _("hourly")
    DAILY = "DAILY", _("daily")
    WEEKLY = "WEEKLY", _("weekly")
    BIWEEKLY = "BIWEEKLY", _("every two weeks")
    MONTHLY = "MONTHLY", _("monthly")
    QUARTERLY = "QUARTERLY", _("quarterly")
    ANNUAL_2 = "ANNUAL_2", _("twice a year")
    ANNUAL = "ANNUAL", _("yearly")
    BIENNIAL = "BIENNIAL", _("every two years")
    TRIENNIAL = "TRIENNIAL", _("every three years")
    IRREG = "IRREG", _("irregularly")
    NEVER = "NEVER", _("never (historical data)")
    UNKNOWN = "UNKNOWN", _("unknown")


#: How old data may be before it is late, per frequency (None: no expectation).
FREQUENCY_PERIOD: dict[str, timedelta | None] = {
    Frequency.CONT: timedelta(hours=1),
    Frequency.HOURLY: timedelta(hours=1),
    Frequency.DAILY: timedelta(days=1),
    Frequency.WEEKLY: timedelta(weeks=1),
    Frequency.BIWEEKLY: timedelta(weeks=2),
    Frequency.MONTHLY: timedelta(days=31),
    Frequency.QUARTERLY: timedelta(days=92),
    Frequency.ANNUAL_2: timedelta(days=183),
    Frequency.ANNUAL: timedelta(days=366),
    Frequency.BIENNIAL: timedelta(days=731),
    Frequency.TRIENNIAL: timedelta(days=1096),
    Frequency.IRREG: None,
    Frequency.NEVER: None,
    Frequency.UNKNOWN: None,
}


class Licence(models.TextChoices):
    """Licences every publisher may use (the two of the French open-data law's decree)."""

    ETALAB_2 = "etalab-2.0", _("Licence Ouverte / Open Licence 2.0")
    ODBL = "odbl", _("Open Database License (ODbL)")


LICENCE_URLS = {
    Licence.ETALAB_2: "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    Licence.ODBL: "https://opendatacommons.org/licenses/odbl/1-0/",
}
