"""Benchmark: deliver a digest to 200 Discord channels (over several guilds) through a fake Discord
enforcing Discord's rate limits (5 messages per 5 s per channel, 50 requests/s overall).

Run from the repository root with ``python -m bench.bench_discord_fanout [--channels N]
[--latency SECONDS]`` (no network). The whole bot runs: the real discord.py client driven by
`DiscordFrontend` against the fake (REST + gateway), the real core (`DigestCycle.tick()`), the
real outbox with the flood limits of the Discord channel, and the real renderer. Prints
messages per second, 429 answers, channels left without their digest or given it twice, and
nonce deduplications (all counted at the fake, not by the bot), plus how long a slash command
(/help) issued in the middle of the fan-out waited for its interaction callback.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from bot.chats import ChatRef
from bot.models import ChatKind
from tests.discord_harness import DiscordHarness, restore_discord_addresses
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import FakeChannel, FakeDiscord, FakeMessage, RateLimits
from tests.telegram_harness import announce_talking_heads, listing_clock

TOPICS = ('"talking head" OR "lip sync"', '"talking face"', "talking* OR lip*", "emotalk3d")


def digest_posts(fake: FakeDiscord, channel: FakeChannel) -> list[FakeMessage]:
    """The bot's own posts in `channel` (interaction answers excluded)."""
    return [m for m in fake.messages(channel) if m.interaction_id is None and not m.deleted]


async def run(channels: int, latency: float = 0.0, guilds: int = 10) -> dict[str, float]:
    with (
        FakeArxiv() as arxiv,
        FakeDiscord(rate_limits=RateLimits.discord()) as fake,
        restore_discord_addresses(),
    ):
        announce_talking_heads(arxiv)
        servers = [fake.add_guild(f"Lab {g}") for g in range(max(1, min(guilds, channels)))]
        targets = [
            fake.add_text_channel(servers[i % len(servers)], f"papers-{i}") for i in range(channels)
        ]
        asker = fake.add_user("Asker")
        fake.add_member(servers[0], asker)
        with tempfile.TemporaryDirectory() as tmp:
            async with DiscordHarness(arxiv, fake, Path(tmp) / "fan.db", listing_clock()) as bot:
                core = bot.core
                for i, target in enumerate(targets):
                    ref = ChatRef(f"discord:{target.id}", ChatKind.GROUP, f"#{target.name}")
                    chat = (await core.chats.enter(ref)).chat
                    await core.chats.subscribe(chat, TOPICS[i % len(TOPICS)], by=None)
                await core.paperboy.refresh()
                report = await core.cycle.plan()  # digests and summaries, before the timing
                assert report.planned == channels, report
                fake.latency = latency
                fake.reset_rate_limits()
                before = fake.counters
                began = time.perf_counter()
                tick = asyncio.create_task(core.cycle.tick())  # refresh (fresh), deliver

                def posted() -> int:
                    return fake.counters.messages_created - before.messages_created

                # Halfway through, someone runs /help: how long until Discord has the answer?
                await fake.wait_until_async(lambda: posted() >= channels // 2, timeout=channels)
                asked = time.perf_counter()
                help_ = fake.invoke("help", user=asker, channel=targets[0])
                await fake.wait_for_response_async(help_, timeout=60)
                reply_wait = time.perf_counter() - asked
                await tick
                elapsed = time.perf_counter() - began
                counts = await core.storage.outbox.delivery_counts()
                after = fake.counters
                per_channel = {t.id: digest_posts(fake, t) for t in targets}
                messages = sum(len(posts) for posts in per_channel.values())
                nonces = Counter(str(m.nonce) for posts in per_channel.values() for m in posts)
                headers = {
                    cid: Counter(m.embeds[0].get("title", "") for m in posts if m.embeds)
                    for cid, posts in per_channel.items()
                }
                lost = sum(1 for posts in per_channel.values() if not posts) + counts.pending
                duplicated = sum(
                    1 for c in headers.values() if any(n > 1 for n in c.values())
                ) + sum(n - 1 for n in nonces.values() if n > 1)
                return {
                    "channels": channels,
                    "guilds": len(servers),
                    "latency": latency,
                    "messages": messages,
                    "seconds": elapsed,
                    "per_second": messages / elapsed,
                    "rate_limited": after.rate_limited - before.rate_limited,
                    "rate_limited_global": after.rate_limited_global - before.rate_limited_global,
                    "lost": lost,
                    "duplicated": duplicated,
                    "nonce_dedups": after.nonce_dedups - before.nonce_dedups,
                    "reply_wait": reply_wait,
                    "fake_errors": len(fake.server_errors) + len(fake.unknown_routes),
                }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--guilds", type=int, default=10, help="the channels are spread over")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the fake waits before each request"
    )
    args = parser.parse_args()
    r = asyncio.run(run(args.channels, args.latency, args.guilds))
    print(f"channels: {r['channels']:.0f} in {r['guilds']:.0f} guilds   "
          f"latency: {r['latency']:g} s   messages sent: {r['messages']:.0f}")  # fmt: skip
    print(f"time: {r['seconds']:.1f} s   throughput: {r['per_second']:.1f} messages/s")
    print(f"429 answers: {r['rate_limited']:.0f} ({r['rate_limited_global']:.0f} global)   "
          f"lost: {r['lost']:.0f}   duplicated: {r['duplicated']:.0f}   "
          f"nonce dedups: {r['nonce_dedups']:.0f}")  # fmt: skip
    print(f"a /help issued mid-fan-out got its interaction callback after "
          f"{r['reply_wait']:.2f} s")  # fmt: skip
    if r["fake_errors"]:
        print(f"the fake reported {r['fake_errors']:.0f} errors or unknown routes")


if __name__ == "__main__":
    main()
