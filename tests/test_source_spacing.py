"""arXiv's spacing holds across processes that share a database, not only inside one.

Two throttles that know nothing of each other (as in two processes) reserve their slots in
the same SQLite file; the fake arXiv records when each request arrived and was answered.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.source.http import ArxivSession, Throttle
from storage import Storage
from tests.fakes.arxiv_data import make_paper
from tests.fakes.arxiv_server import FakeArxiv, RecordedRequest

DELAY = 0.4


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


def gaps(requests: list[RecordedRequest]) -> list[float]:
    ordered = sorted(requests, key=lambda r: r.started)
    return [b.started - a.responded for a, b in itertools.pairwise(ordered)]


async def test_two_independent_throttles_on_one_database_keep_the_spacing(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    async with await Storage.open(db) as storage:
        spacing = [storage.request_spacing(), storage.request_spacing()]
    assert spacing[0] is not None and spacing[1] is not None

    def worker(index: int) -> None:
        session = ArxivSession(
            delay_seconds=DELAY, throttle=Throttle(), spacing=spacing[index], retries=0
        )
        with session:
            for _ in range(3):
                session.get(f"{fake.rss_url}/cs").close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.requests) == 6
    assert min(gaps(fake.requests)) >= DELAY - 0.02


def test_back_to_back_processes_keep_the_spacing(fake: FakeArxiv, tmp_path: Path) -> None:
    paper = make_paper(3, title="Lip Sync", abstract="We sync lips.")
    fake.add_papers([paper])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "OPENAI_"))},
        "ARXIV_API_URL": fake.api_url,
        "ARXIV_RSS_URL": fake.rss_url,
        "PAPERBOY_DB": str(tmp_path / "shared.db"),
        "PAPERBOY_ARXIV_DELAY": "1",
        "PAPERBOY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "handlers", "paper", paper.id]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(timeout=60) for p in runs] == [0, 0]
    assert len(fake.requests) == 3
    assert min(gaps(fake.requests)) >= 1.0 - 0.02
