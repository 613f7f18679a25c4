"""Tests for app.geo.coords (WGS-84 / GCJ-02 / BD-09 conversions)."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from app.geo.coords import (
    CoordSystem,
    bd09_to_gcj02,
    bd09_to_wgs84,
    distance_m,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    to_wgs84_array,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

CONVERSIONS = [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84]
R = 6371008.8

# ---------------------------------------------------------------------------
# Published test vectors, all as (lon, lat) -> (lon, lat). Sources list (lat, lng) in some
# files; they are reordered here.
# ---------------------------------------------------------------------------

# WGS-84 -> GCJ-02.
WGS_GCJ_PAIRS = [
    # googollee/eviltransform python/test.py (also go/transform_test.go, javascript/test.js),
    # asserted there to 6 decimal places.
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
    # wandergis/coordtransform test/app.js: wgs84togcj02(116.404, 39.915).
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # hujiulong/gcoord test/unit/crs/WGS84.spec.ts: WGS84 -> GCJ02 of [123, 45].
    ((123.0, 45.0), (123.00607541, 45.00197815)),
]

# GCJ-02 -> BD-09 (forward Baidu formula).
GCJ_BD_PAIRS = [
    # wandergis/coordtransform test/app.js: gcj02tobd09(116.404, 39.915).
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.ts: GCJ02 -> BD09 of [123, 45].
    ((123.0, 45.0), (123.00636499, 45.00636899)),
    # hujiulong/gcoord test/fixtures/china-cities.json (GCJ02 and BD09 fields, 7 decimals).
    ((114.022306, 33.0115324), (114.0287781, 33.0176697)),  # Zhumadian
    ((92.0512438, 31.4762063), (92.0576832, 31.4824421)),  # Nagqu
    ((123.4314787, 41.8057023), (123.438095, 41.8114013)),  # Shenyang
]

# BD-09 -> GCJ-02 (Baidu's published inverse).
BD_GCJ_PAIRS = [
    # wandergis/coordtransform test/app.js: bd09togcj02(116.404, 39.915).
    ((116.404, 39.915), (116.39762729119315, 39.90865673957631)),
    # hujiulong/gcoord test/unit/crs/BD09.spec.ts: BD09 -> GCJ02 of [123, 45].
    ((123.0, 45.0), (122.99363304, 44.9936543)),
]

# GCJ-02 -> WGS-84 and BD-09 -> WGS-84 from gcoord, whose inverse iterates until the
# GCJ residual is below 1e-6 degree (its own tests assert 5 decimals; we assert 1e-6).
GCOORD_INVERSE = [
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.ts: GCJ02 -> WGS84 of [123, 45].
    (gcj02_to_wgs84, (123.0, 45.0), (122.99395597, 44.99804071)),
    # hujiulong/gcoord test/unit/crs/BD09.spec.ts: BD09 -> WGS84 of [123, 45].
    (bd09_to_wgs84, (123.0, 45.0), (122.9876221, 44.9917154)),
]

OUTSIDE = [(12.4964, 41.9028), (-74.006, 40.7128), (0.0, 0.0), (151.2093, -33.8688), (139.6917, 35.6895)]


def _assert_pair(got, expected, tol):
    assert abs(got[0] - expected[0]) <= tol, (got, expected)
    assert abs(got[1] - expected[1]) <= tol, (got, expected)


# ---------------------------------------------------------------------------
# Known values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_wgs84_to_gcj02_known(wgs, gcj):
    _assert_pair(wgs84_to_gcj02(*wgs), gcj, 1e-6)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_gcj02_to_wgs84_inverts_known(wgs, gcj):
    # eviltransform's own tests only require its "exact" inverse to land within 0.5 m.
    assert distance_m(*gcj02_to_wgs84(*gcj), *wgs) < 0.01


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD_PAIRS)
def test_gcj02_to_bd09_known(gcj, bd):
    _assert_pair(gcj02_to_bd09(*gcj), bd, 1e-6)


@pytest.mark.parametrize(("bd", "gcj"), BD_GCJ_PAIRS)
def test_bd09_to_gcj02_known(bd, gcj):
    _assert_pair(bd09_to_gcj02(*bd), gcj, 1e-6)


@pytest.mark.parametrize(("func", "src", "expected"), GCOORD_INVERSE)
def test_inverse_to_wgs84_known(func, src, expected):
    _assert_pair(func(*src), expected, 1e-6)


def test_coord_system_values():
    assert [s.value for s in CoordSystem] == ["wgs84", "gcj02", "bd09"]
    assert CoordSystem("gcj02") is CoordSystem.gcj02


# ---------------------------------------------------------------------------
# Round trips and sanity (hypothesis)
# ---------------------------------------------------------------------------

china_lon = st.floats(min_value=73.0, max_value=135.0)
china_lat = st.floats(min_value=18.0, max_value=53.0)


@settings(deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_within_half_metre(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert distance_m(*back, lon, lat) < 0.5


@settings(deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trip_within_half_metre(lon, lat):
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert distance_m(*back, lon, lat) < 0.5
    back_gcj = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert distance_m(*back_gcj, lon, lat) < 0.5


def test_gcj02_inverse_is_sub_millimetre_everywhere():
    # The iterative inverse must beat the one-step inverse (metres off) by far.
    rng = np.random.default_rng(20240501)
    lon, lat = rng.uniform(73, 135, 200_000), rng.uniform(18, 53, 200_000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(distance_m(*back, lon, lat)) < 1e-3


MAINLAND_BOXES = [(110.0, 122.0, 22.0, 40.0), (122.0, 134.0, 40.0, 53.0), (75.0, 100.0, 28.0, 45.0)]


@settings(deadline=None)
@given(st.sampled_from(MAINLAND_BOXES), st.floats(0, 1), st.floats(0, 1))
def test_gcj02_offset_is_plausible(box, fx, fy):
    lon = box[0] + fx * (box[1] - box[0])
    lat = box[2] + fy * (box[3] - box[2])
    assert 1.0 < distance_m(*wgs84_to_gcj02(lon, lat), lon, lat) < 1000.0


# ---------------------------------------------------------------------------
# Outside China
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("point", OUTSIDE)
@pytest.mark.parametrize("func", CONVERSIONS)
def test_outside_china_unchanged(func, point):
    assert out_of_china(*point) is True
    assert func(*point) == point


@pytest.mark.parametrize("system", list(CoordSystem))
def test_dispatchers_outside_china_unchanged(system):
    for point in OUTSIDE:
        assert to_wgs84(*point, system) == point
        assert from_wgs84(*point, system) == point


def test_out_of_china_rectangle_edges():
    assert out_of_china(72.004, 30.0) is False
    assert out_of_china(137.8347, 55.8271) is False
    assert out_of_china(72.0039, 30.0) is True
    assert out_of_china(110.0, 55.8272) is True
    mask = out_of_china(np.array([116.4, 12.5, 137.9]), np.array([39.9, 41.9, 30.0]))
    assert mask.tolist() == [False, True, True]


# ---------------------------------------------------------------------------
# Scalars vs arrays
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("func", CONVERSIONS)
def test_float_in_float_out(func):
    lon, lat = func(116.404, 39.915)
    assert type(lon) is float and type(lat) is float
    lon, lat = func(116, 40)  # ints are accepted too
    assert type(lon) is float and type(lat) is float


points = st.lists(
    st.tuples(st.floats(min_value=60.0, max_value=150.0), st.floats(min_value=-10.0, max_value=65.0)),
    min_size=1,
    max_size=30,
)


@settings(deadline=None)
@given(points)
def test_array_matches_elementwise(pts):
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    for func in CONVERSIONS:
        alon, alat = func(lon, lat)
        assert isinstance(alon, np.ndarray) and alon.shape == lon.shape
        expected = np.array([func(x, y) for x, y in pts])
        # The iteration stops on the whole array, so inverse results may differ by ~1e-12.
        np.testing.assert_allclose(alon, expected[:, 0], rtol=0, atol=1e-9)
        np.testing.assert_allclose(alat, expected[:, 1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("func", CONVERSIONS)
def test_mixed_array_converts_only_inside_points(func):
    lon = np.array([116.404, 12.4964, 121.4737, -74.006, 0.0])
    lat = np.array([39.915, 41.9028, 31.2304, 40.7128, 0.0])
    inside = ~out_of_china(lon, lat)
    assert inside.tolist() == [True, False, True, False, False]
    out_lon, out_lat = func(lon, lat)
    assert np.array_equal(out_lon[~inside], lon[~inside])
    assert np.array_equal(out_lat[~inside], lat[~inside])
    for i in np.flatnonzero(inside):
        x, y = func(float(lon[i]), float(lat[i]))
        assert (x, y) != (lon[i], lat[i])
        assert abs(out_lon[i] - x) < 1e-9 and abs(out_lat[i] - y) < 1e-9


def test_multidimensional_arrays_keep_shape():
    lon = np.full((2, 3), 116.404)
    lat = np.full((2, 3), 39.915)
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (2, 3) and out_lat.shape == (2, 3)
    assert np.allclose(out_lon, gcj02_to_wgs84(116.404, 39.915)[0], rtol=0, atol=1e-12)


def test_array_input_is_not_modified():
    lon, lat = np.array([116.404, 121.4737]), np.array([39.915, 31.2304])
    lon_copy, lat_copy = lon.copy(), lat.copy()
    for func in CONVERSIONS:
        func(lon, lat)
    assert np.array_equal(lon, lon_copy) and np.array_equal(lat, lat_copy)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        wgs84_to_gcj02(np.zeros(3), np.zeros(2))


def test_non_finite_input_does_not_warn():
    with np.errstate(all="raise"):
        lon, lat = gcj02_to_wgs84(np.array([np.inf, 116.4]), np.array([0.0, 39.9]))
    assert lon[0] == np.inf and lat[0] == 0.0
    assert np.isfinite(lon[1]) and np.isfinite(lat[1])


# ---------------------------------------------------------------------------
# Dispatchers and shapely
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "to_func", "from_func"),
    [("gcj02", gcj02_to_wgs84, wgs84_to_gcj02), ("bd09", bd09_to_wgs84, wgs84_to_bd09)],
)
def test_dispatchers_match_direct_functions(system, to_func, from_func):
    for sys_arg in (system, system.upper(), CoordSystem(system)):
        assert to_wgs84(116.404, 39.915, sys_arg) == to_func(116.404, 39.915)
        assert from_wgs84(116.404, 39.915, sys_arg) == from_func(116.404, 39.915)


def test_wgs84_dispatch_is_identity():
    assert to_wgs84(116.404, 39.915, "wgs84") == (116.404, 39.915)
    assert from_wgs84(116.404, 39.915, CoordSystem.wgs84) == (116.404, 39.915)
    lon = np.array([116.404])
    out_lon, _ = to_wgs84(lon, np.array([39.915]), "wgs84")
    out_lon[0] = 0.0  # must be a copy, not the caller's array
    assert lon[0] == 116.404


@pytest.mark.parametrize("bad", ["utm", "", "bd09mc", "wgs-84", None, 42])
def test_unknown_system_raises(bad):
    with pytest.raises(ValueError):
        to_wgs84(116.404, 39.915, bad)
    with pytest.raises(ValueError):
        from_wgs84(116.404, 39.915, bad)
    with pytest.raises(ValueError):
        to_wgs84_array(np.array([[116.404, 39.915]]), bad)


def test_to_wgs84_array_shape_checked():
    with pytest.raises(ValueError):
        to_wgs84_array(np.zeros((3, 3)), "gcj02")
    with pytest.raises(ValueError):
        to_wgs84_array(np.zeros(2), "gcj02")


def test_to_wgs84_array_with_shapely_transform():
    ring = [(116.39, 39.90), (116.42, 39.90), (116.42, 39.93), (116.39, 39.93)]
    poly = Polygon(ring)
    out = shapely.transform(poly, lambda c: to_wgs84_array(c, "gcj02"))
    got = np.asarray(out.exterior.coords)
    expected = np.array([gcj02_to_wgs84(x, y) for x, y in poly.exterior.coords])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------
# Distance
# ---------------------------------------------------------------------------


def test_distance_analytic_values():
    assert distance_m(116.4, 39.9, 116.4, 39.9) == 0.0
    assert distance_m(10.0, 0.0, 10.0, 1.0) == pytest.approx(R * math.pi / 180, rel=1e-12)
    assert distance_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(R * math.pi / 180, rel=1e-12)
    assert distance_m(0.0, 0.0, 0.0, 90.0) == pytest.approx(R * math.pi / 2, rel=1e-12)
    assert distance_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(R * math.pi, rel=1e-12)
    assert type(distance_m(0.0, 0.0, 1.0, 1.0)) is float


def test_distance_vectorised_and_symmetric():
    lon = np.array([116.4, 121.47, 113.9])
    lat = np.array([39.9, 31.23, 22.54])
    d = distance_m(lon, lat, 116.4, 39.9)  # broadcasts against one point
    assert isinstance(d, np.ndarray) and d.shape == (3,)
    assert d[0] == 0.0
    np.testing.assert_allclose(d, distance_m(116.4, 39.9, lon, lat), rtol=1e-12)
    assert [distance_m(x, y, 116.4, 39.9) for x, y in zip(lon, lat, strict=True)] == pytest.approx(d.tolist())
