"""Fuzzed commands on both platforms: every input gets an answer that the platform accepts, and
never an apology (which would mean an unhandled error). Seeded, so a failure can be replayed."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.discord_harness import DiscordHarness, ask, restore_discord_addresses
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.telegram_server import FakeTelegram, FloodLimits
from tests.pipeline_data import FakeClock
from tests.telegram_harness import BotHarness, announce_talking_heads, listing_clock, say

SEED = 20261130
APOLOGY = "Sorry, something went wrong"

# Pieces that have broken bots before: other scripts' digits, markup of both platforms,
# mentions, direction overrides, zero-width and combining characters, emoji, huge numbers.
PIECES = [
    "²", "①", "٣", "３", "߃", "𝟕", "-1", "0", "#2", "1e3", "9" * 60, "3.5", "∞",
    "<b>", "</i>", "&amp;", "&", "<", ">", "*", "_", "~~", "`", "```", "||", "[x](y)",
    "@everyone", "@here", "<@123>", "\u202e", "\u200b", "e\u0301", "🙂", "👩‍👩‍👧", "🇩🇪",
    "talking head", '"lip sync"', "OR", "and", "NOT", "(", ")", "ti:", "cat:cs.*", "au:",
    "diffusion*", "-survey", "2409.03605", "arXiv:2409.03605v9", "hep-th/9901001",
    "https://arxiv.org/abs/2409.03605", "Europe/Berlin", "UTC+8", "25:00", "８：３０", "zh",
    "中文", "titles", "on", "off", "lang", "tz", "time", "detail", "papers", "empty",
]  # fmt: skip


def fuzz_text(rng: random.Random, longest: int) -> str:
    words = [rng.choice(PIECES) for _ in range(rng.randint(0, 6))]
    text = " ".join(words)
    if rng.random() < 0.1:
        text += " " + "x" * rng.randint(100, longest)  # very long input
    return text[:longest]


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        announce_talking_heads(server)
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return listing_clock()


TELEGRAM_COMMANDS = ["/start", "/help", "/subscribe", "/unsubscribe", "/list", "/pause",
                     "/resume", "/settings", "/paper", "/digest", "/settings tz",
                     "/settings papers", "/settings time", "/settings lang"]  # fmt: skip


async def test_fuzzed_telegram_commands(arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock) -> None:
    rng = random.Random(SEED)
    with FakeTelegram(flood=FloodLimits.off()) as tg:
        async with BotHarness(arxiv, tg, tmp_path / "fuzz.db", clock):
            ada = tg.add_user("Ada")
            group = tg.add_group("Lab", members=[ada], admins=[ada])
            for i in range(160):
                chat = group if i % 4 == 0 else ada
                command = rng.choice(TELEGRAM_COMMANDS)
                text = f"{command} {fuzz_text(rng, 3000)}".strip()
                replies = await say(tg, chat, ada, text)
                assert replies and all(APOLOGY not in m.text for m in replies), text
            # Lookups may fail (getChat of "@everyone": no such channel, and it is answered);
            # what we send must never be refused.
            refused = [
                (r.method, r.description)
                for r in tg.requests
                if r.status == 400 and (r.method or "").lower().startswith(("send", "edit"))
            ]
            assert refused == [], f"Telegram refused some of our messages: {refused}"
            assert tg.server_errors == []


DISCORD_COMMANDS: list[tuple[str, list[str]]] = [
    ("subscribe", ["query"]),
    ("unsubscribe", ["topic"]),
    ("list", []),
    ("pause", ["topic"]),
    ("resume", ["topic"]),
    ("settings", ["setting", "value"]),
    ("paper", ["id"]),
    ("help", []),
    ("digest", []),
]
SETTINGS = ["lang", "tz", "time", "detail", "papers", "empty"]


@pytest.fixture
async def discord_bot(
    arxiv: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[FakeDiscord]:
    with FakeDiscord() as fake, restore_discord_addresses():
        async with DiscordHarness(arxiv, fake, tmp_path / "fuzz.db", clock):
            yield fake
        assert fake.server_errors == [] and fake.unknown_routes == []


async def test_fuzzed_discord_commands(discord_bot: FakeDiscord) -> None:
    fake = discord_bot
    rng = random.Random(SEED)
    owner = fake.add_user("Olga")
    guild = fake.add_guild("Physics", owner=owner)
    channel = fake.add_text_channel(guild, "papers")
    for _ in range(120):
        name, option_names = rng.choice(DISCORD_COMMANDS)
        options: dict[str, Any] = {}
        for option in option_names:
            if option == "setting":
                options[option] = rng.choice(SETTINGS)
            elif rng.random() < 0.85:
                text = fuzz_text(rng, 6000).strip() or "x"
                options[option] = text
        if name in {"subscribe", "paper"} and not options:
            continue  # required options: Discord itself never sends these without them
        if name == "unsubscribe" and "topic" not in options:
            continue
        where = channel if rng.random() < 0.5 else None
        answer = await ask(fake, name, options, user=owner, channel=where)
        assert answer.text.strip() and APOLOGY not in answer.text, (name, options)
