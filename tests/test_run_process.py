"""`paperboy run` as a real process: SIGTERM in the middle of a fan-out stops it cleanly, a
restart delivers the rest, and nothing reaches a chat twice. The token never reaches the logs."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chats import ChatRef
from bot.config import load_settings
from bot.core import open_core
from bot.models import ChatKind
from bot.service import utc_now as clock
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.telegram_server import FakeTelegram, FloodLimits
from tests.telegram_harness import announce_talking_heads

ROOT = Path(__file__).resolve().parents[1]
TOPIC = '"talking head" OR "lip sync"'
CHATS = 80


@pytest.fixture
def servers() -> Iterator[tuple[FakeArxiv, FakeTelegram]]:
    with FakeArxiv() as arxiv, FakeTelegram(flood=FloodLimits()) as tg:
        announce_talking_heads(arxiv)
        yield arxiv, tg


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "handlers", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


async def subscribe(arxiv: FakeArxiv, db: Path, chat_ids: list[int]) -> None:
    """Each chat follows TOPIC, set up through the core as a person would have done."""
    settings = load_settings(
        ARXIV_API_URL=arxiv.api_url,
        ARXIV_RSS_URL=arxiv.rss_url,
        PAPERBOY_DB=str(db),
        PAPERBOY_ARXIV_DELAY="0",
        PAPERBOY_CATEGORIES="cs,eess",
    )
    async with open_core(settings, clock=clock) as core:
        for chat_id in chat_ids:
            ref = ChatRef(f"telegram:{chat_id}", ChatKind.PRIVATE)
            chat = (await core.chats.enter(ref)).chat
            await core.chats.subscribe(chat, TOPIC, by=None)


def bot_env(arxiv: FakeArxiv, tg: FakeTelegram, db: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PAPERBOY_", "ARXIV_", "OPENAI_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(
        ARXIV_API_URL=arxiv.api_url,
        ARXIV_RSS_URL=arxiv.rss_url,
        TELEGRAM_BOT_TOKEN=tg.token,
        TELEGRAM_API_URL=tg.base_url,
        PAPERBOY_DB=str(db),
        PAPERBOY_ARXIV_DELAY="0",
        PAPERBOY_CATEGORIES="cs,eess",
        PAPERBOY_TICK_SECONDS="1",
        PAPERBOY_LOG_LEVEL="DEBUG",
    )
    return env


def digests_per_chat(tg: FakeTelegram, chat_ids: list[int]) -> Counter[int]:
    return Counter(
        chat_id for chat_id in chat_ids for m in tg.sent_messages(chat_id) if "📰" in m.text
    )


def test_sigterm_mid_fan_out_then_restart(
    servers: tuple[FakeArxiv, FakeTelegram], tmp_path: Path
) -> None:
    arxiv, tg = servers
    db = tmp_path / "run.db"
    users = [tg.add_user(f"Reader {i}") for i in range(CHATS)]
    chat_ids = [u.id for u in users]

    asyncio.run(subscribe(arxiv, db, chat_ids))
    env = bot_env(arxiv, tg, db)
    log = tmp_path / "bot.log"

    first = start_bot(env, log)
    try:
        tg.wait_until(lambda: sum(digests_per_chat(tg, chat_ids).values()) >= 5, timeout=60)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=40) == 0
    finally:
        if first.poll() is None:
            first.kill()
    after_stop = digests_per_chat(tg, chat_ids)
    assert 5 <= sum(after_stop.values()) < CHATS, "SIGTERM should stop the fan-out midway"
    time.sleep(0.5)
    assert digests_per_chat(tg, chat_ids) == after_stop  # stopped means stopped

    second = start_bot(env, log)
    try:
        tg.wait_until(lambda: len(digests_per_chat(tg, chat_ids)) == CHATS, timeout=90)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=40) == 0
    finally:
        if second.poll() is None:
            second.kill()
    final = digests_per_chat(tg, chat_ids)
    assert set(final.values()) == {1}, "every chat exactly one digest"
    assert tg.counters.flood_429 == 0
    logs = log.read_text(errors="replace")
    assert tg.token not in logs and tg.token.split(":")[1] not in logs


def test_kill_9_with_network_latency_repeats_at_most_the_messages_in_flight(
    servers: tuple[FakeArxiv, FakeTelegram], tmp_path: Path
) -> None:
    """The Bot API has no idempotency key, so a message accepted but not yet recorded when the
    process dies is sent again. Only as many as the flood limit needs at the round-trip time
    (25/s x 100 ms: 3) are ever in that state, whatever the number of workers."""
    arxiv, tg = servers
    tg.latency = 0.1
    db = tmp_path / "kill.db"
    chat_ids = [tg.add_user(f"Reader {i}").id for i in range(45)]
    asyncio.run(subscribe(arxiv, db, chat_ids))
    env = bot_env(arxiv, tg, db)
    log = tmp_path / "bot.log"
    kills = 0
    rng = random.Random(7)
    while len(digests_per_chat(tg, chat_ids)) < len(chat_ids) and kills < 3:
        bot = start_bot(env, log)
        try:
            before = sum(digests_per_chat(tg, chat_ids).values())

            def progressed(before: int = before) -> bool:
                return sum(digests_per_chat(tg, chat_ids).values()) > before

            tg.wait_until(progressed, timeout=60)
            time.sleep(rng.uniform(0.1, 0.8))
        finally:
            bot.kill()  # SIGKILL: no chance to finish anything
            bot.wait(timeout=10)
        kills += 1
    last = start_bot(env, log)
    try:
        tg.wait_until(lambda: len(digests_per_chat(tg, chat_ids)) == len(chat_ids), timeout=90)
        last.send_signal(signal.SIGTERM)
        assert last.wait(timeout=40) == 0
    finally:
        if last.poll() is None:
            last.kill()
    counts = digests_per_chat(tg, chat_ids)
    repeated = sum(n - 1 for n in counts.values())
    assert set(counts) == set(chat_ids)
    assert repeated <= 3 * kills, f"{repeated} repeats after {kills} kills"
