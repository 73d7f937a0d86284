"""Benchmark: deliver a digest to 1,000 Telegram chats through a fake Bot API enforcing the flood
limits (about 30 messages/s overall, 1/s per chat with short bursts, 20/min per group).

Run from the repository root with ``python -m bench.bench_telegram_fanout`` (no network). The
whole bot runs: real python-telegram-bot against the fake server, the real outbox, flood
control and renderer. Prints messages per second, 429 answers, and messages lost and
duplicated (counted at the fake server, not by the bot), plus how long a command waited for its
answer in the middle of the fan-out.
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
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.telegram_server import FakeTelegram, FloodLimits
from tests.telegram_harness import BotHarness, announce_talking_heads, listing_clock

TOPICS = ('"talking head" OR "lip sync"', '"talking face"', "talking* OR lip*", "emotalk3d")


async def run(chats: int, groups: int) -> dict[str, float]:
    with FakeArxiv() as arxiv, FakeTelegram(flood=FloodLimits()) as tg:
        announce_talking_heads(arxiv)
        with tempfile.TemporaryDirectory() as tmp:
            async with BotHarness(arxiv, tg, Path(tmp) / "fan.db", listing_clock()) as bot:
                users = [tg.add_user(f"Reader {i}") for i in range(chats - groups)]
                rooms = [tg.add_supergroup(f"Lab {i}") for i in range(groups)]
                targets = [(u.id, ChatKind.PRIVATE) for u in users] + [
                    (g.id, ChatKind.GROUP) for g in rooms
                ]
                for i, (chat_id, kind) in enumerate(targets):
                    chat = (await bot.chats.enter(ChatRef(f"telegram:{chat_id}", kind))).chat
                    await bot.chats.subscribe(chat, TOPICS[i % len(TOPICS)], by=None)
                await bot.app.refresh()
                report = await bot.cycle.plan()  # digests and summaries, before the timing
                assert report.planned == chats, report
                sent_before = tg.counters.sent
                began = time.perf_counter()
                fan_out = asyncio.create_task(bot.deliverer.deliver_due())
                # Halfway through, someone asks for help: how long do they wait?
                await tg.wait_until_async(
                    lambda: tg.counters.sent - sent_before >= chats // 2, timeout=chats
                )
                asker = users[0]
                before = len(tg.sent_messages(asker))
                asked = time.perf_counter()
                tg.send_text(asker, asker, "/help")
                await tg.wait_for_messages_async(asker, before + 1, timeout=60)
                reply_wait = time.perf_counter() - asked
                await fan_out
                elapsed = time.perf_counter() - began
                counts = await bot.app.storage.outbox.delivery_counts()
                digest_messages = [
                    (m.chat_id, m.raw_text)
                    for chat_id, _ in targets
                    for m in tg.sent_messages(chat_id)
                    if "📰" in m.text
                ]
                per_chat = Counter(chat_id for chat_id, _ in digest_messages)
                duplicates = sum(n - 1 for n in Counter(digest_messages).values() if n > 1)
                lost = sum(1 for chat_id, _ in targets if per_chat[chat_id] == 0) + counts.pending
                sent = tg.counters.sent - sent_before - 1  # minus the /help answer
                return {
                    "chats": chats,
                    "messages": sent,
                    "seconds": elapsed,
                    "per_second": sent / elapsed,
                    "flood_429": tg.counters.flood_429,
                    "lost": lost,
                    "duplicated": duplicates,
                    "reply_wait": reply_wait,
                }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=100, help="of which supergroups")
    args = parser.parse_args()
    r = asyncio.run(run(args.chats, args.groups))
    print(f"chats: {r['chats']:.0f} ({args.groups} groups)   messages sent: {r['messages']:.0f}")
    print(f"time: {r['seconds']:.1f} s   throughput: {r['per_second']:.1f} messages/s")
    print(f"429 answers: {r['flood_429']:.0f}   messages lost: {r['lost']:.0f}   "
          f"duplicated: {r['duplicated']:.0f}")  # fmt: skip
    print(f"a /help sent mid-fan-out was answered after {r['reply_wait']:.2f} s")


if __name__ == "__main__":
    main()
