"""Chats, their subscriptions and the delivery outbox: the part of `Storage` the bot side needs.

The outbox is what makes delivery exactly-once across crashes: a digest is enqueued for a chat
once (`UNIQUE (chat_key, digest_id)`), and progress is committed after every message sent, so a
restart resumes after the last message that went out and repeats none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import aiosqlite

from bot.models import Chat, ChatKind, DetailLevel, Subscription


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class DeliveryTask:
    """One digest to send to one chat, and how far sending got."""

    id: int
    chat_key: str
    subscription_id: int | None
    digest_id: int
    parts_sent: int
    attempts: int


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    pending: int
    sent: int
    skipped: int
    failed: int


def _chat(row: aiosqlite.Row) -> Chat:
    return Chat(
        key=row["key"],
        kind=ChatKind(row["kind"]),
        title=row["title"],
        language=row["language"],
        timezone=row["timezone"],
        delivery_time=time.fromisoformat(row["delivery_time"]) if row["delivery_time"] else None,
        detail=DetailLevel(row["detail"]),
        max_papers=row["max_papers"],
        send_empty=bool(row["send_empty"]),
        paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
    )


_CHAT_FIELDS = {
    "title",
    "language",
    "timezone",
    "delivery_time",
    "detail",
    "max_papers",
    "send_empty",
    "paused",
    "paused_reason",
    "kind",
}


def _column_value(value: Any) -> Any:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, ChatKind | DetailLevel):
        return value.value
    return value


class ChatStoreMixin:
    """Methods for chats, subscriptions and deliveries; mixed into `Storage`."""

    _conn: aiosqlite.Connection

    # -- chats ------------------------------------------------------------------------------

    async def get_chat(self, key: str) -> Chat | None:
        async with self._conn.execute("SELECT * FROM chats WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return _chat(row) if row else None

    async def ensure_chat(
        self, key: str, kind: ChatKind, title: str | None, *, now: datetime, **defaults: Any
    ) -> Chat:
        """The chat, created with `defaults` on first sight; kind and title follow the platform."""
        await self._conn.execute(
            f"""
            INSERT INTO chats (key, kind, title, created_at, updated_at
                               {"".join(", " + k for k in defaults)})
            VALUES (?, ?, ?, ?, ?{", ?" * len(defaults)})
            ON CONFLICT (key) DO UPDATE SET
                kind = excluded.kind,
                title = COALESCE(excluded.title, title)
            WHERE kind IS NOT excluded.kind OR title IS NOT COALESCE(excluded.title, title)
            """,
            (
                key,
                kind.value,
                title,
                _iso(now),
                _iso(now),
                *(_column_value(v) for v in defaults.values()),
            ),
        )
        await self._conn.commit()
        chat = await self.get_chat(key)
        assert chat is not None
        return chat

    async def update_chat(self, key: str, *, now: datetime, **changes: Any) -> Chat:
        unknown = set(changes) - _CHAT_FIELDS
        if unknown:
            raise ValueError(f"not chat settings: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in changes)
        await self._conn.execute(
            f"UPDATE chats SET {assignments}, updated_at = ? WHERE key = ?",
            (*(_column_value(v) for v in changes.values()), _iso(now), key),
        )
        await self._conn.commit()
        chat = await self.get_chat(key)
        if chat is None:
            raise KeyError(key)
        return chat

    async def move_chat(self, old_key: str, new_key: str) -> None:
        """A chat got a new id (a Telegram group became a supergroup): keep everything.

        Subscriptions and deliveries follow through ON UPDATE CASCADE; digests are keyed by
        audience, so what was delivered stays delivered.
        """
        if await self.get_chat(new_key) is not None:
            # Both exist (the new id already talked to us): merge into the new one.
            await self._conn.execute(
                """
                UPDATE OR IGNORE subscriptions SET chat_key = ? WHERE chat_key = ?
                """,
                (new_key, old_key),
            )
            await self._conn.execute("DELETE FROM chats WHERE key = ?", (old_key,))
        else:
            await self._conn.execute("UPDATE chats SET key = ? WHERE key = ?", (new_key, old_key))
        await self._conn.execute(
            "UPDATE OR IGNORE digests SET audience = ? WHERE audience = ?", (new_key, old_key)
        )
        await self._conn.commit()

    # -- subscriptions ------------------------------------------------------------------------

    async def list_subscriptions(self, chat_key: str) -> list[Subscription]:
        async with self._conn.execute(
            "SELECT * FROM subscriptions WHERE chat_key = ? ORDER BY id", (chat_key,)
        ) as cur:
            rows = await cur.fetchall()
        return [
            Subscription(
                id=row["id"],
                chat_key=row["chat_key"],
                query=row["query"],
                created_at=datetime.fromisoformat(row["created_at"]),
                paused=bool(row["paused"]),
                number=number,
            )
            for number, row in enumerate(rows, 1)
        ]

    async def add_subscription(
        self, chat_key: str, topic_id: int, query: str, *, created_by: str | None, now: datetime
    ) -> tuple[Subscription, bool]:
        """Subscribe; returns the subscription and whether it is new (False: already there)."""
        async with self._conn.execute(
            """
            INSERT OR IGNORE INTO subscriptions (chat_key, topic_id, query, created_by, created_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            (chat_key, topic_id, query, created_by, _iso(now)),
        ) as cur:
            created = cur.rowcount == 1
        await self._conn.commit()
        async with self._conn.execute(
            "SELECT id FROM subscriptions WHERE chat_key = ? AND topic_id = ?",
            (chat_key, topic_id),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        subs = await self.list_subscriptions(chat_key)
        return next(s for s in subs if s.id == row[0]), created

    async def delete_subscription(self, subscription_id: int) -> None:
        await self._conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
        await self._conn.commit()

    async def set_subscription_paused(self, subscription_id: int, paused: bool) -> None:
        await self._conn.execute(
            "UPDATE subscriptions SET paused = ? WHERE id = ?", (int(paused), subscription_id)
        )
        await self._conn.commit()

    async def subscription_topic(self, subscription_id: int) -> int | None:
        async with self._conn.execute(
            "SELECT topic_id FROM subscriptions WHERE id = ?", (subscription_id,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def undelivered_subscriptions(
        self, listing_date: date
    ) -> list[tuple[Chat, Subscription, int]]:
        """Active subscriptions of active chats with no delivery yet for `listing_date`'s
        digest, with their topic ids."""
        async with self._conn.execute(
            """
            SELECT c.*, s.id AS s_id, s.query AS s_query, s.created_at AS s_created,
                   s.topic_id AS s_topic
            FROM subscriptions s JOIN chats c ON c.key = s.chat_key
            WHERE c.paused = 0 AND s.paused = 0
              AND NOT EXISTS (
                  SELECT 1 FROM deliveries d JOIN digests g ON g.id = d.digest_id
                  WHERE d.chat_key = c.key AND g.topic_id = s.topic_id AND g.through = ?)
            ORDER BY c.key, s.id
            """,
            (listing_date.isoformat(),),
        ) as cur:
            rows = await cur.fetchall()
        return [
            (
                _chat(row),
                Subscription(
                    id=row["s_id"],
                    chat_key=row["key"],
                    query=row["s_query"],
                    created_at=datetime.fromisoformat(row["s_created"]),
                ),
                int(row["s_topic"]),
            )
            for row in rows
        ]

    # -- the outbox ---------------------------------------------------------------------------

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
        empty digest nobody asked for, "sent" one a frontend sent on request (`/digest`)."""
        if status not in {"pending", "skipped", "sent"}:
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
                _iso(now),
                _iso(now),
                None if status == "pending" else _iso(now),
            ),
        ) as cur:
            added = cur.rowcount == 1
        await self._conn.commit()
        return added

    async def due_deliveries(self, now: datetime) -> list[DeliveryTask]:
        async with self._conn.execute(
            """
            SELECT d.id, d.chat_key, d.subscription_id, d.digest_id, d.parts_sent, d.attempts
            FROM deliveries d JOIN chats c ON c.key = d.chat_key
            WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND c.paused = 0
            ORDER BY d.id
            """,
            (_iso(now),),
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
            (parts_sent, "sent" if finished else "pending", _iso(now) if finished else None,
             delivery_id),
        )  # fmt: skip
        await self._conn.commit()

    async def retry_delivery_later(
        self, delivery_id: int, *, attempts: int, at: datetime, error: str
    ) -> None:
        await self._conn.execute(
            "UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (attempts, _iso(at), error[:500], delivery_id),
        )
        await self._conn.commit()

    async def fail_delivery(self, delivery_id: int, *, error: str, now: datetime) -> None:
        await self._conn.execute(
            """
            UPDATE deliveries SET status = 'failed', last_error = ?, finished_at = ?
            WHERE id = ?
            """,
            (error[:500], _iso(now), delivery_id),
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
