"""Admission to the photo threads: what bounds decode memory and heavy work across them (issue 15).

Each photo's own cost is bounded by app.photos.pipeline.inspect; together, the jobs on the photo
threads hold at most the gate's capacity of estimated memory, and heavy ones (a quarter second of CPU
or more, estimated) run at most ``heavy_slots`` at a time, on threads of lower priority, so a light
upload always finds a thread and the processor.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import threading
from collections.abc import AsyncIterator

from app.photos.pipeline import Plan

HEAVY_CPU_SECONDS = 0.25  # estimated (Plan.cpu_seconds): a 12 MP HEIC is heavy, a 12 MP JPEG is not


def is_heavy(plan: Plan) -> bool:
    return plan.cpu_seconds >= HEAVY_CPU_SECONDS


def lower_priority() -> None:
    """Lower the calling thread's priority (Linux applies a nice value to a thread id of its own)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (OSError, AttributeError):  # another system: equal priority, the gate still bounds the work
        pass


class MemoryGate:
    """Admission to the photo threads by estimated decode memory (bytes): the jobs running hold at most
    ``capacity`` together, and at most ``heavy_slots`` of them are heavy (about a quarter second of CPU
    or more), so light photos always find a thread. Waiters are served first come, first served;
    a job larger than ``capacity`` waits for the whole of it."""

    def __init__(self, capacity: int, heavy_slots: int) -> None:
        self.capacity, self.free = capacity, capacity
        self.heavy = asyncio.Semaphore(heavy_slots)
        self._waiters: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    @contextlib.asynccontextmanager
    async def admit(self, plan: Plan) -> AsyncIterator[None]:
        async with self.heavy if is_heavy(plan) else contextlib.nullcontext():
            need = min(plan.memory, self.capacity)
            await self._acquire(need)
            try:
                yield
            finally:
                self.free += need
                self._wake()

    async def _acquire(self, need: int) -> None:
        if not self._waiters and self.free >= need:
            self.free -= need
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((need, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted as it was cancelled: give it back
                self.free += need
            else:
                self._waiters.remove((need, waiter))
            self._wake()
            raise

    def _wake(self) -> None:
        while self._waiters and self._waiters[0][0] <= self.free:
            need, waiter = self._waiters.popleft()
            if not waiter.done():
                self.free -= need
                waiter.set_result(None)
