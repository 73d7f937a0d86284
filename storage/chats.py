"""`SqliteChatStore`: chats, their settings and pause state, and their subscriptions.

Owns the tables `chats` and `subscriptions`. A chat is paused either by a person
(`paused_reason` NULL) or suspended by delivery because the platform refused it (blocked,
kicked: `paused_reason` says why); only the latter is resumed automatically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time

import aiosqlite

from bot.models import Chat, ChatKind, DetailLevel, Subscription
from storage.sql import iso_now


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


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


class SqliteChatStore:
    """`ChatStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    # -- chats ------------------------------------------------------------------------------

    async def get_chat(self, key: str) -> Chat | None:
        async with self._conn.execute("SELECT * FROM chats WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return _chat(row) if row else None

    async def _require(self, key: str) -> Chat:
        chat = await self.get_chat(key)
        if chat is None:
            raise KeyError(key)
        return chat

    async def ensure_chat(
        self, key: str, kind: ChatKind, title: str | None, *, now: datetime, language: str
    ) -> Chat:
        """The chat, created with `language` on first sight; kind and title follow the platform."""
        await self._conn.execute(
            """
            INSERT INTO chats (key, kind, title, language, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET
                kind = excluded.kind,
                title = COALESCE(excluded.title, title)
            WHERE kind IS NOT excluded.kind OR title IS NOT COALESCE(excluded.title, title)
            """,
            (key, kind.value, title, language, iso_now(now), iso_now(now)),
        )
        await self._conn.commit()
        return await self._require(key)

    async def save_settings(self, chat: Chat, *, now: datetime) -> Chat:
        """Write the chat's settings columns from `chat`; KeyError if there is no such chat."""
        async with self._conn.execute(
            """
            UPDATE chats SET language = ?, timezone = ?, delivery_time = ?, detail = ?,
                             max_papers = ?, send_empty = ?, updated_at = ?
            WHERE key = ?
            """,
            (
                chat.language,
                chat.timezone,
                _hhmm(chat.delivery_time),
                chat.detail.value,
                chat.max_papers,
                int(chat.send_empty),
                iso_now(now),
                chat.key,
            ),
        ) as cur:
            found = cur.rowcount == 1
        await self._conn.commit()
        if not found:
            raise KeyError(chat.key)
        return await self._require(chat.key)

    async def set_paused(
        self, key: str, paused: bool, *, reason: str | None, now: datetime
    ) -> Chat:
        """Pause (`reason` None: by a person; text: suspended by delivery) or unpause, which
        clears the reason. KeyError if there is no such chat."""
        async with self._conn.execute(
            "UPDATE chats SET paused = ?, paused_reason = ?, updated_at = ? WHERE key = ?",
            (int(paused), reason if paused else None, iso_now(now), key),
        ) as cur:
            found = cur.rowcount == 1
        await self._conn.commit()
        if not found:
            raise KeyError(key)
        return await self._require(key)

    async def resume_suspended(self, keys: Sequence[str], *, now: datetime) -> list[str]:
        """Unpause those of `keys` suspended by delivery, in one statement; a chat a person
        paused stays paused. Returns the keys resumed, sorted."""
        if not keys:
            return []
        async with self._conn.execute(
            """
            UPDATE chats SET paused = 0, paused_reason = NULL, updated_at = ?
            WHERE paused = 1 AND paused_reason IS NOT NULL
              AND key IN (SELECT value FROM json_each(?))
            RETURNING key
            """,
            (iso_now(now), json.dumps(list(keys))),
        ) as cur:
            resumed = [row[0] for row in await cur.fetchall()]
        await self._conn.commit()
        return sorted(resumed)

    async def suspended_chats(self, prefix: str) -> list[str]:
        """Keys starting with `prefix` of chats suspended by delivery, sorted."""
        async with self._conn.execute(
            """
            SELECT key FROM chats
            WHERE paused = 1 AND paused_reason IS NOT NULL AND substr(key, 1, ?) = ?
            ORDER BY key
            """,
            (len(prefix), prefix),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

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
            (chat_key, topic_id, query, created_by, iso_now(now)),
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
        self, listing_date: date, *, after: str | None = None, limit: int | None = None
    ) -> list[tuple[Chat, Subscription, int]]:
        """Active subscriptions of active chats with no delivery yet for `listing_date`'s
        digest, with their topic ids, ordered by chat key and subscription id. A page at a
        time if asked: those of the first `limit` such chats whose keys sort after `after`
        (the next page starts after the last key returned; an empty page is the end)."""
        # From the digest (its audience is the chat) to its delivery: two unique-index lookups,
        # so the cost does not grow with a chat's delivery history over the years.
        undelivered = """
            NOT EXISTS (
                SELECT 1 FROM digests g JOIN deliveries d
                    ON d.digest_id = g.id AND d.chat_key = {c}.key
                WHERE g.audience = {c}.key AND g.topic_id = {s}.topic_id AND g.through = ?1)
        """
        # The page is chosen by chat key alone, so only its chats' rows are ever sorted.
        async with self._conn.execute(
            f"""
            SELECT c.*, s.id AS s_id, s.query AS s_query, s.created_at AS s_created,
                   s.topic_id AS s_topic
            FROM chats c JOIN subscriptions s ON s.chat_key = c.key
            WHERE c.paused = 0 AND s.paused = 0 AND {undelivered.format(c="c", s="s")}
              AND c.key IN (
                  SELECT p.key FROM chats p
                  WHERE p.paused = 0 AND p.key > ?2 AND EXISTS (
                      SELECT 1 FROM subscriptions q
                      WHERE q.chat_key = p.key AND q.paused = 0
                        AND {undelivered.format(c="p", s="q")})
                  ORDER BY p.key LIMIT ?3)
            ORDER BY c.key, s.id
            """,
            (listing_date.isoformat(), after or "", -1 if limit is None else limit),
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
