"""`SqliteReviewStore`: the review cache, table `reviews`.

Keyed like the summary cache (paper id and version, requested language, prompt version,
model); the review itself is one JSON payload (`bot.reviews.model.to_payload`), so adding a
field to reviews needs no migration.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import aiosqlite

from storage.sql import iso_now, to_dt

if TYPE_CHECKING:
    from bot.reviews.model import CachedReview, ReviewKey

log = logging.getLogger(__name__)


class SqliteReviewStore:
    """`ReviewStore` on an open aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get_review(self, key: ReviewKey) -> CachedReview | None:
        async with self._conn.execute(
            """
            SELECT payload, created_at FROM reviews
            WHERE paper_id = ? AND version = ? AND language = ? AND prompt_version = ?
              AND model = ?
            """,
            (key.paper_id, key.version, key.language, key.prompt_version, key.model),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        # Imported here: the review model loads the full-text package, which opening the
        # database (every CLI run) does not need.
        from bot.reviews.model import CachedReview, from_payload

        created = to_dt(row["created_at"])
        try:
            review = from_payload(json.loads(row["payload"]))
        except (ValueError, KeyError, TypeError):
            # Written by another version of Paperboy: recompute rather than fail the review.
            log.warning("Unreadable cached review of %s v%d; ignored", key.paper_id, key.version)
            return None
        assert created is not None
        return CachedReview(review, created)

    async def put_review(self, key: ReviewKey, cached: CachedReview) -> None:
        from bot.reviews.model import to_payload

        await self._conn.execute(
            """
            INSERT OR REPLACE INTO reviews
                (paper_id, version, language, prompt_version, model, origin, payload, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                key.paper_id,
                key.version,
                key.language,
                key.prompt_version,
                key.model,
                cached.review.origin.value,
                json.dumps(to_payload(cached.review), ensure_ascii=False),
                iso_now(cached.created_at),
            ),
        )
        await self._conn.commit()
