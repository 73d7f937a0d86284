"""The outbox and the cycle, platform-free: due times, exactly-once across crashes, and what
each kind of platform answer does. The channel here is a recording double of our own
`Channel` interface; the Telegram tests drive the same code through a fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from bot.chats import ChatRef, ChatService
from bot.config import load_settings
from bot.core import Core, open_core
from bot.cycle import DigestCycle
from bot.delivery import (
    Channel,
    ChatMoved,
    ChatUnreachable,
    Deliverer,
    DeliveryError,
    RetryAfter,
    TemporaryFailure,
)
from bot.models import Chat, ChatKind, Digest
from bot.ratelimit import FloodLimits
from bot.service import Paperboy
from tests.fakes.arxiv_server import FakeArxiv
from tests.pipeline_data import TOPIC, FakeClock, paper, talking_head_papers

MON, TUE = date(2026, 11, 16), date(2026, 11, 17)


class Crash(BaseException):
    """Stands in for the process being killed between two messages."""


@dataclass
class Recorder:
    """Renders one message per paper and records what was "sent"."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, list[BaseException]] = field(default_factory=dict)  # by chat key
    crash_after: int | None = None
    keys: list[str] = field(default_factory=list)  # idempotency keys, in sending order

    def render(self, chat: Chat, digest: Digest) -> Sequence[str]:
        if not digest.entries:
            return [f"empty {digest.query}"]
        return [f"{digest.query} | {e.paper.id}" for e in digest.entries]

    async def send(self, chat: Chat, message: str, *, key: str = "") -> None:
        self.keys.append(key)
        queued = self.faults.get(chat.key)
        if queued:
            raise queued.pop(0)
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise Crash()
        self.sent.append((chat.key, message))


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    c = FakeClock(now=talking_head_papers(MON)[0].published)  # type: ignore[arg-type]
    c.set_listing_evening(MON)
    return c


@dataclass
class Bot:
    app: Paperboy
    chats: ChatService
    cycle: DigestCycle
    deliverer: Deliverer
    recorder: Recorder
    core: Core


@pytest.fixture
async def bot(fake: FakeArxiv, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Bot]:
    async with running_bot(fake, tmp_path, clock, Recorder()) as b:
        yield b


class running_bot:
    """A whole bot process on `tmp_path`'s database; a second one is a restart."""

    def __init__(self, fake: FakeArxiv, tmp: Path, clock: FakeClock, recorder: Recorder) -> None:
        self.settings = load_settings(
            ARXIV_API_URL=fake.api_url,
            ARXIV_RSS_URL=fake.rss_url,
            PAPERBOY_DB=str(tmp / "bot.db"),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_CATEGORIES="cs",
        )
        self.clock, self.recorder = clock, recorder
        self._cm = open_core(self.settings, clock=clock)

    async def __aenter__(self) -> Bot:
        core = await self._cm.__aenter__()
        fast = FloodLimits(per_second=1e6, private_interval=0, group_per_minute=1e9)
        core.add_channel("t", Channel(self.recorder, self.recorder, fast))
        return Bot(core.paperboy, core.chats, core.cycle, core.deliverer, self.recorder, core)

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(None, None, None)


async def add_chat(bot: Bot, key: str, query: str = TOPIC, **settings: str) -> Chat:
    """A private chat following `query`, with settings as people type them (tz="Europe/Berlin")."""
    chat = (await bot.chats.enter(ChatRef(key, ChatKind.PRIVATE))).chat
    for name, value in settings.items():
        chat = await bot.chats.change_setting(key, name, value)
    await bot.chats.subscribe(chat, query, by="u1")
    return chat


async def test_each_subscription_gets_its_digest_once(bot: Bot, fake: FakeArxiv) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await add_chat(bot, "t:1")
    await add_chat(bot, "t:2")
    await add_chat(bot, "t:2", '"lip sync"')
    report = await bot.cycle.tick()
    assert report.planned == 3
    assert len(bot.recorder.sent) == 3 + 3 + 1
    await bot.cycle.tick()
    await bot.cycle.tick()
    assert len(bot.recorder.sent) == 7  # nothing twice


