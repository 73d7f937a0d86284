"""`paperboy stats`: every figure counted from a database built through the real stores."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import (
    AnnounceType,
    CachedSummary,
    ChatKind,
    Paper,
    Summary,
    SummaryKey,
    SummarySource,
)
from bot.stats import collect_stats, stats_dict
from handlers.cli import main
from handlers.terminal.stats import render_stats_text
from storage import Storage
from storage.interfaces import OriginCounts, OutboxCounts, PlatformCounts, UsageTotals

NOW = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # already the 21st in Berlin: UTC day counts
TODAY = date(2026, 11, 20)
DAYS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))


def paper(pid: str, version: int = 1) -> Paper:
    return Paper(id=pid, version=version, title=f"Paper {pid}", abstract="An abstract.")


async def build(storage: Storage) -> None:
    """Papers, topics, chats on both platforms, outbox rows in every state, caches, usage."""
    s = storage
    # Five papers: four announced over three days (one of them twice, as v1 then v2), one only
    # looked up (`paperboy paper`).
    await s.papers.upsert_papers(
        [paper("2411.00001", 2), *(paper(f"2411.0000{i}") for i in range(2, 6))], now=NOW
    )
    await s.papers.record_announcements(
        [
            ("2411.00001", 1, DAYS[0], AnnounceType.NEW),
            ("2411.00002", 1, DAYS[0], AnnounceType.NEW),
            ("2411.00003", 1, DAYS[1], AnnounceType.CROSS),
            ("2411.00004", 1, DAYS[2], AnnounceType.NEW),
            ("2411.00001", 2, DAYS[2], AnnounceType.REPLACE),
        ],
        group="cs",
        source="rss",
    )
    topics = {q: await s.digests.topic_id(q, q, now=NOW) for q in ("diff", "head", "lip", "cli")}

    async def chat(key: str, kind: ChatKind) -> str:
        await s.chats.ensure_chat(key, kind, None, now=NOW, language="en")
        return key

    tg_private = await chat("telegram:1", ChatKind.PRIVATE)
    tg_group = await chat("telegram:-100", ChatKind.GROUP)
    tg_channel = await chat("telegram:-200", ChatKind.CHANNEL)
    dc_channel = await chat("discord:10", ChatKind.GROUP)
    dc_dm = await chat("discord:20", ChatKind.PRIVATE)
    for key, query in [
        (tg_private, "diff"), (tg_private, "head"), (tg_group, "diff"), (tg_channel, "lip"),
        (dc_channel, "diff"), (dc_dm, "head"),
    ]:  # fmt: skip
        await s.chats.add_subscription(key, topics[query], query, created_by=None, now=NOW)

    async def digest(topic: str, through: date) -> int:
        d = await s.digests.save_digest(
            audience="cli", topic_id=topics[topic], since=through, through=through, entries=[],
            total_matched=0, now=NOW,
        )  # fmt: skip
        assert d.id is not None
        return d.id

    a, b, c = (
        await digest("diff", DAYS[0]),
        await digest("diff", DAYS[1]),
        await digest("head", DAYS[2]),
    )
    # Sent: two. Queued: two (one waiting to retry). Paused by a person: two. Suspended by
    # delivery: two. Skipped: one. Failed: one.
    for key in (tg_private, dc_channel, tg_group, tg_channel, dc_dm):
        await s.outbox.enqueue_delivery(key, None, a, now=NOW)
    for key in (tg_private, dc_channel, tg_group):
        await s.outbox.enqueue_delivery(key, None, b, now=NOW)
    await s.outbox.enqueue_delivery(tg_private, None, c, now=NOW, status="skipped")
    await s.outbox.enqueue_delivery(dc_channel, None, c, now=NOW)
    tasks = {(t.chat_key, t.digest_id): t.id for t in await s.outbox.due_deliveries(NOW)}
    for key in (tg_private, dc_channel):
        await s.outbox.mark_part_sent(tasks[key, a], 2, finished=True, now=NOW)
    await s.outbox.fail_delivery(tasks[dc_channel, c], error="too long", now=NOW)
    later = NOW + timedelta(hours=1)
    await s.outbox.retry_delivery_later(tasks[tg_private, b], attempts=1, at=later, error="x")
    await s.chats.set_paused(tg_group, True, reason=None, now=NOW)  # by a person
    for key in (tg_channel, dc_dm):
        await s.chats.set_paused(key, True, reason="blocked", now=NOW)  # by delivery

    # Summaries: three by the LLM, two extractive (one after the model failed).
    for i, model in enumerate(("gpt-x", "gpt-x", "gpt-y")):
        skey = SummaryKey(f"2411.0000{i + 1}", 1, "en", "p1", model)
        llm = Summary("TL;DR.", ("One.",), "en", SummarySource.LLM, model)
        await s.summaries.put_summary(skey, CachedSummary(llm, NOW))
    for pid, reason in (("2411.00004", None), ("2411.00005", "the answer failed validation")):
        skey = SummaryKey(pid, 1, "en", "p1", "extractive")
        extract = Summary("Extract.", ("One.",), "en", SummarySource.EXTRACTIVE, None, reason)
        await s.summaries.put_summary(skey, CachedSummary(extract, NOW))

    # Reviews: one by the LLM, two extractive.
    from bot.fulltext.model import TextSource
    from bot.reviews.model import CachedReview, Review, ReviewKey, ReviewOrigin

    review = Review(
        paper_id="2411.00001", version=2, title="T", authors=(), affiliations=(),
        source=TextSource.HTML, origin=ReviewOrigin.LLM, links=(), language="en", keywords=(),
        background="B.", prior_work="P.", method="M.", results="R.", method_steps=(),
        significance="S.", strengths="", weaknesses="", translated_title=None, model="gpt-x",
    )  # fmt: skip
    await s.reviews.put_review(
        ReviewKey("2411.00001", 2, "en", "r1", "gpt-x"), CachedReview(review, NOW)
    )
    extractive = replace(review, origin=ReviewOrigin.EXTRACTIVE, model=None)
    for pid in ("2411.00002", "2411.00003"):
        await s.reviews.put_review(
            ReviewKey(pid, 1, "en", "r1", "extractive"), CachedReview(extractive, NOW)
        )

    # LLM usage: today twice; 3 and 6 days ago (in the week); 7 and 10 days ago (out of it).
    for days_ago, prompt, completion in [
        (0, 100, 20), (0, 50, 10), (3, 200, 40), (6, 1, 1), (7, 7, 7), (10, 1000, 1000),
    ]:  # fmt: skip
        day = TODAY - timedelta(days=days_ago)
        await s.usage.add_usage(day, prompt_tokens=prompt, completion_tokens=completion)


@pytest.fixture
async def storage(tmp_path: Path) -> Storage:
    async with await Storage.open(tmp_path / "stats.db") as opened:
        await build(opened)
        return opened  # closed: tests use the file, through the command or a new connection


async def test_every_figure_is_counted_from_the_rows(storage: Storage) -> None:
    async with await Storage.open(storage.path) as s:
        stats = await collect_stats(s.stats, TODAY)
    assert (stats.today, stats.papers, stats.papers_announced) == (TODAY, 5, 4)
    assert (stats.announcement_days, stats.first_listing, stats.last_listing) == (3, *DAYS[::2])
    assert (stats.topics, stats.topics_followed) == (4, 3)
    assert stats.platforms == (
        PlatformCounts("telegram", chats=3, paused=1, suspended=1, subscriptions=4, topics=3),
        PlatformCounts("discord", chats=2, paused=0, suspended=1, subscriptions=2, topics=2),
    )
    assert stats.summaries == OriginCounts(llm=3, extractive=2)
    assert stats.reviews == OriginCounts(llm=1, extractive=2)
    assert stats.llm_today == UsageTotals(TODAY, TODAY, 150, 30, 2)
    assert stats.llm_last_7_days == UsageTotals(TODAY - timedelta(days=6), TODAY, 351, 71, 4)
    assert stats.deliveries == OutboxCounts(
        sent=2, queued=2, paused=2, suspended=2, skipped=1, failed=1
    )
    assert stats.deliveries.pending == 6


async def test_an_empty_database_is_all_zeros(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "empty.db") as s:
        stats = await collect_stats(s.stats, TODAY)
    assert stats.platforms == (PlatformCounts("telegram"), PlatformCounts("discord"))
    data = stats_dict(stats)
    assert data["announcement_days"] == {"count": 0, "first": None, "last": None}

    def numbers(value: object) -> list[object]:
        if isinstance(value, dict):
            return [n for v in value.values() for n in numbers(v)]
        return [value] if isinstance(value, int) else []

    assert set(numbers({k: v for k, v in data.items() if k != "format"})) == {0}


async def test_other_platforms_follow_telegram_and_discord(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "more.db") as s:
        for key in ("zulip:1", "matrix:!a:b.org", "discord:1"):
            await s.chats.ensure_chat(key, ChatKind.PRIVATE, None, now=NOW, language="en")
        stats = await collect_stats(s.stats, TODAY)
    assert [(p.platform, p.chats) for p in stats.platforms] == [
        ("telegram", 0), ("discord", 1), ("matrix", 1), ("zulip", 1),
    ]  # fmt: skip


# -- the command ------------------------------------------------------------------------------


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("PAPERBOY_DB", str(db))

    def no_source(*args: object, **kwargs: object) -> None:
        raise AssertionError("paperboy stats must not build an arXiv source")

    monkeypatch.setattr("bot.source.ArxivSource.from_settings", no_source)
    code = main(["stats", *argv], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return code, out, err


def row(out: str, label: str) -> list[str]:
    """The cells after `label` on the line starting with it."""
    [line] = [line for line in out.splitlines() if line.startswith(label + "  ")]
    return re.split(r"\s{2,}", line[len(label) :].strip())


def test_the_table(
    storage: Storage, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, storage.path)
    assert (code, err) == (0, "")
    assert out.startswith("Paperboy statistics, 2026-11-20 (UTC)\n")
    assert row(out, "Papers stored") == ["5", "(4 announced in a listing)"]
    assert row(out, "Announcement days") == ["3", "(2026-11-18 to 2026-11-20)"]
    assert row(out, "Topics") == ["4", "(3 followed by a chat)"]
    assert row(out, "Chats") == ["Chats", "Paused", "Suspended", "Subscriptions", "Topics"]
    assert row(out, "Telegram") == ["3", "1", "1", "4", "3"]
    assert row(out, "Discord") == ["2", "0", "1", "2", "2"]
    assert row(out, "Cached") == ["LLM", "Extractive", "Total"]
    assert row(out, "Summaries") == ["3", "2", "5"]
    assert row(out, "Reviews") == ["1", "2", "3"]
    assert row(out, "LLM usage") == ["Calls", "Prompt tokens", "Completion tokens", "Total tokens"]
    assert row(out, "Today") == ["2", "150", "30", "180"]
    assert row(out, "Last 7 days") == ["4", "351", "71", "422"]
    assert row(out, "Deliveries") == ["Sent", "Queued", "Paused", "Suspended", "Skipped", "Failed"]
    assert row(out, "All chats") == ["2", "2", "2", "2", "1", "1"]
    assert max(len(line) for line in out.splitlines()) <= 100


def test_json_has_stable_keys(
    storage: Storage, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, storage.path, "--json")
    assert (code, err) == (0, "")
    week = {"since": "2026-11-14", "through": "2026-11-20"}
    assert json.loads(out) == {
        "format": 1,
        "today": "2026-11-20",
        "papers": {"stored": 5, "announced": 4},
        "announcement_days": {"count": 3, "first": "2026-11-18", "last": "2026-11-20"},
        "topics": {"stored": 4, "followed": 3},
        "platforms": {
            "telegram": {"chats": 3, "paused": 1, "suspended": 1, "subscriptions": 4, "topics": 3},
            "discord": {"chats": 2, "paused": 0, "suspended": 1, "subscriptions": 2, "topics": 2},
        },
        "summaries": {"llm": 3, "extractive": 2, "total": 5},
        "reviews": {"llm": 1, "extractive": 2, "total": 3},
        "llm": {
            "today": {
                "since": "2026-11-20", "through": "2026-11-20", "calls": 2,
                "prompt_tokens": 150, "completion_tokens": 30, "total_tokens": 180,
            },
            "last_7_days": {
                **week, "calls": 4, "prompt_tokens": 351, "completion_tokens": 71,
                "total_tokens": 422,
            },
        },
        "deliveries": {
            "sent": 2, "queued": 2, "paused": 2, "suspended": 2, "skipped": 1, "failed": 1,
        },
    }  # fmt: skip


def test_a_fresh_database_prints_zeros(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, tmp_path / "new" / "paperboy.db")
    assert code == 0 and "Traceback" not in err
    assert row(out, "Papers stored") == ["0", "(0 announced in a listing)"]
    assert row(out, "Announcement days") == ["0"]
    assert row(out, "Telegram") == ["0"] * 5 and row(out, "Discord") == ["0"] * 5
    assert row(out, "All chats") == ["0"] * 6
    code, out, _ = run(capsys, monkeypatch, tmp_path / "new" / "paperboy.db", "--json")
    assert code == 0 and json.loads(out)["deliveries"]["queued"] == 0


def test_an_unusable_database_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database\n")
    code, out, err = run(capsys, monkeypatch, bad, "--json")
    assert (code, out) == (2, "")
    assert err.startswith("paperboy: Invalid setting PAPERBOY_DB: ")
    assert err.count("\n") == 1 and bad.read_text() == "not a database\n"


def test_large_numbers_get_separators() -> None:
    from storage.interfaces import Stats

    stats = Stats(
        today=TODAY, papers=1_234_567, papers_announced=1_200_000, announcement_days=400,
        first_listing=DAYS[0], last_listing=DAYS[0], topics=0, topics_followed=0, platforms=(),
        summaries=OriginCounts(), reviews=OriginCounts(),
        llm_today=UsageTotals(TODAY, TODAY, 12_000_000, 3_000_000, 9_999),
        llm_last_7_days=UsageTotals(TODAY, TODAY), deliveries=OutboxCounts(),
    )  # fmt: skip
    out = render_stats_text(stats)
    assert row(out, "Papers stored") == ["1,234,567", "(1,200,000 announced in a listing)"]
    assert row(out, "Announcement days") == ["400", "(2026-11-18)"]
    assert row(out, "Today") == ["9,999", "12,000,000", "3,000,000", "15,000,000"]
