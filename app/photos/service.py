"""Photos through the request: check and store them, flag weak evidence, serve EXIF-free copies."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import metrics
from app.core.config import Settings
from app.core.db import Database
from app.core.deps import Hooks
from app.core.errors import AppError
from app.core.i18n import Text
from app.geo.coords import distance_m
from app.photos import pipeline
from app.photos.gate import MemoryGate, is_heavy, lower_priority
from app.photos.models import Photo
from app.photos.multipart import Part
from app.photos.storage import LocalStorage, S3Storage, Storage, key_for

log = logging.getLogger("grid_inspector.photos")
MiB = pipeline.MiB


class PhotoRefused(AppError):
    """A photo part the pipeline refused; status and code come from the pipeline's error."""

    title, title_zh = "A photo was refused", "照片无法接受"

    def __init__(self, index: int, error: pipeline.PhotoError) -> None:
        super().__init__(
            Text(f"第 {index + 1} 张照片：{error.zh}", f"photo {index + 1}: {error.detail}"),
            errors=[
                {
                    "loc": ["photos", index],
                    "field": f"photos.{index}",
                    "msg": error.detail,
                    "type": error.code,
                }
            ],
        )
        self.status, self.code = error.status, error.code
        self.title, self.title_zh = {
            "unsupported_image_format": ("Unsupported image format", "不支持的照片格式"),
            "image_too_large": ("Image too large", "照片像素过多"),
            "image_too_complex": ("Image too complex to decode", "照片结构过于复杂，无法解码"),
            "empty_image": ("Empty photo", "照片为空"),
        }.get(error.code, ("Corrupt image", "照片已损坏"))


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
    """The bounded thread pool and the storage shared by a process's photo endpoints.

    Every decode goes through :meth:`decode`: the photo's structure is inspected first (cheap, refuses
    what is over budget), then the job waits at the :class:`MemoryGate` for its estimated memory.
    Derivatives are made once and kept: concurrent requests for a missing one share one making.
    """

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        p = settings.photos
        self.pool = ThreadPoolExecutor(max_workers=p.photo_workers, thread_name_prefix="photo")
        heavy_slots = max(1, p.photo_workers - 1)
        # Heavy decodes run on threads of their own at a lower priority, so that on a busy machine the
        # event loop and light photos get the processor first (a light upload's latency is the point).
        self.heavy_pool = ThreadPoolExecutor(
            max_workers=heavy_slots, thread_name_prefix="photo-heavy", initializer=lower_priority
        )
        self.storage = storage or make_storage(settings)
        self.budget = budget_of(settings)
        self.gate = MemoryGate(max(p.photo_memory_mb * MiB, self.budget.max_memory), heavy_slots)
        self._background: set[asyncio.Task[Any]] = set()
        self._making: dict[str, asyncio.Task[bytes | None]] = {}

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    async def decode(self, fn: Any, data: bytes, **kwargs: Any) -> Any:
        """``fn(data, budget=..., plan=..., **kwargs)`` on a photo thread once the gate admits it;
        raises :class:`pipeline.PhotoError` for a photo over budget."""
        plan = await self.run(pipeline.inspect, data, self.budget)
        pool = self.heavy_pool if is_heavy(plan) else self.pool
        async with self.gate.admit(plan):
            return await asyncio.get_running_loop().run_in_executor(
                pool, lambda: fn(data, budget=self.budget, plan=plan, **kwargs)
            )

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def drain(self) -> None:
        """Wait for background work (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.heavy_pool.shutdown(wait=True)

    async def ingest(self, parts: Sequence[Part]) -> list[Ingested]:
        """Check every photo part (format by bytes, integrity, limits) and read its EXIF; 4xx on the first bad one."""
        out = []
        for index, part in enumerate(parts):
            raw = bytes(part.data)
            try:
                with metrics.PHOTO.time():
                    processed = await self.decode(pipeline.process, raw, local_tz=self.settings.workflow_tz)
            except pipeline.PhotoError as exc:
                raise PhotoRefused(index, exc) from exc
            out.append(Ingested(index=index, raw=raw, filename=part.filename, processed=processed))
        return out

    async def store(self, photos: Sequence[Ingested], hooks: Hooks, db: Database) -> None:
        """Write originals, thumbnails and display copies made on the way before the commit; if the
        commit fails, delete those this request created, unless a row references them or another request
        stored the same bytes since. Display copies still missing are made after the commit."""
        created: dict[str, float] = {}  # key -> the modification time this request gave it
        shas: list[str] = []
        for photo in photos:
            copies = [("originals", photo.raw), ("thumbnails", photo.processed.thumbnail)]
            if photo.processed.display is not None:
                copies.append(("display", photo.processed.display))
            for variant, data in copies:
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
                log.warning(
                    "files of %d photo(s) of a failed request kept, the database did not answer (%s); "
                    "sweep-orphans removes them if no retry adopts them",
                    len(shas),
                    type(exc).__name__,
                )

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
        """A derivative from storage, or made from the original with ``make`` (a pipeline function) and
        stored (a crash never loses one); one making at a time per derivative, shared by its callers."""
        key = key_for(variant, sha256)
        data = await self.run(self.storage.get, key)
        if data is not None:
            return data
        task = self._making.get(key)
        if task is None:
            task = self._making[key] = self.spawn(self._make(key, sha256, make))
            task.add_done_callback(lambda _: self._making.pop(key, None))
        return await asyncio.shield(task)  # a caller that goes away does not cancel the others' copy

    async def _make(self, key: str, sha256: str, make: Any) -> bytes | None:
        original = await self.run(self.storage.get, key_for("originals", sha256))
        if original is None:
            return None
        try:
            data = await self.decode(make, original)
        except pipeline.PhotoError:
            log.exception("%s copy failed for %s", key.split("/", 1)[0], sha256)
            return None
        await self.run(self.storage.put, key, data)
        log.debug("made %s", key)
        return data

    async def ensure_display(self, sha256: str) -> bytes | None:
        """The display copy (<= 1600 px), made from the original if it is missing."""
        return await self._get_or_make("display", sha256, pipeline.display_copy)

    async def thumbnail(self, sha256: str) -> bytes | None:
        """The thumbnail (<= 320 px), made from the original if it is missing."""
        tz = self.settings.workflow_tz
        return await self._get_or_make(
            "thumbnails",
            sha256,
            lambda raw, **kw: pipeline.process(raw, local_tz=tz, **kw).thumbnail,
        )

    async def original_without_metadata(self, sha256: str) -> tuple[bytes, str] | None:
        """The original without its metadata (app.photos.pipeline.stripped_original), made once and kept
        like the other copies: re-encoding a HEIC or PNG on every request would tie up the photo threads."""
        data = await self._get_or_make(
            "stripped", sha256, lambda raw, **kw: pipeline.stripped_original(raw, **kw)[0]
        )
        return None if data is None else (data, "image/jpeg")


def budget_of(settings: Settings) -> pipeline.Budget:
    """The pipeline's limits from PhotoSettings."""
    p = settings.photos
    return pipeline.Budget(
        max_pixels=p.max_photo_pixels,
        max_memory=p.max_decode_mb * MiB,
        max_jpeg_scans=p.max_jpeg_scans,
        max_jpeg_scan_blocks=p.max_jpeg_scan_blocks,
        cpu_seconds=p.decode_cpu_seconds,
    )


