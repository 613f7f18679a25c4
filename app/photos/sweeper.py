"""Orphan photo files: stored files that no ``photos`` row references, and stale temporaries.

Why there are any: a request writes a photo's original and thumbnail *before* its transaction commits
(``PhotoWorkshop.store``) and deletes them when the commit fails; a process killed between the write and
the commit (SIGKILL, OOM killer, power loss) leaves files that no row will ever reference, and
``LocalStorage.put`` killed mid-write leaves a ``.tmp-*`` file. ``grid-inspector sweep-orphans`` runs
:func:`sweep_orphans` to remove them.

Safety: files are swept by sha256 (a photo's original, thumbnail and display copy together), and only
when the newest of them is older than the grace period ``older_than`` (seconds): an upload in flight has
written its files but not committed its row yet. A re-upload of bytes already stored refreshes their
time (``LocalStorage.put``; S3 rewrites the object), and each candidate is checked against the database
and its files' times again just before the delete, so only a re-upload of an orphan's exact bytes in the
microseconds between that check and the delete could lose its original. ``older_than=0`` is therefore
for a stopped service only.

Storage is walked one 2-hex-digit shard at a time (``originals/ab/``, ``thumbnails/ab/``, ``display/ab/``),
so memory stays bounded by one shard whatever the number of photos; the referenced sha256s of a shard
come from one index range query.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from app.core.db import Database
from app.photos.models import Photo
from app.photos.storage import TEMPORARY_PREFIX, VARIANTS, Entry, Storage

SHARDS = [f"{i:02x}" for i in range(256)]
HEX = frozenset("0123456789abcdef")
SAMPLE = 10  # sha256s listed per finding in the report


@dataclass
class SweepReport:
    """What a sweep found and did. Counts of photos are distinct sha256s; files are stored objects."""

    older_than_s: float
    dry_run: bool
    stored_photos: int = 0  # sha256s with at least one file in storage
    referenced: int = 0  # of those, the ones a photos row references (kept)
    orphans_swept: int = 0  # sha256s whose files were deleted (or would be, in a dry run)
    orphan_files_swept: int = 0
    orphans_kept_fresh: int = 0  # orphans younger than the grace period: maybe an upload in flight
    temporaries_swept: int = 0
    temporaries_kept_fresh: int = 0
    unknown_keys: int = 0  # keys that are not ours (left alone)
    missing_originals: int = 0  # referenced sha256s whose original is not in storage
    swept_sample: list[str] = field(default_factory=list)
    missing_sample: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as the command line prints it."""
        verb = "would delete" if self.dry_run else "deleted"
        fresh = "kept {} younger than the grace period"
        out = [
            f"Orphan sweep, grace period {self.older_than_s:g} s"
            + (" (dry run: nothing deleted):" if self.dry_run else ":"),
            f"  photos in storage:      {self.stored_photos} ({self.referenced} referenced by a photos row)",
            f"  orphans:                {verb} {self.orphans_swept} ({self.orphan_files_swept} files), "
            + fresh.format(self.orphans_kept_fresh),
            f"  temporary files:        {verb} {self.temporaries_swept}, "
            + fresh.format(self.temporaries_kept_fresh),
            f"  unknown keys:           {self.unknown_keys} (left alone)",
            f"  rows without original:  {self.missing_originals}",
        ]
        if self.swept_sample:
            more = " ..." if self.orphans_swept > SAMPLE else ""
            out.append(f"  orphans {verb}: {', '.join(sha[:16] for sha in self.swept_sample)}{more}")
        if self.missing_sample:
            out.append(
                f"  WARNING photos rows whose original is missing: {', '.join(self.missing_sample)}"
                f"{' ...' if self.missing_originals > SAMPLE else ''}"
            )
        return out


@dataclass
class _Shard:
    files: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))  # sha256 -> its files
    originals: set[str] = field(default_factory=set)
    temporaries: list[Entry] = field(default_factory=list)
    unknown: int = 0


def _list_shard(storage: Storage, shard: str) -> _Shard:
    """Blocking: the files of one shard, by sha256, with the temporaries and the keys that are not ours."""
    out = _Shard()
    for variant in VARIANTS:
        for entry in storage.entries(f"{variant}/{shard}"):
            folder, _, name = entry.key.rpartition("/")
            if name.startswith(TEMPORARY_PREFIX):
                out.temporaries.append(entry)
            elif (
                folder == f"{variant}/{shard}"
                and len(name) == 64
                and name.startswith(shard)
                and set(name) <= HEX
            ):
                out.files[name].append(entry)
                if variant == "originals":
                    out.originals.add(name)
            else:
                out.unknown += 1
    return out


