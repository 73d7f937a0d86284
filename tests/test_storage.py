"""Storage as a file: opening, WAL, migrations from every earlier schema, version rules, and two
processes sharing one database. What each store does is in tests/test_storage_contract.py."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.models import Paper
from storage import DeliveryCounts, Storage
from storage.migrations import LATEST_VERSION, MIGRATIONS

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OUTBOX_SCHEMA = 2  # the first schema with chats and the delivery outbox


def make_paper(pid: str) -> Paper:
    return Paper(
        id=pid,
        version=1,
        title=f"Paper {pid}",
        abstract="An abstract.",
        authors=("Ada Lovelace",),
        categories=("cs.CV",),
        primary_category="cs.CV",
    )


async def test_open_creates_directories_wal_and_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "p.db"
    async with await Storage.open(path) as s:
        assert await s.schema_version() == LATEST_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _old_outbox_rows(conn: sqlite3.Connection) -> None:
    """A chat, a topic, a digest and two deliveries as schema 2 stored them."""
    conn.executescript(
        """
        INSERT INTO chats (key, kind, created_at, updated_at)
            VALUES ('t:1', 'private', 'x', 'x');
        INSERT INTO topics (id, canonical, text, created_at) VALUES (1, 'a', 'a', 'x');
        INSERT INTO digests (id, audience, topic_id, through, total_matched, created_at)
            VALUES (7, 't:1', 1, '2026-11-20', 0, '2026-11-20T00:00:00+00:00');
        INSERT INTO digests (id, audience, topic_id, through, total_matched, created_at)
            VALUES (8, 't:1', 1, '2026-11-21', 0, '2026-11-21T00:00:00+00:00');
        INSERT INTO deliveries (id, chat_key, digest_id, status, parts_sent, attempts,
                                next_attempt_at, last_error, created_at, finished_at)
            VALUES (40, 't:1', 7, 'sent', 3, 1, '2026-11-20T00:00:00+00:00', NULL,
                    '2026-11-20T00:00:00+00:00', '2026-11-20T00:01:00+00:00');
        INSERT INTO deliveries (id, chat_key, digest_id, status, parts_sent, attempts,
                                next_attempt_at, last_error, created_at)
            VALUES (41, 't:1', 8, 'pending', 1, 2, '2026-11-20T06:00:00+00:00', 'timeout',
                    '2026-11-21T00:00:00+00:00');
        """
    )


@pytest.mark.parametrize("start_version", range(LATEST_VERSION))
async def test_upgrade_from_every_earlier_version_keeps_data(
    tmp_path: Path, start_version: int
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for number in range(1, start_version + 1):
            conn.executescript(MIGRATIONS[number - 1])
        conn.execute(f"PRAGMA user_version = {start_version}")
        conn.execute("CREATE TABLE keepme (x TEXT)")
        conn.execute("INSERT INTO keepme VALUES ('precious')")
        if start_version >= OUTBOX_SCHEMA:
            _old_outbox_rows(conn)
    async with await Storage.open(path) as s:
        assert await s.schema_version() == LATEST_VERSION
        if start_version >= OUTBOX_SCHEMA:
            outbox = s.outbox
            assert await outbox.delivery_counts() == DeliveryCounts(1, 1, 0, 0)
            (pending,) = await outbox.due_deliveries(NOW)
            assert (pending.id, pending.digest_id, pending.parts_sent, pending.attempts) == (
                41, 8, 1, 2,
            )  # fmt: skip
            # The sent digest can be asked for again (a new copy); the pending one is hurried.
            again = await outbox.request_delivery("t:1", None, 7, now=NOW)
            assert again not in {40, 41}
            assert await outbox.request_delivery("t:1", None, 8, now=NOW) == 41
            assert not await outbox.enqueue_delivery("t:1", None, 7, now=NOW)
            assert [t.id for t in await outbox.due_deliveries(NOW)] == [41, again]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT x FROM keepme").fetchall() == [("precious",)]
        if start_version >= OUTBOX_SCHEMA:
            rows = conn.execute(
                "SELECT id, digest_id, copy, status, parts_sent, last_error, finished_at "
                "FROM deliveries ORDER BY id"
            ).fetchall()
            assert rows[:2] == [
                (40, 7, 0, "sent", 3, None, "2026-11-20T00:01:00+00:00"),
                (41, 8, 0, "pending", 1, "timeout", None),
            ]
            assert [r[1:4] for r in rows[2:]] == [(7, 1, "pending")]
            indexes = {r[1] for r in conn.execute("PRAGMA index_list(deliveries)")}
            assert "deliveries_by_status" in indexes


async def test_newer_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    with pytest.raises(RuntimeError, match="newer than this Paperboy"):
        await Storage.open(path)


async def test_two_connections_share_the_file_without_locking_errors(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with await Storage.open(path) as a, await Storage.open(path) as b:
        await a.papers.upsert_papers([make_paper("2411.00001")], now=NOW)
        await b.papers.upsert_papers([make_paper("2411.00002")], now=NOW)
        assert set(await a.papers.get_papers(["2411.00001", "2411.00002"])) == {
            "2411.00001",
            "2411.00002",
        }
