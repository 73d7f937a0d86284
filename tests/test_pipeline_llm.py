"""Digests with an LLM configured: fake arXiv and a fake OpenAI-compatible server, real clients.

LLM cost must not grow with subscribers, and an LLM outage must never empty or delay a digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core import open_core
from bot.models import SummarySource
from handlers.cli import main
from handlers.terminal.text import render_digest
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.llm_server import SERVER_ERROR, FakeLLMServer
from tests.pipeline_data import TOPIC, FakeClock, talking_head_papers

LISTING = date(2026, 11, 20)


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        server.announce(LISTING, new=talking_head_papers(LISTING))
        yield server


@pytest.fixture
def clock() -> FakeClock:
    c = FakeClock(now=talking_head_papers(LISTING)[0].published)  # type: ignore[arg-type]
    c.set_listing_evening(LISTING)
    return c


def env_for(fake: FakeArxiv, llm: FakeLLMServer, tmp_path: Path) -> dict[str, str]:
    return {
        "ARXIV_API_URL": fake.api_url,
        "ARXIV_RSS_URL": fake.rss_url,
        "PAPERBOY_DB": str(tmp_path / "llm.db"),
        "PAPERBOY_ARXIV_DELAY": "0",
        "PAPERBOY_CATEGORIES": "cs",
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": llm.base_url,
        "PAPERBOY_LLM_MODEL": "fake-model",
        "PAPERBOY_LLM_TIMEOUT": "5",
        "PAPERBOY_LLM_RETRIES": "1",
    }


async def test_llm_calls_do_not_grow_with_subscribers(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    with FakeLLMServer() as llm:
        settings = load_settings(**env_for(fake, llm, tmp_path))
        async with open_core(settings, clock=clock) as core:
            app = core.paperboy
            for chat in range(50):
                digest = await app.digest(TOPIC, audience=f"chat:{chat}", language="zh")
                assert len(digest.summaries) == 3
            assert {s.source for s in digest.summaries.values()} == {SummarySource.LLM}
            assert {s.language for s in digest.summaries.values()} == {"zh"}
            assert llm.calls == 3  # one per paper, whatever the number of subscribers
            await app.digest(TOPIC, audience="chat:x", language="en")
            assert llm.calls == 6  # a new language is a new summary
        # A restart reads the cache from SQLite instead of asking again.
        async with open_core(settings, clock=clock) as core:
            app = core.paperboy
            await app.digest(TOPIC, audience="chat:new", language="zh")
        assert llm.calls == 6


async def test_llm_outage_falls_back_to_labelled_extractive_summaries(
    fake: FakeArxiv, tmp_path: Path, clock: FakeClock
) -> None:
    with FakeLLMServer(default=SERVER_ERROR) as llm:
        settings = load_settings(**env_for(fake, llm, tmp_path))
        async with open_core(settings, clock=clock) as core:
            app = core.paperboy
            digest = await app.digest(TOPIC)
            assert len(digest.new_entries) == 3
            assert {s.source for s in digest.summaries.values()} == {SummarySource.EXTRACTIVE}
            calls = llm.calls
            # Other subscribers do not pay for the failure again within the retry window.
            await app.digest(TOPIC, audience="chat:1")
            assert llm.calls == calls
    assert "extractive" in render_digest(digest).lower()


def test_cli_prints_chinese_summaries(
    fake: FakeArxiv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeLLMServer() as llm:
        for name, value in env_for(fake, llm, tmp_path).items():
            monkeypatch.setenv(name, value)
        code = main(["digest", TOPIC, "--lang", "zh"])
    out, err = capsys.readouterr()
    assert code == 0, err
    tldrs = re.findall(r"TL;DR: (.+)", out)
    assert len(tldrs) == 3
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in tldrs)
    assert "test-key" not in out + err