def make_storage(settings: Settings) -> Storage:
    s = settings.storage
    if s.storage_backend == "s3":
        return S3Storage(s.s3_bucket, endpoint_url=s.s3_endpoint_url, region=s.s3_region, prefix=s.s3_prefix)
    return LocalStorage(s.storage_dir)


async def attach(
    session: AsyncSession,
    *,
    case_id: int | None,
    photos: Sequence[Ingested],
    stage: str,
    uploader_id: int | None,
    event_id: int | None,
    point: tuple[float, float],
    reported_at: dt.datetime,
    settings: Settings,
) -> list[Photo]:
    """Photo rows for a case (``case_id`` None: for no case, e.g. a campaign visit's own evidence) with the
    evidence checks of docs/domain.md as flags.

    ``point`` is the case's (lat, lon) WGS-84. Flags: ``far_from_report`` (EXIF position more than
    ``photo_far_m`` metres away), ``taken_before_report`` (EXIF time more than ``photo_old_hours``
    before ``reported_at``), ``reused_photo`` (the same bytes on another case), ``no_exif_gps``,
    ``exif_unreadable``.
    """
    shas = [p.facts.sha256 for p in photos]
    reused = (
        set(
            (
                await session.execute(
                    select(Photo.sha256)
                    .where(
                        Photo.sha256.in_(shas),
                        Photo.case_id.is_(None) | (Photo.case_id != case_id) if case_id else true(),
                    )
                    .group_by(Photo.sha256)
                )
            ).scalars()
        )
        if shas
        else set()
    )
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
        if f.taken_at is not None and reported_at - f.taken_at > dt.timedelta(
            hours=settings.photos.photo_old_hours
        ):
            flags.append("taken_before_report")
        if f.sha256 in reused:
            flags.append("reused_photo")
        if f.exif_problems:
            flags.append("exif_unreadable")
        row = Photo(
            case_id=case_id,
            event_id=event_id,
            stage=stage,
            sha256=f.sha256,
            format=f.format,
            size_bytes=f.size_bytes,
            width=f.width,
            height=f.height,
            taken_at=f.taken_at,
            gps_lat=f.gps_lat,
            gps_lon=f.gps_lon,
            make=f.make,
            model=f.model,
            original_filename=photo.filename,
            uploaded_by_id=uploader_id,
            flags=flags,
            distance_m=distance,
        )
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


_PHOTOS_OF = select(Photo).where(Photo.case_id.in_(bindparam("case_ids", expanding=True))).order_by(Photo.id)


async def photos_of(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[Photo]]:
    """The photos of each case id (every stage), oldest first: ``{case_id: [Photo]}``, one statement."""
    out: dict[int, list[Photo]] = {cid: [] for cid in case_ids}
    if case_ids:
        rows = await session.execute(_PHOTOS_OF, {"case_ids": list(case_ids)})
        for photo in rows.scalars():
            out[photo.case_id or 0].append(photo)
    return out
