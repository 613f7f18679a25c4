"""Hostile input to a campaign visit's submission (docs/campaign.md), as from a phone: every hostile photo of
test_hostile_photos, and deep, bad UTF-8, non-finite, huge and many-part bodies. Nothing of the visit is
written (no result, no photo, the visit still pending). The corpus's contract: tests/support/corpus.py."""

import json

import pytest
from sqlalchemy import text

from tests.api.test_hostile_photos import PHOTO_CASES
from tests.support.corpus import MANY, NESTED, TOO_LARGE, TOO_MANY, VALIDATION, multipart, part, raw_json
from tests.support.photos import NO_GPS_JPEG

PHOTO_PARTS = [part(b"photos", b"x", b'; filename="a.jpg"')] * MANY
VISIT_URL = "/api/v1/campaign/visits/{visit}/submit"


@pytest.fixture
async def open_visit(client, world) -> str:  # type: ignore[no-untyped-def]
    """The submit URL of worker2's visit to a market in an open round (the real checklists)."""
    from tests.support.campaign import MARKET, add_point, import_real_checklists, make_round, open_round

    await import_real_checklists(client, world)
    market = await add_point(client, world, "H-MARKET", geometry=MARKET)
    round_ = await make_round(client, world, grid_id=world.cells["620802002"], points=[market["id"]])
    await open_round(client, world, round_["id"])
    return VISIT_URL.format(visit=round_["visits"][0]["id"])


def visit_part(**changed: object) -> bytes:
    from tests.support.campaign import with_results

    failing = {"result": "noncompliant", "note": "占道", "photos": ["p.jpg"]}
    return json.dumps({"results": with_results("NMSC", NM_13=failing), **changed}).encode()


async def untouched(session) -> None:  # type: ignore[no-untyped-def]
    counts = [
        (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
        for t in ("campaign_results", "campaign_visit_photos")
    ]
    statuses = (await session.execute(text("SELECT DISTINCT status FROM campaign_visits"))).scalars().all()
    assert counts == [0, 0] and statuses == ["pending"]


@pytest.mark.parametrize(("make", "status", "code"), PHOTO_CASES)
async def test_hostile_photos_on_a_visit(attack, session, open_visit, make, status, code) -> None:  # type: ignore[no-untyped-def]
    photo = part(b"photos", make(), b'; filename="p.jpg"')
    await attack(
        "POST", open_visit, "worker2", status, code, **multipart(part(b"visit", visit_part()), photo)
    )
    await untouched(session)


GOOD_PHOTO = part(b"photos", NO_GPS_JPEG.read_bytes(), b'; filename="p.jpg"')


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        pytest.param(multipart(part(b"visit", NESTED), GOOD_PHOTO), *VALIDATION, id="deep-visit-part"),
        pytest.param(raw_json(NESTED), *VALIDATION, id="deep-json-body"),
        pytest.param(
            multipart(part(b"visit", b'{"results": "\xff\xfe"}'), GOOD_PHOTO), *VALIDATION, id="bad-utf8"
        ),
        pytest.param(
            multipart(part(b"visit", visit_part(lat=float("nan"), lon=1.0)), GOOD_PHOTO),  # json writes NaN
            *VALIDATION,
            id="nan-lat",
        ),
        pytest.param(
            multipart(part(b"visit", visit_part()[:-1] + b', "lat": 1e999, "lon": 106.6}'), GOOD_PHOTO),
            *VALIDATION,
            id="lat-1e999",
        ),
        pytest.param(
            multipart(
                part(
                    b"visit",
                    b'{"results": [{"item": "NM-13", "result": "noncompliant", "note": "%s"}]}'
                    % (b"x" * 300_000),
                )
            ),
            *TOO_LARGE,
            id="note-300k",
        ),
        pytest.param(
            multipart(
                part(
                    b"visit",
                    b'{"results": [{"item": "NM-13", "result": "noncompliant", "note": "a\\u0000b"}]}',
                )
            ),
            *VALIDATION,
            id="note-nul",
        ),
        pytest.param(multipart(part(b"visit", visit_part()), *PHOTO_PARTS), *TOO_MANY, id="5000-photos"),
        pytest.param(multipart(*[part(b"visit", visit_part())] * MANY), *TOO_MANY, id="5000-visit-parts"),
        pytest.param(
            multipart(part(b"visit", visit_part()), part(b"x", b"1")), 422, "unknown_part", id="unknown-part"
        ),
        pytest.param(
            multipart(part(b"visit", visit_part()), GOOD_PHOTO, GOOD_PHOTO), *VALIDATION, id="same-name-twice"
        ),
        pytest.param(
            multipart(
                part(b"visit", visit_part()),
                part(b"photos", NO_GPS_JPEG.read_bytes(), b'; filename="../../etc/p.jpg"'),
            ),
            *VALIDATION,
            id="traversal-name-not-referenced",
        ),
    ],
)
async def test_hostile_visit_bodies(attack, session, open_visit, request_, status, code) -> None:  # type: ignore[no-untyped-def]
    await attack("POST", open_visit, "worker2", status, code, **request_)
    await untouched(session)
