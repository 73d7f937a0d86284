"""SQLite storage through aiosqlite: the only code in Paperboy that writes SQL.

`Storage` opens the database and exposes five stores, each typed by its interface (Protocol)
from `storage.interfaces`: `PaperStore`, `DigestStore`, `ChatStore`, `Outbox`, `SummaryStore`.
"""

from storage.db import DatabaseUnusable, Storage
from storage.interfaces import (
    ChatStore,
    DeliveryCounts,
    DeliveryTask,
    DigestStore,
    Outbox,
    PaperStore,
    StoredAnnouncement,
    SummaryStore,
)

__all__ = [
    "ChatStore",
    "DatabaseUnusable",
    "DeliveryCounts",
    "DeliveryTask",
    "DigestStore",
    "Outbox",
    "PaperStore",
    "Storage",
    "StoredAnnouncement",
    "SummaryStore",
]
