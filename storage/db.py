"""The `Storage` class: one aiosqlite connection, migrations at open, and the stores.

`Storage` owns the connection and the schema (open, migrate, close); the data is reached
through its stores, each behind an interface of `storage.interfaces`: `papers`, `digests`,
`chats`, `outbox`, `summaries`, `reviews`, `usage` and `stats`. Their methods are named for what
the core needs and take and return the value objects of `bot.models` (and `bot.reviews.model`).
One connection per process (aiosqlite serialises it on its worker thread) in WAL mode with a
busy timeout, so a second process such as a CLI run next to the bot waits instead of failing
with "database is locked".
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Self

import aiosqlite

from storage.chats import SqliteChatStore
from storage.digests import SqliteDigestStore
from storage.interfaces import (
    ChatStore,
    DigestStore,
    Outbox,
    PaperStore,
    ReviewStore,
    StatsStore,
    SummaryStore,
    UsageStore,
)
from storage.migrations import LATEST_VERSION, MIGRATIONS
from storage.outbox import SqliteOutbox
from storage.papers import SqlitePaperStore
from storage.reviews import SqliteReviewStore
from storage.spacing import SqliteRequestSpacing
from storage.stats import SqliteStatsStore
from storage.summaries import SqliteSummaryStore
from storage.usage import SqliteUsageStore

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


_SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseUnusable(Exception):
    """The database path cannot hold Paperboy's database; the message says why, in one line."""


def _prepare_directory(path: Path) -> Path:
    """Create the database's directory; refuse, before SQLite touches it, a file that is not
    an SQLite database (SQLite would otherwise fail late, or create -wal/-shm files next to it).
    """
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DatabaseUnusable(f"{path.parent} exists and is not a directory") from None
    except NotADirectoryError:
        raise DatabaseUnusable(f"a part of {path.parent} is a file, not a directory") from None
    except OSError as exc:
        raise DatabaseUnusable(f"cannot create {path.parent} ({exc.strerror})") from None
    if path.is_dir():
        raise DatabaseUnusable(f"{path} is a directory, not a database file")
    try:
        with path.open("rb") as f:
            header = f.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise DatabaseUnusable(f"cannot read {path} ({exc.strerror})") from None
    if header and header != _SQLITE_HEADER:
        raise DatabaseUnusable(f"{path} exists and is not an SQLite database (left untouched)")
    return path


class Storage:
    """All database access. Open with `async with await Storage.open(path)`, then use the
    stores: `storage.papers`, `.digests`, `.chats`, `.outbox`, `.summaries`, `.reviews`,
    `.usage`, `.stats`."""

    papers: PaperStore
    digests: DigestStore
    chats: ChatStore
    outbox: Outbox
    summaries: SummaryStore
    reviews: ReviewStore
    usage: UsageStore
    stats: StatsStore

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self.papers = SqlitePaperStore(conn)
        self.digests = SqliteDigestStore(conn)
        self.chats = SqliteChatStore(conn)
        self.outbox = SqliteOutbox(conn)
        self.summaries = SqliteSummaryStore(conn)
        self.reviews = SqliteReviewStore(conn)
        self.usage = SqliteUsageStore(conn)
        self.stats = SqliteStatsStore(conn)

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        """Open (creating if needed) and migrate the database at `path`."""
        db_path = Path(str(path))
        if str(db_path) != ":memory:":
            db_path = await asyncio.to_thread(_prepare_directory, db_path)
        try:
            conn = await aiosqlite.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise DatabaseUnusable(f"cannot open {db_path} ({exc})") from None
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
        except sqlite3.Error as exc:
            await conn.close()
            raise DatabaseUnusable(f"cannot use {db_path} ({exc})") from None
        except BaseException:
            await conn.close()
            raise
        return storage

    def request_spacing(self) -> SqliteRequestSpacing | None:
        """The arXiv request slot shared with other processes on this file (None in memory)."""
        if str(self.path) == ":memory:":
            return None
        return SqliteRequestSpacing(self.path)

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
