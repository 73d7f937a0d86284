"""Benchmark: plan a digest cycle for 1,000, 10,000 and 100,000 subscriptions.

Run from the repository root with ``python -m bench.bench_scale`` (no network). For each size
a fresh subprocess builds a database: ~1,500 synthetic papers in one listing (the generator of
`bench.bench_matching`) and chats with 5 subscriptions each, topics drawn with Zipf-like
popularity so popular queries are shared (~56,000 distinct topics at 100,000 subscriptions).
A second fresh subprocess opens the real core (`bot.core.open_core`, fake clock, no refresh)
and runs `DigestCycle.plan()` once, then once more (the idle tick that runs every minute), so
each size's peak RSS is its own. Printed per size: plan time, of which queueing deliveries,
SQLite statements per distinct topic (counted with sqlite3's trace callback), peak RSS, and
the idle tick; then the figures against the targets of the scaling issue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_matching import make_paper, make_topic
from bot.config import load_settings
from bot.core import open_core
from bot.models import AnnounceType, Paper
from bot.query import parse_query
from bot.source.calendar import submission_window
from storage import Storage

LISTING = date(2026, 11, 20)
NOW = datetime(LISTING.year, LISTING.month, LISTING.day, 12, tzinfo=UTC)
PER_CHAT = 5
PAPERS = 1_500
TARGET_PLAN_S = 60.0  # plan and queue, at 100k subscriptions
TARGET_RSS_MIB = 300.0  # at 100k subscriptions
TARGET_10K_S = 5.0  # digests for 10,000 topics


def listing_papers(count: int, rng: random.Random) -> list[tuple[Paper, AnnounceType]]:
    """One listing: mostly new submissions, some cross-lists and replacements (v2)."""
    start, _ = submission_window(LISTING)
    out: list[tuple[Paper, AnnounceType]] = []
    for i in range(count):
        paper = make_paper(i, rng)
        roll = rng.random()
        kind = AnnounceType.NEW if roll < 0.8 else AnnounceType.CROSS
        if roll > 0.9:
            kind = AnnounceType.REPLACE
            paper = Paper(**{**_fields(paper), "version": 2})
        stamp = start + timedelta(seconds=10 * i)
        out.append((Paper(**{**_fields(paper), "published": stamp, "updated": stamp}), kind))
    return out


def _fields(paper: Paper) -> dict[str, Any]:
    return {name: getattr(paper, name) for name in Paper.__dataclass_fields__}


def subscriptions(count: int, rng: random.Random) -> Iterable[tuple[int, list[str]]]:
    """(chat number, its PER_CHAT distinct topic texts) for `count` subscriptions."""
    for chat in range(max(1, count // PER_CHAT)):
        texts: dict[str, str] = {}
        while len(texts) < PER_CHAT:
            text = make_topic(rng)
            texts.setdefault(text, text)
        yield chat, list(texts)


async def _store_listing(path: Path, rng: random.Random) -> None:
    async with await Storage.open(path) as storage:
        listing = listing_papers(PAPERS, rng)
        await storage.papers.upsert_papers([p for p, _ in listing], now=NOW, enriched=True)
        await storage.papers.record_announcements(
            [(p.id, p.version, LISTING, kind) for p, kind in listing], group="cs", source="rss"
        )


def build_database(path: Path, count: int, seed: int = 1) -> dict[str, int]:
    """The listing through the paper store; chats, topics and subscriptions in bulk (a bench
    helper writing rows directly, as 100k subscriptions through per-row methods take minutes)."""
    rng = random.Random(seed)
    asyncio.run(_store_listing(path, rng))
    canonical: dict[str, str] = {}  # text -> canonical
    topic_ids: dict[str, int] = {}  # canonical -> id
    stamp = NOW.isoformat()
    chats: list[tuple[Any, ...]] = []
    subs: list[tuple[Any, ...]] = []
    for chat, texts in subscriptions(count, rng):
        key = f"telegram:{chat}"
        language = "zh" if chat % 10 == 9 else "en"
        chats.append((key, "private", language, stamp, stamp))
        seen: set[int] = set()
        for text in texts:
            canon = canonical.get(text)
            if canon is None:
                canon = canonical[text] = parse_query(text).canonical
            topic = topic_ids.setdefault(canon, len(topic_ids) + 1)
            if topic not in seen:  # two texts with one canonical form are one topic
                seen.add(topic)
                subs.append((key, topic, text, stamp))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO topics (id, canonical, text, created_at) VALUES (?, ?, ?, ?)",
            [(i, canon, canon, stamp) for canon, i in topic_ids.items()],
        )
        conn.executemany(
            "INSERT INTO chats (key, kind, language, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            chats,
        )
        conn.executemany(
            "INSERT INTO subscriptions (chat_key, topic_id, query, created_at) VALUES (?, ?, ?, ?)",
            subs,
        )
    conn.close()
    return {"chats": len(chats), "subscriptions": len(subs), "topics": len(topic_ids)}


def _timed(method: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - began

    return wrapper


async def _plan(path: Path) -> dict[str, float]:
    settings = load_settings(
        PAPERBOY_DB=str(path), PAPERBOY_REFRESH_MINUTES="1440", PAPERBOY_CATEGORIES="cs"
    )
    async with open_core(settings, clock=lambda: NOW) as core:
        statements = [0]

        def count(_: str) -> None:
            statements[0] += 1

        # The bench reaches into the connection on purpose: production code never traces.
        await core.storage._conn.set_trace_callback(count)
        queue_s, summary_s = [0.0], [0.0]
        outbox: Any = core.storage.outbox
        for name in ("enqueue_delivery", "enqueue_deliveries"):
            if hasattr(outbox, name):
                setattr(outbox, name, _timed(getattr(outbox, name), queue_s))
        summarizer: Any = core.paperboy.summarizer
        summarizer.summarize_many = _timed(summarizer.summarize_many, summary_s)
        began = time.perf_counter()
        report = await core.cycle.plan()
        plan_s = time.perf_counter() - began
        planned_statements = statements[0]
        began = time.perf_counter()
        again = await core.cycle.plan()
        idle_s = time.perf_counter() - began
        counts = await core.storage.outbox.delivery_counts()
    return {
        "plan_s": plan_s,
        "queue_s": queue_s[0],
        "summary_s": summary_s[0],
        "statements": planned_statements,
        "queued": counts.pending + counts.skipped,
        "planned": report.planned + report.skipped,
        "replanned": again.planned + again.skipped,
        "idle_s": idle_s,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_scale", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run(count: int, directory: Path) -> dict[str, Any]:
    """Build the database for `count` subscriptions, then plan, each in a fresh process."""
    path = directory / f"scale-{count}.db"
    began = time.perf_counter()
    built = _child(["--build", str(path), "--size", str(count)])
    built["build_s"] = time.perf_counter() - began
    return {**built, **_child(["--plan", str(path)])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build_database(args.build, args.size)))
        return
    if args.plan:
        print(json.dumps(asyncio.run(_plan(args.plan))))
        return
    print(f"{PAPERS} papers in one listing; {PER_CHAT} subscriptions per chat; fresh process each")
    print(f"{'subs':>7} {'topics':>6} {'plan s':>7} {'queue s':>7} {'summaries s':>11} "
          f"{'stmts/topic':>11} "
          f"{'peak RSS MiB':>12} {'idle tick s':>11} {'queued':>7}")  # fmt: skip
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            r = results[n] = run(n, Path(tmp))
            print(f"{r['subscriptions']:>7} {r['topics']:>6} {r['plan_s']:>7.1f} "
                  f"{r['queue_s']:>7.1f} {r['summary_s']:>11.1f} "
                  f"{r['statements'] / max(1, r['topics']):>11.2f} "
                  f"{r['rss_mib']:>12.0f} {r['idle_s']:>11.2f} {r['queued']:>7}",
                  flush=True)  # fmt: skip
            if r["queued"] != r["subscriptions"] or r["replanned"]:
                print(f"  WRONG: {r['queued']} queued, {r['replanned']} planned again")
    for n, r in results.items():
        if n >= 100_000:
            ok = r["plan_s"] < TARGET_PLAN_S and r["rss_mib"] < TARGET_RSS_MIB
            print(f"{n} subscriptions: plan + queue {r['plan_s']:.1f} s (target < "
                  f"{TARGET_PLAN_S:.0f}), peak RSS {r['rss_mib']:.0f} MiB (target < "
                  f"{TARGET_RSS_MIB:.0f}): {'met' if ok else 'MISSED'}")  # fmt: skip
        elif n >= 10_000:
            # The figure is for digests; first summaries of a listing are another cost
            # (papers x languages, whatever the number of subscriptions), shown separately.
            built = r["plan_s"] - r["summary_s"] - r["queue_s"]
            ok = built < TARGET_10K_S
            print(f"{n} subscriptions: digests built in {built:.1f} s (target < "
                  f"{TARGET_10K_S:.0f}; plan {r['plan_s']:.1f} s with summaries and queue): "
                  f"{'met' if ok else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
