"""`SqliteOutbox`: the delivery outbox, table `deliveries`.

The outbox is what makes delivery exactly-once across crashes: the scheduled delivery of a
digest to a chat is enqueued once (copy 0 of `UNIQUE (chat_key, digest_id, copy)`), and
progress is committed after every message sent, so a restart resumes after the last message
that went out and repeats none. A chat asking for a digest again (`request_delivery`) gets a
further copy, unless one is still pending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.interfaces import DeliveryCounts, DeliveryTask
from storage.sql import iso_now

_STATUSES = {"pending", "skipped"}


class SqliteOutbox:
    """`Outbox` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def enqueue_delivery(
        self,
        chat_key: str,
        subscription_id: int | None,
        digest_id: int,
        *,
        now: datetime,
        status: str = "pending",
    ) -> bool:
        """Queue a digest for a chat; False if it already was. `status` "skipped" records an
        empty digest nobody asked for (a /digest goes through `request_delivery`)."""
        if status not in _STATUSES:
            raise ValueError(f"not an outbox status: {status}")
        async with self._conn.execute(
            """
            INSERT OR IGNORE INTO deliveries
                (chat_key, subscription_id, digest_id, status, next_attempt_at, created_at,
                 finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            (
                chat_key,
                subscription_id,
                digest_id,
                status,
                iso_now(now),
                iso_now(now),
                None if status == "pending" else iso_now(now),
            ),
        ) as cur:
            added = cur.rowcount == 1
        await self._conn.commit()
        return added

    async def enqueue_deliveries(
        self, rows: Sequence[tuple[str, int | None, int, str]], *, now: datetime
    ) -> list[bool]:
        """`enqueue_delivery` for many (chat key, subscription id, digest id, status) rows, in
        one statement and one transaction; whether each was added (a row given twice is
        added once)."""
        if not rows:
            return []
        for row in rows:
            if row[3] not in _STATUSES:
                raise ValueError(f"not an outbox status: {row[3]}")
        stamp = iso_now(now)
        try:
            async with self._conn.execute(
                """
                INSERT OR IGNORE INTO deliveries
                    (chat_key, subscription_id, digest_id, status, next_attempt_at,
                     created_at, finished_at)
                SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, ?1, ?1,
                       CASE WHEN value ->> 3 = 'pending' THEN NULL ELSE ?1 END
                FROM json_each(?2)
                RETURNING chat_key, digest_id
                """,
                (stamp, json.dumps([list(row) for row in rows])),
            ) as cur:
                added = {(row[0], int(row[1])) for row in await cur.fetchall()}
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
        result = []
        for chat_key, _, digest_id, _ in rows:
            result.append((chat_key, digest_id) in added)
            added.discard((chat_key, digest_id))
        return result

    async def request_delivery(
        self, chat_key: str, subscription_id: int | None, digest_id: int, *, now: datetime
    ) -> int:
        """Deliver this digest to this chat now, in one transaction: a pending delivery of it
        becomes due now; otherwise a new copy is queued, due now. Returns the delivery id."""
        try:
            async with self._conn.execute(
                """
                UPDATE deliveries SET next_attempt_at = ?
                WHERE chat_key = ? AND digest_id = ? AND status = 'pending'
                RETURNING id
                """,
                (iso_now(now), chat_key, digest_id),
            ) as cur:
                hurried = [int(row[0]) for row in await cur.fetchall()]
            if hurried:
                delivery_id = min(hurried)
            else:
                async with self._conn.execute(
                    """
                    INSERT INTO deliveries
                        (chat_key, subscription_id, digest_id, copy, status, next_attempt_at,
                         created_at)
                    SELECT ?, ?, ?, COALESCE(MAX(copy) + 1, 0), 'pending', ?, ?
                    FROM deliveries WHERE chat_key = ? AND digest_id = ?
                    """,
                    (chat_key, subscription_id, digest_id, iso_now(now), iso_now(now),
                     chat_key, digest_id),
                ) as cur:  # fmt: skip
                    assert cur.lastrowid is not None
                    delivery_id = cur.lastrowid
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
        return delivery_id

    async def due_deliveries(
        self, now: datetime, chat_key: str | None = None
    ) -> list[DeliveryTask]:
        """Pending deliveries due by `now` to unpaused chats (only `chat_key`'s if given), in
        the order they were queued."""
        async with self._conn.execute(
            """
            SELECT d.id, d.chat_key, d.subscription_id, d.digest_id, d.parts_sent, d.attempts
            FROM deliveries d JOIN chats c ON c.key = d.chat_key
            WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND c.paused = 0
              AND (? IS NULL OR d.chat_key = ?)
            ORDER BY d.id
            """,
            (iso_now(now), chat_key, chat_key),
        ) as cur:
            rows = await cur.fetchall()
        return [DeliveryTask(*tuple(row)) for row in rows]

    async def mark_part_sent(
        self, delivery_id: int, parts_sent: int, *, finished: bool, now: datetime
    ) -> None:
        """Record progress right after a message went out: the restart point after a crash."""
        await self._conn.execute(
            """
            UPDATE deliveries SET parts_sent = ?, status = ?, finished_at = ?, last_error = NULL
            WHERE id = ?
            """,
            (parts_sent, "sent" if finished else "pending", iso_now(now) if finished else None,
             delivery_id),
        )  # fmt: skip
        await self._conn.commit()

    async def retry_delivery_later(
        self, delivery_id: int, *, attempts: int, at: datetime, error: str
    ) -> None:
        await self._conn.execute(
            "UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (attempts, iso_now(at), error[:500], delivery_id),
        )
        await self._conn.commit()

    async def fail_delivery(self, delivery_id: int, *, error: str, now: datetime) -> None:
        await self._conn.execute(
            """
            UPDATE deliveries SET status = 'failed', last_error = ?, finished_at = ?
            WHERE id = ?
            """,
            (error[:500], iso_now(now), delivery_id),
        )
        await self._conn.commit()

    async def delivery_counts(self) -> DeliveryCounts:
        async with self._conn.execute(
            "SELECT status, COUNT(*) FROM deliveries GROUP BY status"
        ) as cur:
            counts = {row[0]: row[1] for row in await cur.fetchall()}
        return DeliveryCounts(
            pending=counts.get("pending", 0),
            sent=counts.get("sent", 0),
            skipped=counts.get("skipped", 0),
            failed=counts.get("failed", 0),
        )
