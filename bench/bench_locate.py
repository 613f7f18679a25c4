"""Routing benchmark: locate over >= 100,000 unit cells with the STRtree index vs a linear scan.

Run: python bench/bench_locate.py [--cells 102400] [--points 20000]
Prints the median per locate, the ratio against testing every cell (same run, same points), the
index build time, and checks that both methods agree (exit 1 when they do not). docs/performance.md budget: <= 50 us median,
>= 100x a linear scan.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

import shapely
from shapely.geometry import box

from app.grids.index import CellRow, GridIndex

WEST, NORTH = 106.40, 35.75  # 崆峒区, WGS-84
DLON = 100.0 / (111_320.0 * math.cos(math.radians(35.5)))
DLAT = 100.0 / 110_574.0


def lattice(cells: int) -> list[CellRow]:
    """One district, 16 streets in a 4x4 block layout, and ``cells`` ~100 m unit cells under them."""
    side = math.ceil(math.sqrt(cells))
    rows = [
        CellRow(
            1,
            None,
            "620802",
            "district",
            1,
            "district",
            shapely.to_wkb(box(WEST, NORTH - side * DLAT, WEST + side * DLON, NORTH)),
        )
    ]
    block = math.ceil(side / 4)
    street_ids = {}
    for sr in range(4):
        for sc in range(4):
            sid = len(rows) + 1
            street_ids[(sr, sc)] = sid
            x0, y1 = WEST + sc * block * DLON, NORTH - sr * block * DLAT
            rows.append(
                CellRow(
                    sid,
                    1,
                    f"620802{sr * 4 + sc + 1:03d}",
                    "street",
                    2,
                    "street",
                    shapely.to_wkb(box(x0, y1 - block * DLAT, x0 + block * DLON, y1)),
                )
            )
    n = 0
    for r in range(side):
        for c in range(side):
            if n >= cells:
                break
            n += 1
            parent = street_ids[(r // block, c // block)]
            rows.append(
                CellRow(
                    len(rows) + 1,
                    parent,
                    f"C{n:09d}",
                    "cell",
                    3,
                    "grid",
                    shapely.to_wkb(
                        box(WEST + c * DLON, NORTH - (r + 1) * DLAT, WEST + (c + 1) * DLON, NORTH - r * DLAT)
                    ),
                )
            )
    return rows


def median_us(fn, points) -> float:  # type: ignore[no-untyped-def]
    times = []
    for lon, lat in points:
        t0 = time.perf_counter_ns()
        fn(lon, lat)
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=102_400)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--linear-points", type=int, default=200)
    args = parser.parse_args()

    rows = lattice(args.cells)
    t0 = time.perf_counter()
    index = GridIndex(rows, "bench")
    build_s = time.perf_counter() - t0
    side = math.ceil(math.sqrt(args.cells))
    rng = random.Random(20261130)
    rows_used = args.cells / side
    points = [
        (WEST + rng.random() * side * DLON, NORTH - rng.random() * rows_used * DLAT)
        for _ in range(args.points)
    ]

    for lon, lat in points[: args.linear_points]:  # both methods must agree before timing means anything
        chain_ids = {c.id for c in index.locate(lon, lat)}
        linear_ids = set(index.locate_linear(lon, lat))
        if not (chain_ids <= linear_ids and len(chain_ids) == 3):  # not an assert: python -O drops those
            raise SystemExit(
                f"locate and the linear scan disagree at lon {lon} lat {lat}: {chain_ids} vs {linear_ids}"
            )

    indexed = median_us(index.locate, points)
    linear = median_us(index.locate_linear, points[: args.linear_points])
    print(
        f"cells: {len(rows):,} ({args.cells:,} unit cells, 16 streets, 1 district); index built in {build_s:.2f} s"
    )
    print(f"locate (STRtree, chain of 3), median over {args.points:,} points: {indexed:8.1f} us")
    print(f"linear scan (covers on every cell), median over {args.linear_points} points: {linear:8.1f} us")
    print(f"ratio linear / indexed: {linear / indexed:,.0f}x   (budget: <= 50 us median, >= 100x)")


if __name__ == "__main__":
    main()
