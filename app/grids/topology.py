"""Checks that keep the grid a partition (docs/domain.md: cells of one level do not overlap).

Pure functions on shapely geometries. An overlap is counted when the interiors of two sibling
cells share more than ``OVERLAP_TOLERANCE`` of the smaller one's area: digitised boundaries of
neighbours always touch and often cross by a sliver, which is no reason to refuse a real file.
A child is refused when more than ``OUTSIDE_TOLERANCE`` of it lies outside its parent: such a cell
could never be located (the chain is chosen top-down).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

OVERLAP_TOLERANCE = 0.01
OUTSIDE_TOLERANCE = 0.05


@dataclass(frozen=True)
class Shape:
    code: str
    geometry: BaseGeometry
    new: bool  # being created or changed now (only these are reported)


def sibling_overlaps(shapes: Sequence[Shape]) -> list[tuple[str, str, float]]:
    """``(new code, other code, share of the smaller cell)`` for siblings that overlap too much."""
    if len(shapes) < 2:
        return []
    geoms = np.array([s.geometry for s in shapes], dtype=object)
    tree = STRtree(geoms)
    new_idx = np.array([i for i, s in enumerate(shapes) if s.new], dtype=np.int64)
    if new_idx.size == 0:
        return []
    pairs = tree.query(geoms[new_idx], predicate="intersects")
    a, b = new_idx[pairs[0]], pairs[1]
    keep = a != b
    a, b = a[keep], b[keep]
    # both new: report each pair once
    keep = ~(np.array([shapes[j].new for j in b], dtype=bool) & (b < a))
    a, b = a[keep], b[keep]
    if a.size == 0:
        return []
    interiors_meet = shapely.relate_pattern(geoms[a], geoms[b], "T********")
    out = []
    for i, j in zip(a[interiors_meet], b[interiors_meet], strict=True):
        shared = shapely.intersection(geoms[i], geoms[j]).area
        smaller = min(geoms[i].area, geoms[j].area)
        share = shared / smaller if smaller > 0 else 1.0
        if share > OVERLAP_TOLERANCE:
            out.append((shapes[i].code, shapes[j].code, share))
    return out


def outside_parent(parent: BaseGeometry, children: Sequence[Shape]) -> list[tuple[str, float]]:
    """``(code, share outside)`` for the new children that lie too far outside ``parent``."""
    new = [c for c in children if c.new]
    if not new:
        return []
    shapely.prepare(parent)
    geoms = np.array([c.geometry for c in new], dtype=object)
    inside = shapely.covers(parent, geoms)
    out = []
    for child, covered in zip(new, inside, strict=True):
        if covered:
            continue
        area = child.geometry.area
        outside = shapely.difference(child.geometry, parent).area / area if area > 0 else 1.0
        if outside > OUTSIDE_TOLERANCE:
            out.append((child.code, outside))
    return out
