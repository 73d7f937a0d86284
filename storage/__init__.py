"""SQLite storage through aiosqlite: the only code in Paperboy that writes SQL."""

from storage.db import Storage

__all__ = ["Storage"]
