"""Conversions between WGS-84, GCJ-02 ("Mars" datum of AMap/Tencent) and BD-09 (Baidu).

Every conversion takes and returns (lon, lat) in decimal degrees, in that order. Inputs are
Python floats (floats come back) or numpy arrays of equal shape (arrays of that shape come
back); mismatched shapes raise ValueError. Points outside the China rectangle (see
`out_of_china`) are returned unchanged, as the obfuscation only applies inside China.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Coord = float | np.ndarray
_Pair = tuple[Coord, Coord]

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_EARTH_RADIUS_M = 6371008.8  # IUGG mean radius
# The offset's derivative is below 0.007 degree per degree, so each fixed-point step
# gains >2 digits; 1e-9 degree (~0.1 mm) is reached in 3-4 steps.
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 10


class CoordSystem(str, enum.Enum):
    """Geodetic datum of a coordinate pair."""

    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


def _prepare(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"lon and lat must have the same shape, got {x.shape} and {y.shape}")
    return x, y, x.ndim == 0


def _finish(x: np.ndarray, y: np.ndarray, scalar: bool) -> _Pair:
    return (float(x), float(y)) if scalar else (x, y)


def _outside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> bool | np.ndarray:
    """True where (lon, lat) degrees lies outside lon 72.004..137.8347, lat 0.8293..55.8271.

    The rectangle (edges count as inside) is the one used by eviltransform/coordtransform.
    Floats give a bool, arrays a bool array; mismatched shapes raise ValueError.
    """
    x, y, scalar = _prepare(lon, lat)
    out = _outside(x, y)
    return bool(out) if scalar else out


def _conversion(
    core: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> Callable[[npt.ArrayLike, npt.ArrayLike], _Pair]:
    """Wrap an array-only formula with input checks, the China mask and float/array output."""

    @functools.wraps(core)
    def wrapper(lon: npt.ArrayLike, lat: npt.ArrayLike) -> _Pair:
        x, y, scalar = _prepare(lon, lat)
        outside = _outside(x, y)
        # Outside points are computed too (then discarded); far-off or non-finite values
        # must not emit warnings that callers running with -W error would trip on.
        with np.errstate(all="ignore"):
            nx, ny = core(x, y)
        return _finish(np.where(outside, x, nx), np.where(outside, y, ny), scalar)

    return wrapper


def _gcj_offset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at WGS point (x, y), in degrees, without the China mask."""
    u, v, pi = x - 105.0, y - 35.0, np.pi
    common = (20.0 * np.sin(6.0 * u * pi) + 20.0 * np.sin(2.0 * u * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * np.sqrt(np.abs(u)) + common
    dlat += (20.0 * np.sin(v * pi) + 40.0 * np.sin(v / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * pi) + 320.0 * np.sin(v * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * np.sqrt(np.abs(u)) + common
    dlon += (20.0 * np.sin(u * pi) + 40.0 * np.sin(u / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * pi) + 300.0 * np.sin(u / 30.0 * pi)) * 2.0 / 3.0
    rad = np.radians(y)
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    return dlon, dlat


@_conversion
def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 (lon, lat) -> GCJ-02 (lon, lat), degrees; floats or equal-shape arrays.

    Source: the published GCJ-02 formula (Krasovsky 1940 ellipsoid) as in eviltransform and
    coordtransform. Raises ValueError on mismatched shapes.
    """
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


@_conversion
def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lon, lat) -> WGS-84 (lon, lat), degrees; floats or equal-shape arrays.

    Solves wgs + offset(wgs) = gcj by fixed-point iteration from the one-step inverse, until
    a step is below 1e-9 degree (at most 10 steps): error well under 1 mm inside China, where
    the one-step inverse is metres off. Raises ValueError on mismatched shapes.
    """
    inside = ~_outside(lon, lat)
    wx, wy = lon, lat
    for _ in range(_INVERSE_MAX_ITER):
        dx, dy = _gcj_offset(wx, wy)
        nx, ny = lon - dx, lat - dy
        # Outside points are discarded later and need not converge, so they may not hold us up.
        step = np.where(inside, np.maximum(np.abs(nx - wx), np.abs(ny - wy)), 0.0)
        wx, wy = nx, ny
        if np.max(step, initial=0.0) < _INVERSE_TOL_DEG:
            break
    return wx, wy


@_conversion
def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lon, lat) -> BD-09 (lon, lat), degrees; floats or equal-shape arrays.

    Source: Baidu's published GCJ-02 -> BD-09 formula. Raises ValueError on mismatched shapes.
    """
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


@_conversion
def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (lon, lat) -> GCJ-02 (lon, lat), degrees; floats or equal-shape arrays.

    Source: Baidu's published approximate inverse, kept so results agree with other tools;
    a GCJ -> BD -> GCJ round trip is off by up to ~0.25 m. Raises ValueError on mismatched shapes.
    """
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> _Pair:
    """WGS-84 (lon, lat) -> BD-09 (lon, lat), degrees, via GCJ-02; as wgs84_to_gcj02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> _Pair:
    """BD-09 (lon, lat) -> WGS-84 (lon, lat), degrees, via GCJ-02; as gcj02_to_wgs84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon: npt.ArrayLike, lat: npt.ArrayLike) -> _Pair:
    x, y, scalar = _prepare(lon, lat)
    return _finish(x.copy(), y.copy(), scalar)


# Same order as the CoordSystem members: wgs84, gcj02, bd09.
_TO_WGS84 = dict(zip(CoordSystem, (_identity, gcj02_to_wgs84, bd09_to_wgs84), strict=True))
_FROM_WGS84 = dict(zip(CoordSystem, (_identity, wgs84_to_gcj02, wgs84_to_bd09), strict=True))


def _system(system: CoordSystem | str) -> CoordSystem:
    try:
        return CoordSystem(system.lower() if isinstance(system, str) else system)
    except ValueError:
        valid = ", ".join(s.value for s in CoordSystem)
        raise ValueError(f"unknown coordinate system {system!r}; expected one of: {valid}") from None


def to_wgs84_point(lon: float, lat: float, system: CoordSystem | str) -> tuple[float, float]:
    """One point's ``(lon, lat)`` in WGS-84 degrees from ``system`` (see :func:`to_wgs84`)."""
    x, y = to_wgs84(lon, lat, system)
    return float(x), float(y)


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, system: CoordSystem | str) -> _Pair:
    """Convert (lon, lat) degrees in `system` to WGS-84 (lon, lat) degrees.

    `system` is a CoordSystem or its value, case-insensitive. Floats or equal-shape arrays.
    Raises ValueError for an unknown system or mismatched shapes.
    """
    return _TO_WGS84[_system(system)](lon, lat)


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, system: CoordSystem | str) -> _Pair:
    """Convert WGS-84 (lon, lat) degrees to (lon, lat) degrees in `system`; see to_wgs84."""
    return _FROM_WGS84[_system(system)](lon, lat)


def to_wgs84_array(coords: npt.ArrayLike, system: CoordSystem | str) -> np.ndarray:
    """Convert an (N, 2) array of [lon, lat] degrees in `system` to a new (N, 2) WGS-84 array.

    Shaped for shapely.transform(geom, lambda c: to_wgs84_array(c, system)).
    Raises ValueError for an unknown system or an array not of shape (N, 2).
    """
    arr = np.asarray(coords, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"coords must have shape (N, 2), got {arr.shape}")
    lon, lat = to_wgs84(arr[:, 0], arr[:, 1], system)
    return np.column_stack((lon, lat))


def distance_m(lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike) -> Coord:
    """Great-circle (haversine) distance in metres between (lon1, lat1) and (lon2, lat2) degrees.

    Sphere of radius 6371008.8 m. Arguments broadcast (numpy rules, ValueError if they cannot);
    all-scalar input gives a float, otherwise an array.
    """
    x1, y1, x2, y2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((y2 - y1) / 2.0) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2.0) ** 2
    # Rounding can push h a hair past 1 for antipodal points, where arcsin would be NaN.
    d = 2.0 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d
