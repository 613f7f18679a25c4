"""Photo storage backends (app/photos/storage.py) and the promise that a failed request leaves no file behind."""

import hashlib

import pytest
from fastapi import Request

from app.core.deps import HooksDep, SessionDep
from app.core.errors import Conflict
from app.photos.multipart import Part
from app.photos.storage import LocalStorage, S3Storage, key_for
from tests.support.http import client_of
from tests.support.photos import NO_GPS_JPEG


def exercise(storage) -> None:  # type: ignore[no-untyped-def]
    data = NO_GPS_JPEG.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = key_for("originals", sha)
    assert storage.get(key) is None and not storage.exists(key)
    storage.put(key, data)
    storage.put(key, data)  # content-addressed: writing the same key again is harmless
    assert storage.get(key) == data and storage.exists(key) and storage.keys("originals") == [key]
    storage.delete(key)
    assert storage.get(key) is None and storage.writable()


def test_local_storage(tmp_path) -> None:  # type: ignore[no-untyped-def]
    exercise(LocalStorage(tmp_path))
    with pytest.raises(ValueError):
        LocalStorage(tmp_path)._path("../escape")
    with pytest.raises(ValueError):
        key_for("originals", "../../etc/passwd")


def test_s3_storage_against_an_s3_api(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="grid-photos")
        exercise(S3Storage("grid-photos", region="us-east-1", prefix="city"))


async def test_files_written_for_a_failed_request_are_swept(app, world, session) -> None:  # type: ignore[no-untyped-def]
    """A request that stored photos and then failed (here: an error after the write) keeps no file."""
    data = NO_GPS_JPEG.read_bytes()
    sha = hashlib.sha256(data).hexdigest()

    @app.post("/_store_then_fail")
    async def store_then_fail(request: Request, s: SessionDep, hooks: HooksDep) -> None:
        workshop = request.app.state.workshop
        photos = await workshop.ingest(
            [Part(name="photos", filename="a.jpg", content_type="image/jpeg", data=bytearray(data))]
        )
        await workshop.store(photos, hooks, request.app.state.db)
        assert workshop.storage.exists(key_for("originals", sha))
        raise Conflict("something after the write failed")

    async for c in client_of(app):
        r = await c.post("/_store_then_fail")
    assert r.status_code == 409
    storage = app.state.workshop.storage
    assert not storage.exists(key_for("originals", sha)) and not storage.exists(key_for("thumbnails", sha))


async def test_a_failed_request_keeps_files_another_request_stored_meanwhile(app, db) -> None:  # type: ignore[no-untyped-def]
    """Two requests carry the same photo: A writes it first and fails, C stored the same bytes in between
    and commits later. A must not delete what C's row will name (files are shared by content)."""
    from app.core.deps import Hooks

    data = NO_GPS_JPEG.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    workshop = app.state.workshop
    photos = await workshop.ingest(
        [Part(name="photos", filename="a.jpg", content_type="image/jpeg", data=bytearray(data))]
    )
    a, c = Hooks(), Hooks()
    await workshop.store(photos, a, db)  # A creates the files
    await workshop.store(photos, c, db)  # C, still in flight, stores the same bytes
    await Hooks.run(a.on_rollback)  # A's commit failed
    for variant in ("originals", "thumbnails"):
        assert workshop.storage.exists(key_for(variant, sha))
    # Alone, a failed request does clean up after itself.
    other = NO_GPS_JPEG.read_bytes() + b"\xff\xd9"  # other bytes, so another file
    photos = await workshop.ingest(
        [Part(name="photos", filename="b.jpg", content_type="image/jpeg", data=bytearray(other))]
    )
    alone = Hooks()
    await workshop.store(photos, alone, db)
    await Hooks.run(alone.on_rollback)
    assert not workshop.storage.exists(key_for("originals", photos[0].facts.sha256))
