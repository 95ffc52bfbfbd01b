"""Point-in-commune lookups per second over the 130 communes of the Métropole du Grand Paris.

Measured in one process, on the same seeded random points inside the metropole's bounding
box: `CommuneLocator.locate` (one point per call), `CommuneLocator.locate_many` (one call
for all points) and, as the reference, `naive_locate` (a loop over every unprepared shapely
polygon). All three must give identical answers.

    .venv/bin/python bench/point_lookup.py [--points 20000] [--seed 2024]
"""

import argparse
import statistics
import time

import numpy as np
import shapely
from _common import fmt_int, table
from shapely.geometry import shape

from metropole.core import reference
from metropole.core.geo import CommuneLocator, naive_locate

SIREN = "200054781"  # Métropole du Grand Paris
TARGET_PER_SECOND = 20_000  # for CommuneLocator.locate


def _timed(function, repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` calls, and the last result."""
    durations, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations), result


def run(points: int = 20_000, seed: int = 2024, repeat: int = 5) -> dict:
    communes = reference.communes(SIREN)
    areas = [(c["insee"], c["geometry"]) for c in communes]

    start = time.perf_counter()
    locator = CommuneLocator(areas)
    build_seconds = time.perf_counter() - start
    # The reference gets its own, unprepared polygons (CommuneLocator prepares its copies).
    naive_areas = [(code, shape(geometry)) for code, geometry in areas]

    min_lon, min_lat, max_lon, max_lat = shapely.union_all([g for _, g in naive_areas]).bounds
    rng = np.random.default_rng(seed)
    lons = rng.uniform(min_lon, max_lon, points)
    lats = rng.uniform(min_lat, max_lat, points)
    pairs = list(zip(lons.tolist(), lats.tolist(), strict=True))

    locate_seconds, by_locate = _timed(
        lambda: [locator.locate(lon, lat) for lon, lat in pairs], repeat
    )
    many_seconds, by_many = _timed(lambda: locator.locate_many(lons, lats), repeat)
    # Floor of a one-point-per-call API: building the shapely Point alone.
    point_seconds, _ = _timed(lambda: [shapely.Point(lon, lat) for lon, lat in pairs], repeat)
    naive_seconds, by_naive = _timed(
        lambda: [naive_locate(naive_areas, lon, lat) for lon, lat in pairs], 1
    )

    mismatches = [
        (i, by_naive[i], by_locate[i], by_many[i])
        for i in range(points)
        if not (by_naive[i] == by_locate[i] == by_many[i])
    ]
    inside = sum(code is not None for code in by_naive)
    rates = {
        "naive": points / naive_seconds,
        "locate": points / locate_seconds,
        "locate_many": points / many_seconds,
    }
    rows = [
        [
            "`naive_locate` loop (reference)",
            fmt_int(rates["naive"]),
            f"{naive_seconds / points * 1e6:.1f}",
            "1×",
        ],
        [
            "`CommuneLocator.locate`",
            fmt_int(rates["locate"]),
            f"{locate_seconds / points * 1e6:.1f}",
            f"{rates['locate'] / rates['naive']:.0f}×",
        ],
        [
            "`CommuneLocator.locate_many`",
            fmt_int(rates["locate_many"]),
            f"{many_seconds / points * 1e6:.2f}",
            f"{rates['locate_many'] / rates['naive']:.0f}×",
        ],
        [
            "Floor: `shapely.Point(lon, lat)` alone (no lookup)",
            fmt_int(points / point_seconds),
            f"{point_seconds / points * 1e6:.1f}",
            "–",
        ],
    ]
    target_met = rates["locate"] >= TARGET_PER_SECOND
    markdown = "\n".join(
        [
            "## Point-in-commune lookup",
            "",
            f"{len(areas)} communes of the Métropole du Grand Paris (SIREN {SIREN}), from the "
            f"reference file; {fmt_int(points)} random points (seed {seed}) uniform in the "
            f"bounding box ({min_lon:.4f}, {min_lat:.4f}) – ({max_lon:.4f}, {max_lat:.4f}), of "
            f"which {fmt_int(inside)} ({inside / points:.0%}) fall in a commune. One process; "
            f"median of {repeat} passes for the locator, one pass for the naive loop. "
            f"Building the index: {build_seconds * 1000:.0f} ms.",
            "",
            table(["Method", "Lookups/s", "µs per lookup", "Speed-up vs naive"], rows),
            "",
            f"- Identical answers for all {fmt_int(points)} points: "
            + ("**yes**" if not mismatches else f"**NO — {len(mismatches)} differ**"),
            f"- Target ≥ {fmt_int(TARGET_PER_SECOND)} lookups/s for `locate`: "
            + ("**met**" if target_met else "**missed**")
            + f" ({fmt_int(rates['locate'])}/s)",
        ]
    )
    if mismatches:
        markdown += "\n- First mismatches (index, naive, locate, locate_many): " + ", ".join(
            str(m) for m in mismatches[:5]
        )
    return {
        "markdown": markdown,
        "rates": rates,
        "identical": not mismatches,
        "target_met": target_met,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = run(args.points, args.seed, args.repeat)
    print(result["markdown"])
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
