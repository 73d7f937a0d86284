"""Flood control on a virtual clock: no limit crossed, nobody waits longer than needed."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.models import Chat, ChatKind
from bot.ratelimit import FloodControl, FloodLimits, Gcra, InFlight


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_gcra_allows_a_burst_then_paces() -> None:
    limit = Gcra(interval=1.0, burst=3)
    slots = [limit.reserve(0.0) for _ in range(6)]
    assert slots == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]


def test_block_until_defers_the_next_slot() -> None:
    limit = Gcra(interval=1.0, burst=1)
    limit.block_until(10.0)
    assert limit.reserve(0.0) == 10.0


async def test_fan_out_stays_within_every_limit() -> None:
    vt = VirtualTime()
    flood = FloodControl(FloodLimits(), clock=vt.clock, sleep=vt.sleep)
    chats = [Chat(f"t:{i}", ChatKind.PRIVATE) for i in range(60)] + [
        Chat(f"t:g{i}", ChatKind.GROUP) for i in range(5)
    ]
    sent: dict[str, list[float]] = defaultdict(list)

    async def send_many(chat: Chat, n: int) -> None:
        for _ in range(n):
            await flood.wait(chat)
            sent[chat.key].append(vt.now)

    # Virtual time advances per sleeping task, so run the chats one after another but let
    # each wait count against the shared limiters as the real fan-out does.
    for chat in chats:
        await send_many(chat, 3 if chat.kind is ChatKind.PRIVATE else 25)
    everything = [t for times in sent.values() for t in times]
    assert max_in_window(everything, 1.0) <= 25 + 5
    for chat in chats:
        if chat.kind is ChatKind.GROUP:
            assert max_in_window(sent[chat.key], 60.0) <= 20
        else:
            assert max_in_window(sent[chat.key], 1.0) <= 3


async def test_retry_after_is_honoured_for_that_chat_only() -> None:
    vt = VirtualTime()
    flood = FloodControl(clock=vt.clock, sleep=vt.sleep)
    slow, other = Chat("t:1", ChatKind.PRIVATE), Chat("t:2", ChatKind.PRIVATE)
    flood.retry_after(slow, 7)
    await flood.wait(other)
    assert vt.now < 1
    await flood.wait(slow)
    assert vt.now >= 7


async def test_in_flight_cap_follows_the_measured_round_trip() -> None:
    now = [0.0]
    inflight = InFlight(25.0, ceiling=8, initial_rtt=0.05, clock=lambda: now[0])
    assert inflight.limit == 2  # 25/s x 50 ms
    for _ in range(30):  # the platform slows down to 300 ms per message
        async with inflight.slot():
            now[0] += 0.3
    assert inflight.limit == 8  # 25/s x 300 ms = 7.5, so 8 (the ceiling)
    for _ in range(30):  # and speeds up again: fewer messages at risk
        async with inflight.slot():
            now[0] += 0.01
    assert inflight.limit == 1


async def test_in_flight_never_exceeds_its_limit() -> None:
    inflight = InFlight(10.0, ceiling=8, initial_rtt=0.2)  # limit 2
    active = peak = 0

    async def send() -> None:
        nonlocal active, peak
        async with inflight.slot():
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*(send() for _ in range(20)))
    assert 1 <= peak <= 2
