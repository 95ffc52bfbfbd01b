"""Which licence of the hub a remote licence is.

Licence Ouverte 2.0 and ODbL are recognised by their usual identifiers, titles and
addresses (CKAN, OpenDataSoft and DCAT spell them differently); any other licence maps
only to a licence an administrator of the metropole allowed, matched by its code or the
address of its text. Otherwise the dataset is not harvested, and the run's log says
which licence to allow.
"""

import re

from django.utils.text import slugify

from metropole.datahub.models import AllowedLicence
from metropole.datahub.vocabularies import Licence

KNOWN = {
    Licence.ETALAB_2: [
        "etalab-2.0",
        "etalab",
        "lov2",
        "fr-lo",
        "licence-ouverte",
        "licence-ouverte-v2-0",
        "licence-ouverte-open-licence",
        "open-licence",
        "etalab.gouv.fr/licence-ouverte-open-licence",
        "etalab.gouv.fr/wp-content/uploads/2017/04/etalab-licence-ouverte-v2.0.pdf",
        "www.etalab.gouv.fr/licence-ouverte-open-licence",
    ],
    Licence.ODBL: [
        "odbl",
        "odc-odbl",
        "open-database-license-odbl",
        "open-database-licence",
        "opendatacommons.org/licenses/odbl",
    ],
}


def _normalise(value: str) -> str:
    text = (value or "").strip().lower()
    text = re.sub(r"^https?://", "", text).rstrip("/")
    return text


def recognised(remote: str, title: str) -> bool:
    """Whether `remote` / `title` name Licence Ouverte 2.0 or ODbL (without the licences an
    administrator allowed: a harvester has no metropole)."""
    return _known(remote, title) is not None


def _known(remote: str, title: str) -> str | None:
    candidates = {_normalise(remote), _normalise(title), slugify(remote), slugify(title)}
    candidates.discard("")
    for code, names in KNOWN.items():
        for candidate in candidates:
            for name in names:
                if candidate == name or ("/" in name and candidate.startswith(name)):
                    return str(code)
    for slug in (slugify(remote), slugify(title)):
        if "odbl" in slug.split("-"):
            return str(Licence.ODBL)
        if ("licence-ouverte" in slug or "open-licence" in slug) and re.search(
            r"(^|-)(v?2|v?2-0|v?20)(-|$)", slug
        ):
            return str(Licence.ETALAB_2)
    return None


def resolve(remote: str, title: str, metropole) -> str | None:
    """The hub's licence code for a remote licence, or None when none matches."""
    known = _known(remote, title)
    if known is not None:
        return known
    candidates = {_normalise(remote), _normalise(title), slugify(remote), slugify(title)}
    candidates.discard("")
    for allowed in AllowedLicence.objects.filter(metropole=metropole):
        if allowed.code in candidates or _normalise(allowed.url) in candidates:
            return allowed.code
    return None
