"""Where photo bytes live, behind one small interface: a local directory (default) or S3.

Keys are ours, never a client's file name: ``originals/ab/abcdef...`` (content-addressed by the
sha256 of the bytes) and ``thumbnails/...``, ``display/...`` and ``stripped/...`` (the original without
its metadata) for the derivatives. Writes are atomic (a temporary file renamed into place), so a crash
never leaves half a photo under a real key; it may leave a ``.tmp-*`` file beside it, which
``grid-inspector sweep-orphans`` removes (app.photos.sweeper).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Protocol

VARIANTS = ("originals", "thumbnails", "display", "stripped")  # stripped: the original without metadata
TEMPORARY_PREFIX = ".tmp-"  # the name of a file being written (LocalStorage), never a real key


@dataclass(frozen=True)
class Entry:
    """One stored object: its key, when it was last written (POSIX seconds, UTC) and its size in bytes."""

    key: str
    modified: float
    size: int


def key_for(variant: str, sha256: str) -> str:
    """The storage key of ``variant`` of the photo whose original has this sha256 (hex)."""
    if variant not in VARIANTS or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("bad storage key parts")
    return f"{variant}/{sha256[:2]}/{sha256}"


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> float | None: ...
    def get(self, key: str) -> bytes | None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...
    # Every object under the folder ``prefix`` ("" for all; only its own level unless ``recursive``),
    # temporaries included, in no particular order; for the orphan sweeper (app.photos.sweeper).
    def entries(self, prefix: str = "", *, recursive: bool = True) -> Iterator[Entry]: ...
    def stat(self, key: str) -> Entry | None: ...
    def writable(self) -> bool: ...


class LocalStorage:
    """A directory tree; blocking calls (run them in a worker thread)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("key escapes the storage root")
        return path

    def put(self, key: str, data: bytes) -> float | None:
        """Store ``data`` under ``key``; the modification time of the file if this call created it, else None.

        A request that fails may delete only files it created and no one has written since (their time is
        still the one returned here): another request storing the same bytes meanwhile refreshes the time.
        """
        path = self._path(key)
        if path.exists() and path.stat().st_size == len(data):
            # Content-addressed: the same key holds the same bytes. Refresh its time all the same, so an
            # orphan that a new upload now needs looks fresh to the sweeper's grace period, and a failing
            # request that wrote it first sees that someone else wants it.
            try:
                # Explicit nanoseconds, always later than before: the kernel's own stamp is coarse (a
                # clock tick), and a write within the same tick must still be seen as a change.
                stamp = max(time.time_ns(), path.stat().st_mtime_ns + 1)
                os.utime(path, ns=(stamp, stamp))
                return None
            except FileNotFoundError:
                pass  # swept meanwhile: write it again
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path.stat().st_mtime

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return []
        return sorted(
            str(p.relative_to(self.root))
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(TEMPORARY_PREFIX)
        )

    def entries(self, prefix: str = "", *, recursive: bool = True) -> Iterator[Entry]:
        base = self._path(prefix) if prefix.strip("/") else self.root
        if not base.is_dir():
            return
        for path in base.rglob("*") if recursive else base.iterdir():
            try:
                st = path.lstat()
            except FileNotFoundError:  # renamed or deleted while we listed
                continue
            if S_ISREG(st.st_mode):
                yield Entry(path.relative_to(self.root).as_posix(), st.st_mtime, st.st_size)

    def stat(self, key: str) -> Entry | None:
        try:
            st = self._path(key).lstat()
        except FileNotFoundError:
            return None
        return Entry(key, st.st_mtime, st.st_size) if S_ISREG(st.st_mode) else None

    def writable(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=f"{TEMPORARY_PREFIX}probe-"):
                return True
        except OSError:
            return False


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, OSS...) through boto3 (``pip install boto3``)."""

    def __init__(
        self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None, prefix: str = ""
    ) -> None:
        import boto3  # an optional dependency: only deployments that use S3 install it

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> float | None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)  # S3 writes are atomic
        return None  # whether it was new cannot be told: a failing request leaves it to the sweeper

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except Exception:
            return False

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix)
        ):
            out.extend(
                obj["Key"][len(self.prefix) + 1 if self.prefix else 0 :] for obj in page.get("Contents", [])
            )
        return out

    def entries(self, prefix: str = "", *, recursive: bool = True) -> Iterator[Entry]:
        folder = prefix.strip("/")
        full = self._key(folder) + "/" if folder else (f"{self.prefix}/" if self.prefix else "")
        extra = {} if recursive else {"Delimiter": "/"}
        skip = len(self.prefix) + 1 if self.prefix else 0
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full, **extra
        ):
            for obj in page.get("Contents", []):
                yield Entry(obj["Key"][skip:], obj["LastModified"].timestamp(), obj["Size"])

    def stat(self, key: str) -> Entry | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:  # a 404 is "gone"; anything else is raised
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return Entry(key, head["LastModified"].timestamp(), head["ContentLength"])

    def writable(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return True
        except Exception:
            return False
