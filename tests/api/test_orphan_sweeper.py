"""The orphan sweeper (``grid-inspector sweep-orphans``): files of referenced photos stay whatever their
age, orphans older than the grace period go, younger ones (an upload in flight) stay, stale ``.tmp-*``
files go, a dry run deletes nothing; on a local directory and on S3 (moto), against the real database."""

import hashlib
import os
import time
from pathlib import Path

import pytest

from app.core.config import Settings, StorageSettings
from app.main import create_app
from app.photos.storage import LocalStorage, S3Storage, key_for
from app.photos.sweeper import sweep_orphans
from tests.support.cli import run
from tests.support.http import client_of
from tests.support.photos import ITALY_JPEG, NO_GPS_JPEG, jpeg_at
from tests.support.reports import REPORT, post_report

HOUR = 3600.0


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_of(storage, digest: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        key_for(v, digest)
        for v in ("originals", "thumbnails", "display")
        if storage.exists(key_for(v, digest))
    ]


def age(storage: LocalStorage, key: str, seconds: float) -> None:
    """Make a local file look last written ``seconds`` ago."""
    t = time.time() - seconds
    os.utime(storage.root / key, (t, t))


async def file_photo(app, world, photo: bytes) -> str:  # type: ignore[no-untyped-def]
    """File a real report with ``photo`` through ``app``; its sha256 (now referenced by a photos row)."""
    async for c in client_of(app):
        r = await post_report(c, world, REPORT, [("p.jpg", photo)])
    assert r.status_code == 201, r.text
    await app.state.workshop.drain()  # the display copy is made after the response
    return r.json()["photos"][0]["sha256"]


async def test_sweeper_deletes_only_files_no_row_references(client, world, app, db) -> None:  # type: ignore[no-untyped-def]
    kept = (await post_report(client, world, REPORT, [("k.jpg", NO_GPS_JPEG.read_bytes())])).json()
    workshop = app.state.workshop
    orphan = jpeg_at(1.0, 1.0)
    orphan_sha = sha(orphan)
    workshop.storage.put(f"originals/{orphan_sha[:2]}/{orphan_sha}", orphan)
    report = await sweep_orphans(workshop.storage, db, older_than=0)
    assert report.orphans_swept == 1 and orphan_sha[:16] in report.swept_sample[0]
    assert not workshop.storage.exists(f"originals/{orphan_sha[:2]}/{orphan_sha}")
    assert workshop.storage.exists(
        f"originals/{kept['photos'][0]['sha256'][:2]}/{kept['photos'][0]['sha256']}"
    )


async def test_local_sweep(app, world, db) -> None:  # type: ignore[no-untyped-def]
    """Referenced files stay whatever their age; an old orphan goes, a fresh one (an upload in flight) stays;
    stale temporaries go, fresh ones stay; keys that are not ours stay; a dry run deletes nothing."""
    storage: LocalStorage = app.state.workshop.storage
    kept = await file_photo(app, world, NO_GPS_JPEG.read_bytes())
    assert len(files_of(storage, kept)) == 3
    for key in files_of(storage, kept):
        age(storage, key, 2 * HOUR)  # referenced: its age does not matter

    old_bytes, fresh_bytes = ITALY_JPEG.read_bytes(), jpeg_at(35.54, 106.66)
    old, fresh = sha(old_bytes), sha(fresh_bytes)
    for variant in ("originals", "thumbnails"):  # what a process killed before its commit leaves
        storage.put(key_for(variant, old), old_bytes)
        age(storage, key_for(variant, old), 2 * HOUR)
        storage.put(key_for(variant, fresh), fresh_bytes)  # an upload in flight: just written
    stale_tmp, fresh_tmp = f"originals/{old[:2]}/.tmp-abc123", f"thumbnails/{old[:2]}/.tmp-def456"
    probe = ".tmp-probe-x"
    for key in (stale_tmp, fresh_tmp, probe):
        (storage.root / key).write_bytes(b"half a photo")
    age(storage, stale_tmp, 2 * HOUR)
    age(storage, probe, 2 * HOUR)
    not_ours = storage.root / "originals" / old[:2] / "notes.txt"
    not_ours.write_text("an operator's file")
    age(storage, "originals/" + old[:2] + "/notes.txt", 2 * HOUR)

    dry = await sweep_orphans(storage, db, older_than=HOUR, dry_run=True)
    assert (dry.orphans_swept, dry.orphan_files_swept, dry.orphans_kept_fresh) == (1, 2, 1)
    assert (dry.temporaries_swept, dry.temporaries_kept_fresh, dry.unknown_keys) == (2, 1, 1)
    assert (dry.stored_photos, dry.referenced, dry.missing_originals, dry.swept_sample) == (3, 1, 0, [old])
    assert (
        len(files_of(storage, old)) == 2 and (storage.root / stale_tmp).exists()
    )  # a dry run deletes nothing
    assert "would delete 1 (2 files)" in "\n".join(dry.lines())

    done = await sweep_orphans(storage, db, older_than=HOUR)
    assert (done.orphans_swept, done.orphan_files_swept, done.temporaries_swept) == (1, 2, 2)
    assert (
        files_of(storage, old) == []
        and len(files_of(storage, kept)) == 3
        and len(files_of(storage, fresh)) == 2
    )
    assert not (storage.root / stale_tmp).exists() and not (storage.root / probe).exists()
    assert (storage.root / fresh_tmp).exists() and not_ours.exists()
    assert storage.get(key_for("originals", kept)) == NO_GPS_JPEG.read_bytes()

    again = await sweep_orphans(storage, db, older_than=HOUR)
    assert (again.orphans_swept, again.temporaries_swept, again.orphans_kept_fresh) == (0, 0, 1)