async def test_nothing_before_the_chosen_local_time(
    bot: Bot, fake: FakeArxiv, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await add_chat(bot, "t:1", tz="Europe/Berlin", time="09:00")
    await bot.cycle.tick()  # 07:00 Berlin
    assert bot.recorder.sent == []
    clock.advance(hours=2, minutes=1)
    await bot.cycle.tick()
    assert len(bot.recorder.sent) == 3


async def test_empty_digests_are_silent_unless_asked(
    bot: Bot, fake: FakeArxiv, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await add_chat(bot, "t:quiet", "quantum gravity")
    await add_chat(bot, "t:noted", "quantum gravity", empty="on")
    report = await bot.cycle.tick()
    assert report.skipped == 1 and report.planned == 1
    assert bot.recorder.sent == [("t:noted", "empty quantum gravity")]


async def test_a_crash_mid_fan_out_resumes_without_repeats(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    recorder = Recorder(crash_after=5)
    async with running_bot(fake, tmp_path, clock, recorder) as first:
        for i in range(4):
            await add_chat(first, f"t:{i}")
        with pytest.raises(Crash):
            await first.cycle.tick()
    assert len(recorder.sent) == 5
    recorder.crash_after = None
    async with running_bot(fake, tmp_path, clock, recorder) as restarted:
        await restarted.cycle.tick()
    assert len(recorder.sent) == 12 and len(set(recorder.sent)) == 12


async def test_blocked_chat_is_suspended_and_others_still_get_theirs(
    bot: Bot, fake: FakeArxiv
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await add_chat(bot, "t:blocked")
    await add_chat(bot, "t:fine")
    bot.recorder.faults["t:blocked"] = [ChatUnreachable("Forbidden: bot was blocked by the user")]
    report = await bot.cycle.tick()
    assert report.delivery is not None and report.delivery.chats_suspended == ["t:blocked"]
    assert {k for k, _ in bot.recorder.sent} == {"t:fine"}
    chat = await bot.chats.get("t:blocked")
    assert chat is not None and chat.paused and "blocked" in (chat.paused_reason or "")
    await bot.cycle.tick()
    assert {k for k, _ in bot.recorder.sent} == {"t:fine"}  # not retried for ever


async def test_moved_chat_keeps_its_subscriptions_and_history(
    bot: Bot, fake: FakeArxiv, clock: FakeClock
) -> None:
    heads = talking_head_papers(MON)
    fake.announce(MON, new=heads)
    await add_chat(bot, "t:-5")
    bot.recorder.faults["t:-5"] = [ChatMoved("t:-1005")]
    await bot.cycle.tick()
    assert {k for k, _ in bot.recorder.sent} == {"t:-1005"}
    assert [s.query for s in await bot.chats.subscriptions("t:-1005")] == [TOPIC]
    # The next day's digest goes to the new id and does not repeat Monday's papers.
    newer = paper(9, "Talking Face Avatars", "A talking face method.", listing=TUE)
    fake.announce(TUE, new=[newer])
    clock.set_listing_evening(TUE)
    bot.recorder.sent.clear()
    await bot.cycle.tick()
    assert bot.recorder.sent == [("t:-1005", f"{TOPIC} | {newer.id}")]


@pytest.mark.parametrize("fault", [TemporaryFailure("timed out"), RetryAfter(0.01)])
async def test_transient_failures_are_retried(
    bot: Bot, fake: FakeArxiv, clock: FakeClock, fault: DeliveryError
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await add_chat(bot, "t:1")
    bot.recorder.faults["t:1"] = [fault]
    await bot.cycle.tick()
    if isinstance(fault, TemporaryFailure):
        assert bot.recorder.sent == []  # rescheduled with backoff
        clock.advance(minutes=5)
        await bot.cycle.tick()
    assert len(bot.recorder.sent) == 3 and len(set(bot.recorder.sent)) == 3


async def test_stop_finishes_the_message_in_flight_and_saves_progress(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    recorder = Recorder()
    async with running_bot(fake, tmp_path, clock, recorder) as first:
        await add_chat(first, "t:1")
        original = recorder.send

        async def send_then_stop(chat: Chat, message: str, *, key: str = "") -> None:
            await original(chat, message, key=key)
            first.cycle.stop.set()  # SIGTERM arrives while this message is in flight

        recorder.send = send_then_stop  # type: ignore[method-assign]
        await first.cycle.tick()
        assert len(recorder.sent) == 1
        recorder.send = original  # type: ignore[method-assign]
    async with running_bot(fake, tmp_path, clock, recorder) as second:
        await second.cycle.tick()
    assert len(recorder.sent) == 3 and len(set(recorder.sent)) == 3


async def test_digests_that_fell_due_while_down_go_out_on_start(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    recorder = Recorder()
    async with running_bot(fake, tmp_path, clock, recorder) as first:
        await add_chat(first, "t:1", time="08:00")
    clock.advance(days=1)  # down past 08:00 the next day
    async with running_bot(fake, tmp_path, clock, recorder) as second:
        await second.cycle.tick()
    assert len(recorder.sent) == 3


async def test_stopping_does_not_wait_out_a_long_retry_after(bot: Bot, fake: FakeArxiv) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    await add_chat(bot, "t:1")
    bot.recorder.faults["t:1"] = [RetryAfter(200)]  # Telegram: "retry after 200 s"
    tick = asyncio.create_task(bot.cycle.tick())
    await asyncio.sleep(0.2)  # the delivery now waits out the 200 s
    bot.cycle.stop.set()  # SIGTERM
    report = await asyncio.wait_for(tick, timeout=5)
    assert report.delivery is not None and report.delivery.messages_sent == 0
    assert bot.recorder.sent == []  # the message whose turn had not come stays queued


async def test_a_slow_platform_does_not_hold_up_another(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    slow, quick = Recorder(), Recorder()
    release = asyncio.Event()
    original = slow.send

    async def held(chat: Chat, message: str, *, key: str = "") -> None:
        await release.wait()  # a long fan-out (or an outage) on this platform
        await original(chat, message, key=key)

    slow.send = held  # type: ignore[method-assign]
    async with running_bot(fake, tmp_path, clock, slow) as bot:
        fast = FloodLimits(per_second=1e6, private_interval=0, group_per_minute=1e9)
        bot.core.add_channel("u", Channel(quick, quick, fast))
        await add_chat(bot, "t:1")
        chat = (await bot.chats.enter(ChatRef("u:1", ChatKind.PRIVATE))).chat
        await bot.chats.subscribe(chat, TOPIC, by=None)
        tick = asyncio.create_task(bot.cycle.tick())
        for _ in range(100):
            if len(quick.sent) == 3:
                break
            await asyncio.sleep(0.02)
        assert len(quick.sent) == 3 and slow.sent == []  # "u" did not wait for "t"
        release.set()
        await asyncio.wait_for(tick, timeout=5)
    assert len(slow.sent) == 3


def test_cycle_runs_under_apscheduler() -> None:
    from bot.cycle import start_scheduler

    class Counting:
        calls = 0

        async def tick(self) -> None:
            Counting.calls += 1

    async def main() -> None:
        scheduler = start_scheduler(Counting(), every_seconds=0.05)  # type: ignore[arg-type]
        try:
            for _ in range(100):
                if Counting.calls >= 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            scheduler.shutdown(wait=False)

    asyncio.run(main())
    assert Counting.calls >= 2
