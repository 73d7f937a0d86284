"""`SqliteDigestStore`: topics (one per canonical query) and the digests built from them.

Owns the tables `topics`, `digests` and `digest_entries`. A digest is per audience (a chat
key, or "cli") and topic; its entries are what counts as delivered to that audience.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import aiosqlite

from bot.models import Digest, DigestEntry, UpdateNote
from storage.sql import chunks, iso, select_papers, to_date, to_dt


class SqliteDigestStore:
    """`DigestStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def topic_id(self, canonical: str, text: str, *, now: datetime) -> int:
        """The id of the topic with this canonical query, created on first use."""
        await self._conn.execute(
            "INSERT OR IGNORE INTO topics (canonical, text, created_at) VALUES (?, ?, ?)",
            (canonical, text, iso(now)),
        )
        await self._conn.commit()
        async with self._conn.execute(
            "SELECT id FROM topics WHERE canonical = ?", (canonical,)
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def delivered_versions(
        self, audience: str, topic_id: int, paper_ids: Sequence[str]
    ) -> dict[str, int]:
        """For each paper already in one of this audience's digests of the topic, the newest
        version delivered."""
        result: dict[str, int] = {}
        for chunk in chunks(list(dict.fromkeys(paper_ids))):
            marks = ",".join("?" * len(chunk))
            async with self._conn.execute(
                f"""
                SELECT e.paper_id, MAX(e.version) FROM digest_entries e
                JOIN digests d ON d.id = e.digest_id
                WHERE d.audience = ? AND d.topic_id = ? AND e.paper_id IN ({marks})
                GROUP BY e.paper_id
                """,
                (audience, topic_id, *chunk),
            ) as cur:
                result.update({row[0]: row[1] for row in await cur.fetchall()})
        return result

    async def last_digest_through(self, audience: str, topic_id: int) -> date | None:
        async with self._conn.execute(
            "SELECT MAX(through) FROM digests WHERE audience = ? AND topic_id = ?",
            (audience, topic_id),
        ) as cur:
            row = await cur.fetchone()
        return to_date(row[0]) if row else None

    async def find_digest(self, audience: str, topic_id: int, through: date) -> Digest | None:
        async with self._conn.execute(
            """
            SELECT d.*, t.text AS query FROM digests d JOIN topics t ON t.id = d.topic_id
            WHERE d.audience = ? AND d.topic_id = ? AND d.through = ?
            """,
            (audience, topic_id, through.isoformat()),
        ) as cur:
            row = await cur.fetchone()
        return await self._load_digest(row) if row else None

    async def get_digest(self, digest_id: int) -> Digest | None:
        async with self._conn.execute(
            "SELECT d.*, t.text AS query FROM digests d JOIN topics t ON t.id = d.topic_id "
            "WHERE d.id = ?",
            (digest_id,),
        ) as cur:
            row = await cur.fetchone()
        return await self._load_digest(row) if row else None

    async def _load_digest(self, row: aiosqlite.Row) -> Digest:
        async with self._conn.execute(
            """
            SELECT paper_id, version, kind, previous_version FROM digest_entries
            WHERE digest_id = ? ORDER BY position
            """,
            (row["id"],),
        ) as cur:
            entry_rows = await cur.fetchall()
        papers = await select_papers(self._conn, [r["paper_id"] for r in entry_rows])
        entries = tuple(
            DigestEntry(
                paper=papers[r["paper_id"]],
                kind=UpdateNote(r["kind"]),
                previous_version=r["previous_version"],
            )
            for r in entry_rows
            if r["paper_id"] in papers
        )
        created = to_dt(row["created_at"])
        assert created is not None
        return Digest(
            id=row["id"],
            query=row["query"],
            audience=row["audience"],
            since=to_date(row["since"]),
            through=to_date(row["through"]),
            created_at=created,
            entries=entries,
            total_matched=row["total_matched"],
        )

    async def save_digest(
        self,
        *,
        audience: str,
        topic_id: int,
        since: date | None,
        through: date | None,
        entries: Sequence[DigestEntry],
        total_matched: int,
        now: datetime,
    ) -> Digest:
        """Record a digest and its entries in one transaction, so the papers count as delivered
        to this audience exactly when the digest exists."""
        async with self._conn.execute(
            """
            INSERT INTO digests (audience, topic_id, since, through, total_matched, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (
                audience,
                topic_id,
                since.isoformat() if since else None,
                through.isoformat() if through else None,
                total_matched,
                iso(now),
            ),
        ) as cur:
            digest_id = cur.lastrowid
        assert digest_id is not None
        await self._conn.executemany(
            """
            INSERT INTO digest_entries
                (digest_id, position, paper_id, version, kind, previous_version)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            [
                (digest_id, i, e.paper.id, e.paper.version, e.kind.value, e.previous_version)
                for i, e in enumerate(entries)
            ],
        )
        await self._conn.commit()
        digest = await self.get_digest(digest_id)
        assert digest is not None
        return digest
