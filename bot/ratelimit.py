"""Flood control for fan-out: stay inside a chat platform's rate limits instead of meeting 429s.

Each platform's delivery channel carries its own `FloodLimits`: Telegram allows about 30
messages a second overall, about one a second per chat (short bursts allowed) and 20 a minute
per group; Discord 50 requests a second overall and 5 messages per 5 seconds per channel. Each
limit is a GCRA ("virtual scheduling") limiter: a
caller reserves the next conforming send time synchronously, then sleeps until it, so
concurrent workers are served in order without a lock and without busy-waiting. The rates are
set a little below the platform's, because its counters are not ours.

Command replies do not go through here: a person waiting for `/paper` must not queue behind a
thousand digests.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from bot.models import Chat, ChatKind


@dataclass(slots=True)
class Gcra:
    """One limit: `interval` seconds between sends on average, bursts of up to `burst`."""

    interval: float
    burst: int = 1
    _tat: float = field(default=0.0, init=False)  # theoretical arrival time of the next send

    def reserve(self, now: float) -> float:
        """Reserve the next send slot; returns when it may happen (≥ now)."""
        tolerance = (self.burst - 1) * self.interval
        at = max(now, self._tat - tolerance)
        self._tat = max(self._tat, at) + self.interval
        return at

    def idle_since(self, now: float) -> float:
        """How long this limiter has been back at its full burst (≤ 0: not yet)."""
        return now - self._tat

    def block_until(self, moment: float) -> None:
        """Nothing before `moment` (the platform said "retry after")."""
        self._tat = max(self._tat, moment + (self.burst - 1) * self.interval)


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """One platform's limits. The defaults are Telegram's; see `DISCORD_LIMITS`."""

    per_second: float = 25.0  # all chats together (Telegram: ~30)
    global_burst: int = 5
    private_interval: float = 1.05  # seconds between messages to one private chat (~1/s)
    private_burst: int = 3
    group_per_minute: float = 18.0  # groups and channels (Telegram: 20/min)
    group_burst: int = 1


_PRUNE_AT = 10_000  # per-chat limiters kept before idle ones are dropped

TELEGRAM_LIMITS = FloodLimits()
# Discord: 50 requests/s per bot, 5 messages per 5 s per channel (DMs included), counted in
# fixed windows: a burst would let a sixth message into a window, so none here. A little below
# both, since discord.py's own requests (interactions, DMs opened) share the budget.
DISCORD_LIMITS = FloodLimits(
    per_second=40.0,
    global_burst=10,
    private_interval=1.05,
    private_burst=1,
    group_per_minute=57.0,
    group_burst=1,
)


class FloodControl:
    """Waits as long as needed before each message so no platform limit is crossed."""

    def __init__(
        self,
        limits: FloodLimits = TELEGRAM_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._global = Gcra(1 / limits.per_second, limits.global_burst)
        self._chats: dict[str, Gcra] = {}

    def _chat_limit(self, chat: Chat) -> Gcra:
        limit = self._chats.get(chat.key)
        if limit is None:
            if len(self._chats) >= _PRUNE_AT:
                self._prune()
            if chat.kind is ChatKind.PRIVATE:
                limit = Gcra(self._limits.private_interval, self._limits.private_burst)
            else:
                limit = Gcra(60 / self._limits.group_per_minute, self._limits.group_burst)
            self._chats[chat.key] = limit
        return limit

    async def wait(self, chat: Chat) -> None:
        """Return when a message to `chat` may be sent."""
        now = self._clock()
        # The chat's own slot first, then a global slot no earlier than it: reserving the
        # global slot at "now" would waste global capacity while the chat is still waiting.
        at = self._chat_limit(chat).reserve(now)
        at = self._global.reserve(at)
        delay = at - now
        if delay > 0:
            await self._sleep(delay)

    def retry_after(self, chat: Chat, seconds: float) -> None:
        """The platform asked us to wait before sending to this chat again."""
        self._chat_limit(chat).block_until(self._clock() + seconds)

    def forget(self, chat_key: str) -> None:
        self._chats.pop(chat_key, None)

    def _prune(self) -> None:
        """Drop the limiters of chats idle long enough to be back at a full burst: a fresh
        limiter behaves the same, and a bot with 100,000 chats keeps memory bounded."""
        now = self._clock()
        self._chats = {key: g for key, g in self._chats.items() if g.idle_since(now) <= 0}


class InFlight:
    """Caps the messages a platform has been sent but we have not yet recorded.

    Sending faster needs several messages in flight at once (the platform's rate times the
    round-trip time: 25/s at 100 ms is 2.5), but each one in flight is one a hard kill could
    make us send again after a restart, since a platform without idempotency keys cannot tell.
    So the cap follows the measured round trip instead of being a fixed number of workers.
    """

    _WEIGHT = 0.2  # of the newest round trip in the moving average

    def __init__(
        self,
        per_second: float,
        *,
        ceiling: int,
        initial_rtt: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_second
        self._ceiling = max(1, ceiling)
        self._rtt = initial_rtt
        self._clock = clock
        self._active = 0
        self._changed = asyncio.Condition()

    @property
    def limit(self) -> int:
        """Messages allowed in flight now: enough for the rate at the measured round trip."""
        return max(1, min(self._ceiling, math.ceil(self._rate * self._rtt)))

    @property
    def round_trip(self) -> float:
        return self._rtt

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the `limit` slots while a message is sent and recorded."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._active < self.limit)
            self._active += 1
        start = self._clock()
        try:
            yield
        finally:
            elapsed = self._clock() - start
            self._rtt += self._WEIGHT * (elapsed - self._rtt)
            async with self._changed:
                self._active -= 1
                self._changed.notify_all()
