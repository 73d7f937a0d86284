"""The `Storage` class: one aiosqlite connection, migrations at open, typed methods for the core.

Methods are named for what the core needs (`record_listing`, `candidates_between`, `save_digest`),
not generic CRUD, and take and return the value objects of `bot.models`. One connection per
process (aiosqlite serialises it on its worker thread) in WAL mode with a busy timeout, so a
second process such as a CLI run next to the bot waits instead of failing with "database is
locked".
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot.models import (
    AnnounceType,
    CachedSummary,
    Digest,
    DigestEntry,
    FeedState,
    Paper,
    Summary,
    SummaryKey,
    SummarySource,
    UpdateNote,
)
from storage.chats import ChatStoreMixin
from storage.migrations import LATEST_VERSION, MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# SQLite's default limit on host parameters is 32766 since 3.32; stay far below it.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredAnnouncement:
    """A paper (at its newest stored version) and one of its listing announcements."""

    paper: Paper
    version: int  # the version the listing announced
    type: AnnounceType
    listing_date: date


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt is not None else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_PAPER_COLUMNS = (
    "id, version, title, abstract, authors, categories, primary_category, comment, "
    "journal_ref, doi, published, updated"
)


def _paper_from_row(row: aiosqlite.Row) -> Paper:
    return Paper(
        id=row["id"],
        version=row["version"],
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(json.loads(row["authors"])),
        categories=tuple(json.loads(row["categories"])),
        primary_category=row["primary_category"],
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
        published=_dt(row["published"]),
        updated=_dt(row["updated"]),
    )


def _prepare_directory(path: Path) -> Path:
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class Storage(ChatStoreMixin):
    """All database access. Open with `async with await Storage.open(path)`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        """Open (creating if needed) and migrate the database at `path`."""
        db_path = Path(str(path))
        if str(db_path) != ":memory:":
            db_path = await asyncio.to_thread(_prepare_directory, db_path)
        conn = await aiosqlite.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            # NORMAL is durable across application crashes in WAL mode; only an OS crash can
            # lose the last transactions, which the outbox then re-delivers.
            await conn.execute("PRAGMA synchronous = NORMAL")
            storage = cls(conn, db_path)
            await storage._migrate()
        except BaseException:
            await conn.close()
            raise
        return storage

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        current = await self.schema_version()
        if current > LATEST_VERSION:
            raise RuntimeError(
                f"database {self.path} has schema version {current}, newer than this Paperboy "
                f"({LATEST_VERSION}); upgrade Paperboy instead of downgrading the database"
            )
        for number in range(current + 1, LATEST_VERSION + 1):
            log.info("migrating database %s to schema version %d", self.path, number)
            # executescript commits first, so wrap each step in its own explicit transaction:
            # a failure leaves the database at the previous version, never half-migrated.
            script = MIGRATIONS[number - 1]
            await self._conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    # -- papers ----------------------------------------------------------------------------

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
                _iso(p.published),
                _iso(p.updated),
                p.version if enriched else None,
                _iso(now),
                _iso(now),
            )
            for p in papers
        ]
        if not rows:
            return
        await self._conn.executemany(
            f"""
            INSERT INTO papers ({_PAPER_COLUMNS}, enriched_version, first_seen_at, updated_at)
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
        found: dict[str, Paper] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            marks = ",".join("?" * len(chunk))
            async with self._conn.execute(
                f"SELECT {_PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", chunk
            ) as cur:
                for row in await cur.fetchall():
                    found[row["id"]] = _paper_from_row(row)
        return found

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
        for chunk in _chunks(list(dict.fromkeys(ids))):
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
            last_listing_date=_d(row["last_listing_date"]),
            last_fetch_at=_dt(row["last_fetch_at"]),
            covered_from=_d(row["covered_from"]),
        )

    async def save_feed_state(self, state: FeedState) -> None:
        await self._conn.execute(
            """
            INSERT INTO feed_state (feed_group, last_listing_date, last_fetch_at, covered_from)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (feed_group) DO UPDATE SET
                last_listing_date = excluded.last_listing_date,
                last_fetch_at = excluded.last_fetch_at,
                covered_from = excluded.covered_from
            """,
            (
                state.group,
                state.last_listing_date.isoformat() if state.last_listing_date else None,
                _iso(state.last_fetch_at),
                state.covered_from.isoformat() if state.covered_from else None,
            ),
        )
        await self._conn.commit()

    async def latest_listing_date(self) -> date | None:
        async with self._conn.execute("SELECT MAX(listing_date) FROM announcements") as cur:
            row = await cur.fetchone()
        return _d(row[0]) if row else None

    async def announcements_between(
        self, after: date | None, through: date
    ) -> list[StoredAnnouncement]:
        """Announcements with `after < listing_date <= through`, oldest first, one per paper
        version (the earliest listing that announced it)."""
        async with self._conn.execute(
            f"""
            SELECT {", ".join("p." + c.strip() for c in _PAPER_COLUMNS.split(","))},
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
                paper=_paper_from_row(row),
                version=row["a_version"],
                type=AnnounceType(row["a_type"]),
                listing_date=date.fromisoformat(row["a_date"]),
            )
            for row in rows
        ]

    # -- topics and digests -----------------------------------------------------------------

    async def topic_id(self, canonical: str, text: str, *, now: datetime) -> int:
        """The id of the topic with this canonical query, created on first use."""
        await self._conn.execute(
            "INSERT OR IGNORE INTO topics (canonical, text, created_at) VALUES (?, ?, ?)",
            (canonical, text, _iso(now)),
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
        for chunk in _chunks(list(dict.fromkeys(paper_ids))):
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
        return _d(row[0]) if row else None

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
        papers = await self.get_papers([r["paper_id"] for r in entry_rows])
        entries = tuple(
            DigestEntry(
                paper=papers[r["paper_id"]],
                kind=UpdateNote(r["kind"]),
                previous_version=r["previous_version"],
            )
            for r in entry_rows
            if r["paper_id"] in papers
        )
        created = _dt(row["created_at"])
        assert created is not None
        return Digest(
            id=row["id"],
            query=row["query"],
            audience=row["audience"],
            since=_d(row["since"]),
            through=_d(row["through"]),
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
                _iso(now),
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

    # -- summary cache ----------------------------------------------------------------------

    async def get_summaries(self, keys: Sequence[SummaryKey]) -> dict[SummaryKey, CachedSummary]:
        wanted = set(keys)
        found: dict[SummaryKey, CachedSummary] = {}
        by_paper = list(dict.fromkeys(k.paper_id for k in keys))
        for chunk in _chunks(by_paper):
            marks = ",".join("?" * len(chunk))
            async with self._conn.execute(
                f"SELECT * FROM summaries WHERE paper_id IN ({marks})", chunk
            ) as cur:
                rows = await cur.fetchall()
            for row in rows:
                key = SummaryKey(
                    paper_id=row["paper_id"],
                    version=row["version"],
                    language=row["language"],
                    prompt_version=row["prompt_version"],
                    model=row["model"],
                )
                if key not in wanted:
                    continue
                created = _dt(row["created_at"])
                assert created is not None
                found[key] = CachedSummary(
                    summary=Summary(
                        tldr=row["tldr"],
                        takeaways=tuple(json.loads(row["takeaways"])),
                        language=row["summary_language"],
                        source=SummarySource(row["source"]),
                        model=row["summary_model"],
                    ),
                    created_at=created,
                )
        return found

    async def put_summary(self, key: SummaryKey, cached: CachedSummary) -> None:
        s = cached.summary
        await self._conn.execute(
            """
            INSERT OR REPLACE INTO summaries
                (paper_id, version, language, prompt_version, model, tldr, takeaways, source,
                 summary_language, summary_model, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                key.paper_id,
                key.version,
                key.language,
                key.prompt_version,
                key.model,
                s.tldr,
                json.dumps(list(s.takeaways), ensure_ascii=False),
                s.source.value,
                s.language,
                s.model,
                _iso(cached.created_at),
            ),
        )
        await self._conn.commit()
