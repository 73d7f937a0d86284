"""The bot's heartbeat, for container health checks: `paperboy run` writes it, `paperboy health`
reads it.

The heartbeat is a small JSON file beside the database (`paperboy.db.health`): when the process
last showed it is alive (written by its own scheduler job, so a hung event loop stops it), and
when a digest cycle last finished or a delivery last made progress (a long fan-out is not a
stuck one). Healthy means both are recent.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

CYCLE_MAX_AGE = timedelta(hours=2)  # no finished cycle nor progress for this long: stuck


def heartbeat_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".health")


@dataclass(frozen=True)
class Heartbeat:
    alive_at: datetime
    cycle_at: datetime | None  # the last finished cycle or delivery progress

    def problems(self, now: datetime, *, tick_seconds: float) -> list[str]:
        """What is wrong, in words; empty when healthy."""
        found = []
        alive_limit = timedelta(seconds=3 * tick_seconds + 60)
        if now - self.alive_at > alive_limit:
            found.append(f"no heartbeat since {self.alive_at.isoformat(timespec='seconds')}")
        if self.cycle_at is None:
            if now - self.alive_at > CYCLE_MAX_AGE:
                found.append("no digest cycle has finished yet")
        elif now - self.cycle_at > CYCLE_MAX_AGE:
            found.append(
                f"no digest cycle finished since {self.cycle_at.isoformat(timespec='seconds')}"
            )
        return found


def write_heartbeat(path: Path, beat: Heartbeat) -> None:
    """Replace the file atomically, so a reader never sees half of it."""
    data = {
        "alive_at": beat.alive_at.isoformat(),
        "cycle_at": beat.cycle_at.isoformat() if beat.cycle_at else None,
    }
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, path)


def read_heartbeat(path: Path) -> Heartbeat | None:
    """The last heartbeat, or None if there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        alive = datetime.fromisoformat(data["alive_at"])
        cycle = datetime.fromisoformat(data["cycle_at"]) if data.get("cycle_at") else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Heartbeat(alive, cycle)
