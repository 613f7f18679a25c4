"""A cell's subtree as a byte-order range over materialised paths (app.grids.models.subtree)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import column, create_engine, select, text

from app.grids.models import subtree

PATHS = st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=6).map(
    lambda ids: "/" + "/".join(map(str, ids)) + "/"
)


@given(root=PATHS, others=st.lists(PATHS, max_size=30))
def test_the_range_holds_exactly_the_paths_below_the_root(root: str, others: list[str]) -> None:
    below = [root + tail for tail in others]  # real descendants, at any depth
    candidates = sorted(set(others + below + [root, root[:-1], root[:-1] + "0/", root[:-1] + "9/"]))
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (path TEXT)"))
        conn.execute(text("INSERT INTO t VALUES (:p)"), [{"p": p} for p in candidates])
        got = set(
            conn.execute(
                select(column("path")).select_from(text("t")).where(subtree(column("path"), root))
            ).scalars()
        )
    assert got == {p for p in candidates if p.startswith(root)}


def test_a_path_without_its_final_slash_is_refused() -> None:
    with pytest.raises(ValueError, match="not a materialised path"):
        subtree(column("path"), "/1/5")
