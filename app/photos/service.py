"""Photos through the request: check and store them, flag weak evidence, serve EXIF-free copies."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import metrics
from app.core.config import Settings
from app.core.db import Database
from app.core.deps import Hooks
from app.core.errors import AppError
from app.geo.coords import distance_m
from app.photos import pipeline
from app.photos.models import Photo
from app.photos.multipart import Part
from app.photos.storage import LocalStorage, S3Storage, Storage, key_for

log = logging.getLogger("grid_inspector.photos")


class PhotoRefused(AppError):
    """A photo part the pipeline refused; status and code come from the pipeline's error."""

    def __init__(self, index: int, error: pipeline.PhotoError) -> None:
        super().__init__(f"photo {index + 1}: {error.detail}",
                         errors=[{"loc": ["photos", index], "field": f"photos.{index}", "msg": error.detail,
                                  "type": error.code}])
        self.status, self.code = error.status, error.code
        self.title = {"unsupported_image_format": "Unsupported image format", "image_too_large": "Image too large",
                      "empty_image": "Empty photo"}.get(error.code, "Corrupt image")


@dataclass
class Ingested:
    """A checked photo, ready to be stored and attached."""

    index: int
    raw: bytes
    filename: str | None
    processed: pipeline.Processed

    @property
    def facts(self) -> pipeline.PhotoFacts:
        return self.processed.facts