async def _referenced_in_shard(db: Database, shard: str) -> set[str]:
    """The distinct sha256s of photos rows in the shard: an index range, ``shard <= sha256 < next``."""
    upper = f"{int(shard, 16) + 1:02x}" if shard != "ff" else None
    condition = [Photo.sha256 >= shard, *([Photo.sha256 < upper] if upper else [])]
    async with db.sessionmaker() as session:
        return set((await session.execute(select(Photo.sha256).where(*condition).distinct())).scalars())


async def _referenced_among(db: Database, shas: list[str]) -> set[str]:
    found: set[str] = set()
    async with db.sessionmaker() as session:
        for i in range(0, len(shas), 500):
            batch = shas[i : i + 500]
            found.update(
                (
                    await session.execute(select(Photo.sha256).where(Photo.sha256.in_(batch)).distinct())
                ).scalars()
            )
    return found


def _still_old(storage: Storage, entries: list[Entry], cutoff: float) -> bool:
    """Blocking: no file of ``entries`` was written again after ``cutoff`` (POSIX seconds); gone ones count as old."""
    for entry in entries:
        now = storage.stat(entry.key)
        if now is not None and now.modified > cutoff:
            return False
    return True


async def sweep_orphans(
    storage: Storage,
    db: Database,
    *,
    older_than: float = 3600.0,
    dry_run: bool = False,
    now: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> SweepReport:
    """Delete the files of sha256s that no ``photos`` row references and stale ``.tmp-*`` files.

    ``older_than``: the grace period in seconds; only files last written before ``now - older_than`` go
    (``now``: POSIX seconds, default the current time; tests move it). ``dry_run`` counts without deleting.
    Storage calls block, so they run in worker threads. Raises what the storage or the database raise
    (nothing is half-done beyond the files already deleted, which were orphans).
    """
    if older_than < 0:
        raise ValueError("older_than must be >= 0 seconds")
    cutoff = (time.time() if now is None else now) - older_than
    report = SweepReport(older_than_s=older_than, dry_run=dry_run)

    async def delete(entries: list[Entry]) -> None:
        if not dry_run:
            for entry in entries:
                await asyncio.to_thread(storage.delete, entry.key)

    # Temporaries at the top level: LocalStorage's writability probe killed mid-way.
    top = [
        e
        for e in await asyncio.to_thread(lambda: list(storage.entries("", recursive=False)))
        if e.key.startswith(TEMPORARY_PREFIX)
    ]
    for number, shard in enumerate(SHARDS):
        if progress and number and number % 64 == 0:
            progress(f"{number}/{len(SHARDS)} shards")
        listed = await asyncio.to_thread(_list_shard, storage, shard)
        temporaries = listed.temporaries + (top if number == 0 else [])
        old_temps = [e for e in temporaries if e.modified <= cutoff]
        report.temporaries_kept_fresh += len(temporaries) - len(old_temps)
        report.temporaries_swept += len(old_temps)
        await delete(old_temps)
        report.unknown_keys += listed.unknown
        referenced = await _referenced_in_shard(db, shard)
        report.stored_photos += len(listed.files)
        report.referenced += sum(1 for sha in listed.files if sha in referenced)
        missing = sorted(referenced - listed.originals)
        report.missing_originals += len(missing)
        report.missing_sample += missing[: SAMPLE - len(report.missing_sample)]
        candidates = {
            sha: entries
            for sha, entries in listed.files.items()
            if sha not in referenced and max(e.modified for e in entries) <= cutoff
        }
        report.orphans_kept_fresh += sum(
            1 for sha in listed.files if sha not in referenced and sha not in candidates
        )
        if not candidates:
            continue
        # Check again just before deleting: a row committed or a file rewritten since the listing wins.
        now_referenced = await _referenced_among(db, sorted(candidates))
        for sha in sorted(candidates):
            entries = candidates[sha]
            if sha in now_referenced:
                report.referenced += 1
                continue
            if not await asyncio.to_thread(_still_old, storage, entries, cutoff):
                report.orphans_kept_fresh += 1
                continue
            await delete(entries)
            report.orphans_swept += 1
            report.orphan_files_swept += len(entries)
            if len(report.swept_sample) < SAMPLE:
                report.swept_sample.append(sha)
    return report
