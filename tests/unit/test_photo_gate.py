"""The gate in front of the photo threads: decode memory in flight stays within its capacity, and heavy
decodes leave a thread to light ones (issue 15: two hostile uploads held a normal one for 15.8 s)."""

import asyncio

from app.photos.gate import HEAVY_CPU_SECONDS, MemoryGate
from app.photos.pipeline import Plan

LIGHT, HEAVY = 0.01, HEAVY_CPU_SECONDS * 4


def plan(memory: int, cpu: float = LIGHT) -> Plan:
    return Plan(kind="jpeg", width=1, height=1, memory=memory, cpu_seconds=cpu)


class Watch:
    """Runs jobs through a gate and records what was in at once."""

    def __init__(self, gate: MemoryGate) -> None:
        self.gate, self.inside, self.order = gate, {}, []
        self.most_memory = 0

    async def job(self, name: str, p: Plan, hold: float) -> None:
        async with self.gate.admit(p):
            self.inside[name] = p
            self.order.append(name)
            self.most_memory = max(self.most_memory, sum(q.memory for q in self.inside.values()))
            await asyncio.sleep(hold)
            del self.inside[name]


async def test_memory_in_flight_never_exceeds_the_capacity_and_waiters_keep_their_turn() -> None:
    watch = Watch(MemoryGate(100, heavy_slots=1))
    jobs = [watch.job("a", plan(60), 0.05), watch.job("b", plan(60), 0.05), watch.job("c", plan(30), 0.01)]
    await asyncio.gather(*jobs)
    assert watch.most_memory <= 100
    assert watch.order == ["a", "b", "c"]  # c fits beside a, but b came first: no overtaking, no starving
    assert watch.gate.free == 100


async def test_a_photo_larger_than_the_capacity_waits_for_all_of_it() -> None:
    watch = Watch(MemoryGate(100, heavy_slots=1))
    await asyncio.gather(watch.job("small", plan(10), 0.05), watch.job("huge", plan(500), 0.01))
    assert watch.order == ["small", "huge"] and watch.gate.free == 100


async def test_heavy_decodes_leave_a_thread_to_light_ones() -> None:
    watch = Watch(MemoryGate(1000, heavy_slots=1))
    heavy = [asyncio.create_task(watch.job(f"heavy{i}", plan(10, HEAVY), 0.2)) for i in range(2)]
    await asyncio.sleep(0.02)
    assert list(watch.inside) == ["heavy0"]  # the second heavy one waits for the heavy slot
    started = asyncio.get_running_loop().time()
    await watch.job("light", plan(10), 0.0)
    assert asyncio.get_running_loop().time() - started < 0.1  # not behind the heavy ones
    await asyncio.gather(*heavy)


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    watch = Watch(MemoryGate(100, heavy_slots=1))
    first = asyncio.create_task(watch.job("first", plan(100), 0.05))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(watch.job("gone", plan(100), 0.0))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await watch.job("next", plan(100), 0.0)
    assert watch.order == ["first", "next"] and watch.gate.free == 100