class PhotoWorkshop:
    """The bounded thread pool and the storage shared by a process's photo endpoints."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=settings.photos.photo_workers, thread_name_prefix="photo")
        self.storage = storage or make_storage(settings)
        self._background: set[asyncio.Task[None]] = set()

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background work (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    async def ingest(self, parts: Sequence[Part]) -> list[Ingested]:
        """Check every photo part (format by bytes, integrity, limits) and read its EXIF; 4xx on the first bad one."""
        tz = self.settings.workflow_tz
        out = []
        for index, part in enumerate(parts):
            try:
                with metrics.PHOTO.time():
                    processed = await self.run(pipeline.process, bytes(part.data),
                                               max_pixels=self.settings.photos.max_photo_pixels, local_tz=tz)
            except pipeline.PhotoError as exc:
                raise PhotoRefused(index, exc) from exc
            out.append(Ingested(index=index, raw=bytes(part.data), filename=part.filename, processed=processed))
        return out

    async def store(self, photos: Sequence[Ingested], hooks: Hooks, db: Database) -> None:
        """Write originals and thumbnails before the commit; if the commit fails, delete those this request
        created, unless a row references them or another request stored the same bytes since."""
        created: dict[str, float] = {}  # key -> the modification time this request gave it
        shas: list[str] = []
        for photo in photos:
            for variant, data in (("originals", photo.raw), ("thumbnails", photo.processed.thumbnail)):
                key = key_for(variant, photo.facts.sha256)
                modified = await self.run(self.storage.put, key, data)
                if modified is not None:
                    created[key] = modified
            shas.append(photo.facts.sha256)
        shas = sorted(set(shas))

        async def sweep() -> None:
            try:
                await self._sweep_created(db, created)
            except (DBAPIError, OSError) as exc:
                # Often why the request failed: the database is unreachable. Whether another row references
                # these files cannot be told now, so they stay; a retry of the request adopts them, and
                # `grid-inspector sweep-orphans` removes them once they are older than its grace period.
                log.warning("files of %d photo(s) of a failed request kept, the database did not answer (%s); "
                            "sweep-orphans removes them if no retry adopts them", len(shas), type(exc).__name__)

        async def make_display_copies() -> None:
            for sha in shas:
                self.spawn(self.ensure_display(sha))

        hooks.on_rollback.append(sweep)
        hooks.after_commit.append(make_display_copies)

    async def _sweep_created(self, db: Database, created: dict[str, float]) -> None:
        # Content-addressed files are shared: a concurrent request may have stored the same bytes and
        # commit later. It refreshed the file's time when it did, so a file whose time moved is kept.
        if not created:
            return
        shas = sorted({key.rsplit("/", 1)[1] for key in created})
        async with db.sessionmaker() as session:
            kept = set((await session.execute(select(Photo.sha256).where(Photo.sha256.in_(shas)))).scalars())
        for key, modified in created.items():
            if key.rsplit("/", 1)[1] in kept:
                continue
            entry = await self.run(self.storage.stat, key)
            if entry is not None and entry.modified == modified:
                await self.run(self.storage.delete, key)

    async def _get_or_make(self, variant: str, sha256: str, make: Any) -> bytes | None:
        """A derivative from storage, or made from the original and stored (a crash never loses one)."""
        key = key_for(variant, sha256)
        data = await self.run(self.storage.get, key)
        if data is not None:
            return data
        original = await self.run(self.storage.get, key_for("originals", sha256))
        if original is None:
            return None
        try:
            data = await self.run(make, original)
        except pipeline.PhotoError:
            log.exception("%s copy failed for %s", variant, sha256)
            return None
        await self.run(self.storage.put, key, data)
        return data

    async def ensure_display(self, sha256: str) -> bytes | None:
        """The display copy (<= 1600 px), made from the original if it is missing."""
        max_pixels = self.settings.photos.max_photo_pixels
        return await self._get_or_make("display", sha256, lambda raw: pipeline.display_copy(raw, max_pixels=max_pixels))

    async def thumbnail(self, sha256: str) -> bytes | None:
        """The thumbnail (<= 320 px), made from the original if it is missing."""
        max_pixels, tz = self.settings.photos.max_photo_pixels, self.settings.workflow_tz
        return await self._get_or_make(
            "thumbnails", sha256, lambda raw: pipeline.process(raw, max_pixels=max_pixels, local_tz=tz).thumbnail)

    async def original_without_metadata(self, sha256: str) -> tuple[bytes, str] | None:
        original = await self.run(self.storage.get, key_for("originals", sha256))
        if original is None:
            return None
        return await self.run(pipeline.stripped_original, original, max_pixels=self.settings.photos.max_photo_pixels)


def make_storage(settings: Settings) -> Storage:
    s = settings.storage
    if s.storage_backend == "s3":
        return S3Storage(s.s3_bucket, endpoint_url=s.s3_endpoint_url, region=s.s3_region, prefix=s.s3_prefix)
    return LocalStorage(s.storage_dir)


async def attach(session: AsyncSession, *, case_id: int, photos: Sequence[Ingested], stage: str,
                 uploader_id: int | None, event_id: int | None, point: tuple[float, float], reported_at: dt.datetime,
                 settings: Settings) -> list[Photo]:
    """Photo rows for a case with the evidence checks of DOMAIN.md as flags.

    ``point`` is the case's (lat, lon) WGS-84. Flags: ``far_from_report`` (EXIF position more than
    ``photo_far_m`` metres away), ``taken_before_report`` (EXIF time more than ``photo_old_hours``
    before ``reported_at``), ``reused_photo`` (the same bytes on another case), ``no_exif_gps``,
    ``exif_unreadable``.
    """
    shas = [p.facts.sha256 for p in photos]
    reused = set((await session.execute(
        select(Photo.sha256).where(Photo.sha256.in_(shas), Photo.case_id != case_id).group_by(Photo.sha256)
    )).scalars()) if shas else set()
    rows = []
    for photo in photos:
        f = photo.facts
        flags: list[str] = []
        distance = None
        if f.gps_lat is not None and f.gps_lon is not None:
            distance = round(float(distance_m(point[1], point[0], f.gps_lon, f.gps_lat)), 1)
            if distance > settings.photos.photo_far_m:
                flags.append("far_from_report")
        else:
            flags.append("no_exif_gps")
        if f.taken_at is not None and reported_at - f.taken_at > dt.timedelta(hours=settings.photos.photo_old_hours):
            flags.append("taken_before_report")
        if f.sha256 in reused:
            flags.append("reused_photo")
        if f.exif_problems:
            flags.append("exif_unreadable")
        row = Photo(case_id=case_id, event_id=event_id, stage=stage, sha256=f.sha256, format=f.format,
                    size_bytes=f.size_bytes, width=f.width, height=f.height, taken_at=f.taken_at, gps_lat=f.gps_lat,
                    gps_lon=f.gps_lon, make=f.make, model=f.model, original_filename=photo.filename,
                    uploaded_by_id=uploader_id, flags=flags, distance_m=distance)
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


async def photos_of(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[Photo]]:
    out: dict[int, list[Photo]] = {cid: [] for cid in case_ids}
    if case_ids:
        rows = await session.execute(select(Photo).where(Photo.case_id.in_(list(case_ids))).order_by(Photo.id))
        for photo in rows.scalars():
            out[photo.case_id].append(photo)
    return out
