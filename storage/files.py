"""`FigureFiles`: figure images cached on disk, one folder per paper version, size-bounded.

Plain files, no SQL: ``<root>/<id>v<n>/`` holds ``meta.json`` (what the figure is: its number,
caption, the PDF page it was rendered from) and the images, ``source.<ext>`` as arXiv delivered
it (or the rendered PDF page) and ``<key>.<ext>`` per platform once fitted to its limits. The
root is ``figures/`` next to the database (``PAPERBOY_DB``), so one volume holds all state.

A version's files never change (arXiv versions are immutable), so a folder is complete once its
``meta.json`` exists: it is written last, and every file is written to a temporary name first
and renamed, so a crash leaves no half-written image that later reads would trust.

**Size bound.** After each write the cache is pruned to `max_bytes` (200 MB by default):
whole paper folders go, least recently used first (a folder's modification time is touched
on every read). The folder just written is never pruned, even when it alone is over the bound.

Every method does blocking file I/O in a worker thread, so callers may use them on the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MAX_BYTES", "FigureFiles"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200_000_000
_META = "meta.json"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _folder_name(versioned_id: str) -> str:
    # Old-style ids have a slash ("hep-th/9901001v1"): one folder, not two.
    name = versioned_id.replace("/", "_")
    if not _NAME_RE.fullmatch(name) or ".." in name:
        raise ValueError(f"not a paper version: {versioned_id!r}")
    return name


def _check(name: str) -> str:
    if not _NAME_RE.fullmatch(name) or ".." in name:
        raise ValueError(f"not a file name: {name!r}")
    return name


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


class FigureFiles:
    """The figure cache under `root` (see the module docstring)."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.root = root
        self.max_bytes = max_bytes

    def folder(self, versioned_id: str) -> Path:
        return self.root / _folder_name(versioned_id)

    # -- reads -------------------------------------------------------------------------------

    async def meta(self, versioned_id: str) -> dict[str, Any] | None:
        """The figure's description, or None when nothing (complete) is cached."""
        return await asyncio.to_thread(self._meta_blocking, versioned_id)

    def _meta_blocking(self, versioned_id: str) -> dict[str, Any] | None:
        folder = self.folder(versioned_id)
        try:
            meta = json.loads((folder / _META).read_text("utf-8"))
            os.utime(folder)  # recently used: pruned last
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    async def find(self, versioned_id: str, stem: str) -> tuple[str, bytes] | None:
        """(file name, bytes) of the file named `stem` with any extension, or None."""
        return await asyncio.to_thread(self._find_blocking, versioned_id, _check(stem))

    def _find_blocking(self, versioned_id: str, stem: str) -> tuple[str, bytes] | None:
        folder = self.folder(versioned_id)
        try:
            for path in folder.glob(f"{stem}.*"):
                if path.is_file() and not path.name.startswith("."):
                    return path.name, path.read_bytes()
        except OSError:
            pass
        return None

    # -- writes ------------------------------------------------------------------------------

    async def save(self, versioned_id: str, name: str, data: bytes) -> None:
        """Store one file of a version (atomically); prune the cache if it grew too large."""
        await asyncio.to_thread(self._save_blocking, versioned_id, _check(name), data)

    def _save_blocking(self, versioned_id: str, name: str, data: bytes) -> None:
        folder = self.folder(versioned_id)
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / name, data)
        self._prune(keep=folder)

    async def save_meta(self, versioned_id: str, meta: dict[str, Any]) -> None:
        """Mark a version's folder complete with its description (written last)."""
        data = json.dumps(meta, ensure_ascii=False).encode("utf-8")
        await asyncio.to_thread(self._save_blocking, versioned_id, _META, data)

    def _prune(self, *, keep: Path) -> None:
        try:
            folders = [p for p in self.root.iterdir() if p.is_dir()]
            sizes = {p: _folder_size(p) for p in folders}
        except OSError as exc:
            log.warning("could not measure the figure cache at %s: %s", self.root, exc)
            return
        total = sum(sizes.values())
        if total <= self.max_bytes:
            return
        for folder in sorted(folders, key=lambda p: p.stat().st_mtime):
            if total <= self.max_bytes:
                break
            if folder == keep:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            total -= sizes[folder]
        log.info("figure cache at %s pruned to %d bytes", self.root, total)
