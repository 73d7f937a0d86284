"""The heartbeat behind `paperboy health`: what counts as healthy, and the file itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.cli import main
from handlers.health import Heartbeat, heartbeat_path, read_heartbeat, write_heartbeat

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_fresh_heartbeat_and_recent_cycle_are_healthy() -> None:
    beat = Heartbeat(NOW - timedelta(seconds=30), NOW - timedelta(minutes=20))
    assert beat.problems(NOW, tick_seconds=60) == []


def test_a_stale_heartbeat_means_a_hung_or_dead_process() -> None:
    beat = Heartbeat(NOW - timedelta(minutes=10), NOW - timedelta(minutes=10))
    [problem] = beat.problems(NOW, tick_seconds=60)
    assert "no heartbeat since" in problem


def test_no_cycle_for_hours_means_stuck() -> None:
    beat = Heartbeat(NOW, NOW - timedelta(hours=3))
    [problem] = beat.problems(NOW, tick_seconds=60)
    assert "no digest cycle finished since" in problem


def test_a_new_bot_gets_time_for_its_first_cycle() -> None:
    assert Heartbeat(NOW, None).problems(NOW, tick_seconds=60) == []


def test_the_file_round_trips_and_bad_files_read_as_none(tmp_path: Path) -> None:
    path = heartbeat_path(tmp_path / "paperboy.db")
    assert path.name == "paperboy.db.health"
    assert read_heartbeat(path) is None
    beat = Heartbeat(NOW, NOW - timedelta(minutes=5))
    write_heartbeat(path, beat)
    assert read_heartbeat(path) == beat
    path.write_text("{not json")
    assert read_heartbeat(path) is None


def test_the_health_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "paperboy.db"
    monkeypatch.setenv("PAPERBOY_DB", str(db))
    assert main(["health"], clock=lambda: NOW) == 1
    assert "no heartbeat" in capsys.readouterr().err
    write_heartbeat(heartbeat_path(db), Heartbeat(NOW - timedelta(seconds=20), NOW))
    assert main(["health"], clock=lambda: NOW) == 0
    assert main(["health"], clock=lambda: NOW + timedelta(minutes=10)) == 1
    assert "no heartbeat since" in capsys.readouterr().err
