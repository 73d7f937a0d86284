"""The command line on a real (pseudo-)terminal: the progress bar shows while summarising.

A terminal whose size is not known yet (a fresh pty, ``docker run -t``, some CI shells) reports
0 columns; the bar must show there too.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.llm_server import FakeLLMServer, slow
from tests.pipeline_data import TOPIC, talking_head_papers

LISTING = date(2026, 11, 30)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def servers() -> Iterator[tuple[FakeArxiv, FakeLLMServer]]:
    with FakeArxiv() as arxiv, FakeLLMServer(default=slow(0.2)) as llm:
        arxiv.announce(LISTING, new=talking_head_papers(LISTING))
        yield arxiv, llm


def _stderr_on_a_pty(env: dict[str, str], columns: int) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24 if columns else 0, columns, 0, 0))
    command = [sys.executable, "-m", "handlers", "digest", TOPIC]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("columns", [0, 100])
def test_the_progress_bar_shows_on_a_terminal(
    servers: tuple[FakeArxiv, FakeLLMServer], tmp_path: Path, columns: int
) -> None:
    arxiv, llm = servers
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "OPENAI_"))},
        "ARXIV_API_URL": arxiv.api_url,
        "ARXIV_RSS_URL": arxiv.rss_url,
        "PAPERBOY_DB": str(tmp_path / "tty.db"),
        "PAPERBOY_ARXIV_DELAY": "0",
        "PAPERBOY_CATEGORIES": "cs",
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": llm.base_url,
        "PAPERBOY_LLM_MODEL": "fake-model",
    }
    err = _stderr_on_a_pty(env, columns)
    assert "Summarising" in err and "3/3" in err
