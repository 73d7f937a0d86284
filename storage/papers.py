"""`SqlitePaperStore`: papers (newest version only), their listing announcements, feed state.

Owns the tables `papers`, `paper_versions`, `announcements` and `feed_state`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import aiosqlite

from bot.models import AnnounceType, FeedState, Paper
from storage.interfaces import StoredAnnouncement
from storage.sql import (
    PAPER_COLUMNS,
    chunks,
    iso,
    paper_from_row,
    select_papers,
    to_date,
    to_dt,
)


class SqlitePaperStore:
    """`PaperStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def upsert_papers(
        self, papers: Iterable[Paper], *, now: datetime, enriched: bool = False
    ) -> None:
        """Store papers keyed by id without version; a newer version replaces older metadata.

        Metadata of an older version never overwrites a newer one, and feed data (no comments)
        never overwrites API-enriched data of the same version.
        """
        rows = [
            (
                p.id,
                p.version,
                p.title,
                p.abstract,
                json.dumps(list(p.authors), ensure_ascii=False),
                json.dumps(list(p.categories)),
                p.primary_category,
                p.comment,
                p.journal_ref,
                p.doi,
                iso(p.published),
                iso(p.updated),
                p.version if enriched else None,
                iso(now),
                iso(now),
            )
            for p in papers
        ]
        if not rows:
            return
        await self._conn.executemany(
            f"""
            INSERT INTO papers ({PAPER_COLUMNS}, enriched_version, first_seen_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                version = excluded.version,
                title = excluded.title,
                abstract = excluded.abstract,
                authors = excluded.authors,
                categories = excluded.categories,
                primary_category = COALESCE(excluded.primary_category, primary_category),
                comment = CASE WHEN excluded.enriched_version IS NOT NULL
                               THEN excluded.comment ELSE comment END,
                journal_ref = COALESCE(excluded.journal_ref, journal_ref),
                doi = COALESCE(excluded.doi, doi),
                published = COALESCE(excluded.published, published),
                updated = COALESCE(excluded.updated, updated),
                enriched_version = COALESCE(excluded.enriched_version,
                    CASE WHEN excluded.version = version THEN enriched_version END),
                updated_at = excluded.updated_at
            WHERE excluded.version > version
               OR (excluded.version = version
                   AND (excluded.enriched_version IS NOT NULL OR enriched_version IS NULL))
            """,
            rows,
        )
        await self._conn.executemany(
            "INSERT OR IGNORE INTO paper_versions (paper_id, version, seen_at) VALUES (?, ?, ?)",
            [(r[0], r[1], r[13]) for r in rows],
        )
        await self._conn.commit()

    async def get_papers(self, ids: Sequence[str]) -> dict[str, Paper]:
        return await select_papers(self._conn, ids)

    async def get_paper(self, paper_id: str) -> Paper | None:
        return (await self.get_papers([paper_id])).get(paper_id)

    async def unenriched_ids(self, since: date) -> list[str]:
        """Ids announced on or after `since` whose newest version lacks full API metadata."""
        async with self._conn.execute(
            """
            SELECT DISTINCT p.id FROM papers p JOIN announcements a ON a.paper_id = p.id
            WHERE a.listing_date >= ?
              AND (p.enriched_version IS NULL OR p.enriched_version < p.version)
            ORDER BY p.id
            """,
            (since.isoformat(),),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def known_versions(self, ids: Sequence[str]) -> dict[str, int]:
        """The newest stored version of each known id."""
        result: dict[str, int] = {}
        for chunk in chunks(list(dict.fromkeys(ids))):
            marks = ",".join("?" * len(chunk))
            async with self._conn.execute(
                f"SELECT id, version FROM papers WHERE id IN ({marks})", chunk
            ) as cur:
                result.update({row[0]: row[1] for row in await cur.fetchall()})
        return result

    # -- announcements and feed state -------------------------------------------------------

    async def record_announcements(
        self,
        announcements: Iterable[tuple[str, int, date, AnnounceType]],
        *,
        group: str,
        source: str,
    ) -> int:
        """Record (paper id, version, listing date, type) events; returns how many were new.

        The same paper can be announced in two groups on one day (new in one, cross in the
        other); the first record wins, which is fine because both types are digest candidates.
        """
        rows = [(pid, v, d.isoformat(), t.value, group, source) for pid, v, d, t in announcements]
        if not rows:
            return 0
        before = self._conn.total_changes
        await self._conn.executemany(
            """
            INSERT OR IGNORE INTO announcements
                (paper_id, version, listing_date, type, feed_group, source)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            rows,
        )
        await self._conn.commit()
        return self._conn.total_changes - before

    async def feed_state(self, group: str) -> FeedState | None:
        async with self._conn.execute(
            "SELECT * FROM feed_state WHERE feed_group = ?", (group,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return FeedState(
            group=row["feed_group"],
            last_listing_date=to_date(row["last_listing_date"]),
            last_fetch_at=to_dt(row["last_fetch_at"]),
            covered_from=to_date(row["covered_from"]),
            etag=row["etag"],
            last_modified=row["last_modified"],
            feed_date=to_date(row["feed_date"]),
        )

    async def save_feed_state(self, state: FeedState) -> None:
        await self._conn.execute(
            """
            INSERT INTO feed_state (feed_group, last_listing_date, last_fetch_at, covered_from,
                                    etag, last_modified, feed_date)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (feed_group) DO UPDATE SET
                last_listing_date = excluded.last_listing_date,
                last_fetch_at = excluded.last_fetch_at,
                covered_from = excluded.covered_from,
                etag = excluded.etag,
                last_modified = excluded.last_modified,
                feed_date = excluded.feed_date
            """,
            (
                state.group,
                state.last_listing_date.isoformat() if state.last_listing_date else None,
                iso(state.last_fetch_at),
                state.covered_from.isoformat() if state.covered_from else None,
                state.etag,
                state.last_modified,
                state.feed_date.isoformat() if state.feed_date else None,
            ),
        )
        await self._conn.commit()

    async def latest_listing_date(self) -> date | None:
        async with self._conn.execute("SELECT MAX(listing_date) FROM announcements") as cur:
            row = await cur.fetchone()
        return to_date(row[0]) if row else None

    async def announcements_between(
        self, after: date | None, through: date
    ) -> list[StoredAnnouncement]:
        """Announcements with `after < listing_date <= through`, oldest first, one per paper
        version (the earliest listing that announced it)."""
        async with self._conn.execute(
            f"""
            SELECT {", ".join("p." + c.strip() for c in PAPER_COLUMNS.split(","))},
                   a.version AS a_version, a.type AS a_type, MIN(a.listing_date) AS a_date
            FROM announcements a JOIN papers p ON p.id = a.paper_id
            WHERE a.listing_date > ? AND a.listing_date <= ?
            GROUP BY a.paper_id, a.version
            ORDER BY a_date, a.paper_id
            """,
            ((after or date.min).isoformat(), through.isoformat()),
        ) as cur:
            rows = await cur.fetchall()
        return [
            StoredAnnouncement(
                paper=paper_from_row(row),
                version=row["a_version"],
                type=AnnounceType(row["a_type"]),
                listing_date=date.fromisoformat(row["a_date"]),
            )
            for row in rows
        ]