async def test_reupload_refreshes_an_orphan(app, world, db) -> None:  # type: ignore[no-untyped-def]
    """An orphan whose bytes are uploaded again is fresh again (LocalStorage.put touches it), so the
    sweep cannot take the file from the new row; a row whose original is gone is reported, never hidden."""
    storage: LocalStorage = app.state.workshop.storage
    data = ITALY_JPEG.read_bytes()
    orphan = sha(data)
    storage.put(key_for("originals", orphan), data)
    age(storage, key_for("originals", orphan), 2 * HOUR)
    storage.put(key_for("originals", orphan), data)  # the same bytes again: a retried upload
    assert (await sweep_orphans(storage, db, older_than=HOUR, dry_run=True)).orphans_kept_fresh == 1

    referenced = await file_photo(app, world, data)
    assert referenced == orphan
    storage.delete(key_for("originals", referenced))
    report = await sweep_orphans(storage, db, older_than=0)
    assert (report.missing_originals, report.missing_sample, report.orphans_swept) == (1, [referenced], 0)
    assert "WARNING" in report.lines()[-1]
    with pytest.raises(ValueError):
        await sweep_orphans(storage, db, older_than=-1)


async def test_s3_sweep(monkeypatch, world, db, settings) -> None:  # type: ignore[no-untyped-def]
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    s3_settings = Settings(
        env="test",
        database=settings.database,
        auth=settings.auth,
        storage=StorageSettings(
            storage_backend="s3", s3_bucket="grid-photos", s3_region="us-east-1", s3_prefix="city"
        ),
    )
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="grid-photos")
        client.put_object(Bucket="grid-photos", Key="elsewhere/other-app-file", Body=b"not ours")
        app = create_app(settings=s3_settings, database=db)
        storage: S3Storage = app.state.workshop.storage
        kept = await file_photo(app, world, NO_GPS_JPEG.read_bytes())
        assert len(files_of(storage, kept)) == 3
        orphan_bytes = ITALY_JPEG.read_bytes()
        orphan = sha(orphan_bytes)
        storage.put(key_for("originals", orphan), orphan_bytes)
        storage.put(key_for("thumbnails", orphan), b"thumb")
        storage.put(f"display/{orphan[:2]}/.tmp-leftover", b"x")
        entry = storage.stat(key_for("originals", orphan))
        assert (
            entry is not None and entry.size == len(orphan_bytes) and abs(entry.modified - time.time()) < 120
        )

        fresh = await sweep_orphans(storage, db, older_than=HOUR)  # everything was written just now
        assert (fresh.orphans_swept, fresh.orphans_kept_fresh, fresh.temporaries_kept_fresh) == (0, 1, 1)
        later = time.time() + 2 * HOUR  # S3 sets LastModified itself: move the sweeper's clock instead
        dry = await sweep_orphans(storage, db, older_than=HOUR, dry_run=True, now=later)
        assert (dry.orphans_swept, dry.orphan_files_swept, dry.temporaries_swept) == (1, 2, 1)
        assert len(files_of(storage, orphan)) == 2
        done = await sweep_orphans(storage, db, older_than=HOUR, now=later)
        assert (done.orphans_swept, done.referenced, done.stored_photos, done.unknown_keys) == (1, 1, 2, 0)
        assert files_of(storage, orphan) == [] and len(files_of(storage, kept)) == 3
        assert storage.stat(f"display/{orphan[:2]}/.tmp-leftover") is None
        assert (
            client.get_object(Bucket="grid-photos", Key="elsewhere/other-app-file")["Body"].read()
            == b"not ours"
        )


def test_command_line(tmp_path: Path) -> None:
    """``grid-inspector sweep-orphans`` as an operator runs it, on a fresh SQLite file."""
    storage = LocalStorage(tmp_path / "storage")
    data = ITALY_JPEG.read_bytes()
    key = key_for("originals", sha(data))
    storage.put(key, data)
    age(storage, key, 2 * HOUR)
    env = {"GRID_STORAGE_DIR": str(tmp_path / "storage")}
    assert run(tmp_path, "migrate").returncode == 0
    r = run(tmp_path, "sweep-orphans", "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    assert "dry run" in r.stdout and "would delete 1 (1 files)" in r.stdout and storage.exists(key)
    r = run(tmp_path, "sweep-orphans", "--older-than", str(3 * HOUR), env=env)
    assert r.returncode == 0 and "deleted 0 (0 files), kept 1" in r.stdout and storage.exists(key)
    r = run(tmp_path, "sweep-orphans", env=env)
    assert r.returncode == 0 and "deleted 1 (1 files)" in r.stdout and not storage.exists(key)
    assert run(tmp_path, "sweep-orphans", "--older-than", "-5", env=env).returncode == 2


def test_the_command_refuses_a_short_grace_period_unless_servers_are_stopped(tmp_path: Path) -> None:
    """An upload in flight has files but no row yet: a short grace period would delete them under it."""
    storage = LocalStorage(tmp_path / "storage")
    data = ITALY_JPEG.read_bytes()
    key = key_for("originals", sha(data))
    storage.put(key, data)
    env = {"GRID_STORAGE_DIR": str(tmp_path / "storage")}
    assert run(tmp_path, "migrate").returncode == 0
    r = run(tmp_path, "sweep-orphans", "--older-than", "0", env=env)
    assert r.returncode == 2 and "--servers-stopped" in r.stderr and storage.exists(key)
    r = run(tmp_path, "sweep-orphans", "--older-than", "0", "--servers-stopped", env=env)
    assert r.returncode == 0 and "deleted 1 (1 files)" in r.stdout and not storage.exists(key)
