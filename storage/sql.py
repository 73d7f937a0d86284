"""Helpers every SQLite store shares: timestamp and date columns, chunked IN lists, paper rows.

Timestamps are stored as ISO 8601 text in UTC, dates as ISO dates; `Paper` rows are read the
same way by the paper store and the digest store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite

from bot.models import Paper

# SQLite's default limit on host parameters is 32766 since 3.32; stay far below it.
CHUNK = 500

PAPER_COLUMNS = (
    "id, version, title, abstract, authors, categories, primary_category, comment, "
    "journal_ref, doi, published, updated"
)


def iso(dt: datetime | None) -> str | None:
    """A timestamp column: ISO 8601 in UTC (None stays NULL)."""
    return dt.astimezone(UTC).isoformat() if dt is not None else None


def iso_now(dt: datetime) -> str:
    """`iso` for a timestamp that is never NULL."""
    return dt.astimezone(UTC).isoformat()


def to_dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def to_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """`items` in slices short enough for one `IN (?, ...)` list each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def paper_from_row(row: aiosqlite.Row) -> Paper:
    """A `Paper` from a row holding `PAPER_COLUMNS`."""
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
        published=to_dt(row["published"]),
        updated=to_dt(row["updated"]),
    )


async def select_papers(conn: aiosqlite.Connection, ids: Sequence[str]) -> dict[str, Paper]:
    """The stored papers among `ids`, by id (read by the paper and the digest store)."""
    found: dict[str, Paper] = {}
    for chunk in chunks(list(dict.fromkeys(ids))):
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", chunk
        ) as cur:
            for row in await cur.fetchall():
                found[row["id"]] = paper_from_row(row)
    return found
