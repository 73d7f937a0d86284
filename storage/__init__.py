"""SQLite storage through aiosqlite: the only code in Paperboy that writes SQL.

`Storage` opens the database and exposes its stores, each typed by its interface (Protocol)
from `storage.interfaces`: `PaperStore`, `DigestStore`, `ChatStore`, `Outbox`, `SummaryStore`,
`ReviewStore`, `UsageStore`, `StatsStore`.
"""

from storage.db import DatabaseUnusable, Storage
from storage.interfaces import (
    ChatStore,
    DailyUsage,
    DeliveryCounts,
    DeliveryTask,
    DigestStore,
    Outbox,
    PaperStore,
    ReviewStore,
    Stats,
    StatsStore,
    StoredAnnouncement,
    SummaryStore,
    UsageStore,
)

__all__ = [
    "ChatStore",
    "DailyUsage",
    "DatabaseUnusable",
    "DeliveryCounts",
    "DeliveryTask",
    "DigestStore",
    "Outbox",
    "PaperStore",
    "ReviewStore",
    "Stats",
    "StatsStore",
    "Storage",
    "StoredAnnouncement",
    "SummaryStore",
    "UsageStore",
]
