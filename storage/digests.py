"""`SqliteDigestStore`: topics (one per canonical query) and the digests built from them.

Owns the tables `topics`, `digests` and `digest_entries`. A digest is per audience (a chat
key, or "cli") and topic; its entries are what counts as delivered to that audience.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import aiosqlite

from bot.models import Digest, DigestEntry, Paper, UpdateNote
from storage.interfaces import DigestKey, NewDigest
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
        return _digest(row, entry_rows, papers)

    # -- batches: a few statements for many (audience, topic) keys -------------------------
    # Keys and rows travel as one JSON parameter read with json_each, so a batch is one
    # statement whatever its size (no host-parameter limit, no per-row round trip through
    # aiosqlite's thread). CROSS JOIN keeps the JSON rows in the outer loop, so each one is
    # an index lookup.

    async def last_throughs(self, keys: Sequence[DigestKey]) -> dict[DigestKey, date]:
        """For each key with a digest, the last listing date its digests cover."""
        if not keys:
            return {}
        async with self._conn.execute(
            """
            SELECT k.value ->> 0, k.value ->> 1, MAX(d.through)
            FROM json_each(?) k CROSS JOIN digests d
              ON d.audience = k.value ->> 0 AND d.topic_id = k.value ->> 1
            GROUP BY k.key
            """,
            (json.dumps(list(dict.fromkeys(keys))),),
        ) as cur:
            rows = await cur.fetchall()
        return {(row[0], int(row[1])): date.fromisoformat(row[2]) for row in rows if row[2]}

    async def find_digests(
        self, keys: Sequence[DigestKey], through: date
    ) -> dict[DigestKey, Digest]:
        """The digests of these keys through that listing date, those that were built."""
        if not keys:
            return {}
        async with self._conn.execute(
            """
            SELECT d.*, t.text AS query
            FROM json_each(?) k CROSS JOIN digests d
              ON d.audience = k.value ->> 0 AND d.topic_id = k.value ->> 1 AND d.through = ?
            JOIN topics t ON t.id = d.topic_id
            """,
            (json.dumps(list(dict.fromkeys(keys))), through.isoformat()),
        ) as cur:
            rows = await cur.fetchall()
        if not rows:
            return {}
        async with self._conn.execute(
            """
            SELECT e.digest_id, e.paper_id, e.version, e.kind, e.previous_version
            FROM json_each(?) k CROSS JOIN digest_entries e ON e.digest_id = k.value
            ORDER BY e.digest_id, e.position
            """,
            (json.dumps([row["id"] for row in rows]),),
        ) as cur:
            entry_rows = await cur.fetchall()
        papers = await select_papers(self._conn, [r["paper_id"] for r in entry_rows])
        by_digest: dict[int, list[aiosqlite.Row]] = {}
        for entry in entry_rows:
            by_digest.setdefault(entry["digest_id"], []).append(entry)
        return {
            (row["audience"], row["topic_id"]): _digest(row, by_digest.get(row["id"], []), papers)
            for row in rows
        }

    async def topic_texts(self, topic_ids: Sequence[int]) -> dict[int, str]:
        """Each topic's query as first typed (what digests show), by id."""
        if not topic_ids:
            return {}
        async with self._conn.execute(
            "SELECT t.id, t.text FROM json_each(?) k CROSS JOIN topics t ON t.id = k.value",
            (json.dumps(list(dict.fromkeys(topic_ids))),),
        ) as cur:
            return {int(row[0]): row[1] for row in await cur.fetchall()}

    async def delivered_versions_many(
        self, wanted: Sequence[tuple[DigestKey, Sequence[str]]]
    ) -> dict[DigestKey, dict[str, int]]:
        """`delivered_versions` for many keys, each with its paper ids, in one statement."""
        if not wanted:
            return {}
        rows_in = [[audience, topic, list(ids)] for (audience, topic), ids in wanted if ids]
        if not rows_in:
            return {}
        async with self._conn.execute(
            """
            SELECT k.value ->> 0, k.value ->> 1, p.value, MAX(e.version)
            FROM json_each(?) k CROSS JOIN json_each(k.value, '$[2]') p
            CROSS JOIN digests d ON d.audience = k.value ->> 0 AND d.topic_id = k.value ->> 1
            CROSS JOIN digest_entries e ON e.digest_id = d.id AND e.paper_id = p.value
            GROUP BY k.key, p.value
            """,
            (json.dumps(rows_in),),
        ) as cur:
            rows = await cur.fetchall()
        result: dict[DigestKey, dict[str, int]] = {}
        for row in rows:
            result.setdefault((row[0], int(row[1])), {})[row[2]] = int(row[3])
        return result

    async def save_digests(
        self, digests: Sequence[NewDigest], *, now: datetime
    ) -> list[int | None]:
        """Record many digests and their entries in one transaction; their ids in order, None
        for one not written because that audience's digest of the topic through that date
        already exists (built meanwhile). Nothing is read back: the caller has the digests."""
        if not digests:
            return []
        try:
            async with self._conn.execute(
                """
                INSERT OR IGNORE INTO digests
                    (audience, topic_id, since, through, total_matched, created_at)
                SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?
                FROM json_each(?)
                RETURNING id, audience, topic_id, through
                """,
                (
                    iso(now),
                    json.dumps(
                        [
                            [
                                d.audience,
                                d.topic_id,
                                d.since.isoformat() if d.since else None,
                                d.through.isoformat() if d.through else None,
                                d.total_matched,
                            ]
                            for d in digests
                        ]
                    ),
                ),
            ) as cur:
                written = {
                    (row[1], int(row[2]), row[3]): int(row[0]) for row in await cur.fetchall()
                }
            ids: list[int | None] = []
            entries: list[list[object]] = []
            for d in digests:
                # A key given twice is written once; its second copy reads as not written.
                through = d.through.isoformat() if d.through else None
                digest_id = written.pop((d.audience, d.topic_id, through), None)
                ids.append(digest_id)
                if digest_id is not None:
                    entries.extend(
                        [digest_id, i, e.paper.id, e.paper.version, e.kind.value,
                         e.previous_version]
                        for i, e in enumerate(d.entries)
                    )  # fmt: skip
            if entries:
                await self._conn.execute(
                    """
                    INSERT INTO digest_entries
                        (digest_id, position, paper_id, version, kind, previous_version)
                    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                           value ->> 5
                    FROM json_each(?)
                    """,
                    (json.dumps(entries),),
                )
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
        return ids

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


def _digest(
    row: aiosqlite.Row, entry_rows: Iterable[aiosqlite.Row], papers: dict[str, Paper]
) -> Digest:
    """A digest from its row (with the topic's text as `query`), entry rows and papers."""
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
