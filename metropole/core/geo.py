"""Geometry without GeoDjango: GeoJSON stored as JSON, computed with shapely.

`CommuneLocator` answers "which commune is this point in" with an STRtree over the
communes' polygons (shapely prepares the candidate geometries), so a lookup costs
a tree descent plus one or two exact tests instead of a loop over every polygon.
"""

import math
from dataclasses import dataclass

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import shape

from .exceptions import BadRequest

LAT_RANGE = (-90.0, 90.0)
LON_RANGE = (-180.0, 180.0)


def parse_coordinates(lat, lon) -> tuple[float, float]:
    """Validate a latitude/longitude pair given as text or numbers."""
    title = _("Malformed coordinates")
    try:
        lat_value, lon_value = float(lat), float(lon)
    except (TypeError, ValueError):
        raise BadRequest(
            title,
            _("lat and lon must be decimal numbers in degrees, got lat=%(lat)r, lon=%(lon)r.")
            % {"lat": lat, "lon": lon},
        ) from None
    if not (math.isfinite(lat_value) and math.isfinite(lon_value)):
        raise BadRequest(title, _("lat and lon must be finite numbers."))
    if not LAT_RANGE[0] <= lat_value <= LAT_RANGE[1]:
        raise BadRequest(title, _("lat=%(lat)s is outside [-90, 90].") % {"lat": lat_value})
    if not LON_RANGE[0] <= lon_value <= LON_RANGE[1]:
        raise BadRequest(title, _("lon=%(lon)s is outside [-180, 180].") % {"lon": lon_value})
    return lat_value, lon_value


def bounding_box(geometry: dict) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a GeoJSON geometry."""
    return tuple(shape(geometry).bounds)


@dataclass(frozen=True)
class LocatedArea:
    code: str
    geometry: object  # a shapely geometry


class CommuneLocator:
    """Point-in-polygon index over a fixed set of areas (typically a metropole's communes)."""

    def __init__(self, areas: list[tuple[str, dict]]):
        """`areas` is a list of (code, GeoJSON geometry); codes are returned by lookups."""
        ordered = sorted(areas)  # deterministic answer on shared borders: lowest code wins
        self.codes = [code for code, _ in ordered]
        self.geometries = np.array([shape(geometry) for _, geometry in ordered], dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)

    def __len__(self):
        return len(self.codes)

    def locate(self, lon: float, lat: float) -> str | None:
        """Code of the area containing the point (border points included), or None."""
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self.codes[int(hits.min())]

    def locate_many(self, lons, lats) -> list[str | None]:
        """Vectorised `locate` for many points at once (one tree query for all)."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_index, area_index = self.tree.query(points, predicate="intersects")
        found: list[str | None] = [None] * len(points)
        for p, a in sorted(zip(point_index.tolist(), area_index.tolist(), strict=True)):
            if found[p] is None:
                found[p] = self.codes[a]
        return found


def naive_locate(areas: list[tuple[str, object]], lon: float, lat: float) -> str | None:
    """Reference implementation for tests and benchmarks: test every polygon in turn."""
    point = shapely.Point(lon, lat)
    for code, geometry in sorted(areas, key=lambda item: item[0]):
        if geometry.intersects(point):
            return code
    return None
