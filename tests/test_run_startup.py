"""`paperboy run` starting up as a real process: nothing configured, a token the platform
rejects, and a platform that cannot be reached while the scheduler carries on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from handlers.health import heartbeat_path, read_heartbeat
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
A_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PAPERBOY_", "ARXIV_", "OPENAI_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(extra)
    return env


def run(env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handlers", "run"],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_any_token_it_says_so_in_one_line(tmp_path: Path) -> None:
    done = run(clean_env(PAPERBOY_DB=str(tmp_path / "x.db")), tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "DISCORD_BOT_TOKEN" in lines[0]


def test_a_rejected_telegram_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with FakeArxiv() as arxiv, FakeTelegram() as tg:
        env = clean_env(
            TELEGRAM_BOT_TOKEN=A_TOKEN,  # well formed, but not the fake's token: 401
            TELEGRAM_API_URL=tg.base_url,
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_DB=str(tmp_path / "x.db"),
        )
        done = run(env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    named = [line for line in done.stderr.splitlines() if "TELEGRAM_BOT_TOKEN" in line]
    assert len(named) == 1 and "rejected" in named[0], done.stderr
    assert A_TOKEN.split(":")[1] not in done.stderr


def test_an_unreachable_platform_is_retried_while_the_scheduler_runs(tmp_path: Path) -> None:
    with FakeArxiv() as arxiv:
        env = clean_env(
            TELEGRAM_BOT_TOKEN=A_TOKEN,
            TELEGRAM_API_URL=f"http://127.0.0.1:{closed_port()}/bot",
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_DB=str(tmp_path / "x.db"),
            PAPERBOY_TICK_SECONDS="1",
            PYTHONPATH=str(ROOT),
        )
        with (tmp_path / "err.log").open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "handlers", "run"], cwd=tmp_path, env=env, stderr=err
            )
        try:
            deadline = time.monotonic() + 30
            log = ""
            while time.monotonic() < deadline and "(attempt 2)" not in log:
                time.sleep(0.2)
                log = (tmp_path / "err.log").read_text()
            feeds_read = len(arxiv.requests)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    log = (tmp_path / "err.log").read_text()
    attempts = [line for line in log.splitlines() if "unreachable (attempt" in line]
    assert len(attempts) >= 2 and "Traceback" not in log, log
    assert feeds_read > 0, "the scheduler ran while Telegram was unreachable"
    beat = read_heartbeat(heartbeat_path(tmp_path / "x.db"))
    assert beat is not None and beat.cycle_at is not None  # the health check's view
