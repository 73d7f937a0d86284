"""`SqliteRequestSpacing`: the arXiv request slot shared by every process using one database.

arXiv's "one request every three seconds, one at a time" is per client, not per process: a CLI
run next to the bot, or two CLI runs back to back, must keep the spacing between them too. The
table `request_slots` holds one time, "no request may start before", which a process reserves
atomically (``BEGIN IMMEDIATE``) before each request and moves forward when the request ends.

The callers are the worker threads that run `requests` (the arXiv client is synchronous), so
each call uses its own short-lived `sqlite3` connection in the calling thread, not the
process's aiosqlite connection. Times are Unix times: the processes share a machine.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

__all__ = ["SqliteRequestSpacing"]

_BUSY_TIMEOUT_S = 10.0


class SqliteRequestSpacing:
    """`bot.source.http.RequestSpacing` in the SQLite file at `path` (already migrated)."""

    def __init__(
        self, path: Path, *, name: str = "arxiv", clock: Callable[[], float] = time.time
    ) -> None:
        self._path = path
        self._name = name
        self._clock = clock

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        return conn

    def reserve(self, hold: float) -> float:
        """Take the slot for at most `hold` seconds and return 0, or return how long to wait.

        `hold` bounds how long a process that dies mid-request keeps the others waiting.
        """
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT next_start FROM request_slots WHERE name = ?", (self._name,)
                ).fetchone()
                now = self._clock()
                if row is not None and now < row[0]:
                    return float(row[0]) - now
                conn.execute(
                    "INSERT INTO request_slots (name, next_start) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET next_start = excluded.next_start",
                    (self._name, now + hold),
                )
                conn.execute("COMMIT")
                return 0.0
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    def release(self, not_before: float) -> None:
        """The request ended: no request (of any process) may start before `not_before`."""
        with closing(self._connect()) as conn:
            conn.execute(
                "INSERT INTO request_slots (name, next_start) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET next_start = excluded.next_start",
                (self._name, not_before),
            )
