"""The throttle and the retrying session, against the fake server (real requests/urllib3).

Spacing is asserted on the fake's timestamps: ``next.started - previous.responded`` can only
under-estimate the client's idle gap, so these checks cannot pass by luck of scheduling.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

import pytest
import requests

from bot.errors import SourceUnavailable
from bot.source import ArxivSource
from bot.source.http import (
    USER_AGENT,
    ArxivSession,
    RetriesExhausted,
    Throttle,
    parse_retry_after,
    shared_throttle,
)
from tests.fakes.arxiv_data import make_paper, make_papers
from tests.fakes.arxiv_server import FakeArxiv, Fault, FaultKind, RecordedRequest


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        server.announce(date(2024, 9, 9), new=[make_paper(1)])
        yield server


def session(**overrides: Any) -> ArxivSession:
    options: dict[str, Any] = {
        "delay_seconds": 0.0,
        "timeout_seconds": 2.0,
        "retries": 3,
        "backoff_seconds": 0.01,
        "throttle": Throttle(),
    }
    options.update(overrides)
    return ArxivSession(**options)


def gaps(records: list[RecordedRequest]) -> list[float]:
    ordered = sorted(records, key=lambda r: r.started)
    return [b.started - a.responded for a, b in pairwise(ordered)]


def test_parse_retry_after() -> None:
    now = datetime(2024, 9, 9, 12, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Mon, 09 Sep 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 09 Sep 2024 11:00:00 GMT", now) == 0.0
    for junk in (None, "", "soon", "-5", "nan", "inf"):
        assert parse_retry_after(junk) is None


def test_plain_request_sets_user_agent_timeout_and_counts(fake: FakeArxiv) -> None:
    with session() as s:
        response = s.get(f"{fake.rss_url}/cs", headers={"user-agent": "arxiv.py/4.0.2"})
        assert response.status_code == 200
        assert s.request_count == 1
    (record,) = fake.requests
    assert record.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("Paperboy/")


def test_503_is_retried_with_backoff(fake: FakeArxiv) -> None:
    fake.inject(Fault.http(503), Fault.http(502))
    with session(delay_seconds=0.05) as s:
        assert s.get(f"{fake.rss_url}/cs").status_code == 200
        assert s.request_count == 3
    assert [r.status for r in fake.requests] == [503, 502, 200]
    # A retry goes through the throttle too: never closer than the delay.
    assert min(gaps(fake.requests)) >= 0.05


def test_429_retry_after_is_honoured_by_every_caller(fake: FakeArxiv) -> None:
    # The first request gets 429 "Retry-After: 1"; a second caller starting meanwhile must wait
    # as well, because arXiv's limit is per client, not per request.
    fake.inject(Fault.http(429, retry_after=1, path="/rss/cs"))
    throttle = Throttle()
    results: list[int] = []
    with session(throttle=throttle) as first, session(throttle=throttle) as second:

        def other() -> None:
            time.sleep(0.1)
            results.append(second.get(f"{fake.rss_url}/stat").status_code)

        thread = threading.Thread(target=other)
        thread.start()
        results.append(first.get(f"{fake.rss_url}/cs").status_code)
        thread.join()
    assert results.count(200) == 2
    throttled, *later = fake.requests
    assert throttled.status == 429
    assert all(r.started - throttled.responded >= 1.0 for r in later)


def test_retry_after_beyond_the_limit_gives_up_at_once(fake: FakeArxiv) -> None:
    fake.inject(Fault.http(429, retry_after=3600))
    with session(max_retry_after_seconds=60) as s, pytest.raises(RetriesExhausted) as info:
        s.get(f"{fake.rss_url}/cs")
    assert "asked to wait 3600 s" in str(info.value)
    assert len(fake.requests) == 1


def test_timeout_is_retried(fake: FakeArxiv) -> None:
    fake.inject(Fault.slow(5.0, path="/rss"))
    started = time.monotonic()
    with session(timeout_seconds=0.2) as s:
        assert s.get(f"{fake.rss_url}/cs").status_code == 200
        assert s.request_count == 2
    assert time.monotonic() - started < 2.0  # the slow answer was not waited for


def test_connection_reset_is_retried(fake: FakeArxiv) -> None:
    fake.inject(Fault.reset(), Fault.reset())
    with session() as s:
        assert s.get(f"{fake.rss_url}/cs").status_code == 200
    assert [r.fault for r in fake.requests] == [FaultKind.RESET, FaultKind.RESET, None]


def test_persistent_failure_raises_retries_exhausted(fake: FakeArxiv) -> None:
    fake.inject(*[Fault.http(500)] * 4)
    with session(retries=3) as s, pytest.raises(RetriesExhausted) as info:
        s.get(f"{fake.rss_url}/cs")
    assert info.value.attempts == 4
    assert str(info.value) == "HTTP 500 (gave up after 4 attempts)"
    # Not a ConnectionError: the arxiv package must not retry it once more on top.
    assert not isinstance(info.value, requests.ConnectionError)


def test_client_errors_are_not_retried(fake: FakeArxiv) -> None:
    with session() as s, pytest.raises(requests.HTTPError) as info:
        s.get(f"{fake.base_url}/nowhere")
    assert info.value.response is not None and info.value.response.status_code == 404
    assert len(fake.requests) == 1


def test_sessions_share_the_process_throttle_by_default() -> None:
    with ArxivSession() as a, ArxivSession() as b:
        assert a.throttle is b.throttle is shared_throttle()
    first = ArxivSource(api_url="http://127.0.0.1:9/api/query", rss_url="http://127.0.0.1:9/rss")
    second = ArxivSource(api_url="http://127.0.0.1:9/api/query", rss_url="http://127.0.0.1:9/rss")
    with first, second:
        assert first.session.throttle is second.session.throttle is shared_throttle()


async def test_concurrent_tasks_are_serialised_and_spaced(fake: FakeArxiv) -> None:
    papers = make_papers(3)
    fake.add_papers(papers)
    delay = 0.2
    # Two sources on the process-wide throttle: spacing holds across them, API and RSS alike.
    one = ArxivSource(
        api_url=fake.api_url, rss_url=fake.rss_url, delay_seconds=delay, timeout_seconds=2
    )
    two = ArxivSource(
        api_url=fake.api_url, rss_url=fake.rss_url, delay_seconds=delay, timeout_seconds=2
    )
    with one, two:
        await asyncio.gather(
            one.fetch_listing("cs"),
            two.fetch_listing("stat.ML"),
            one.get_paper(papers[0].id),
            two.lookup([papers[1].id, papers[2].id]),
            one.search(["cs"], datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 9, 30, tzinfo=UTC)),
        )
        assert one.request_count + two.request_count == 5
    assert len(fake.requests) == 5
    assert {r.path for r in fake.requests} == {"/rss/cs", "/rss/stat.ML", "/api/query"}
    assert min(gaps(fake.requests)) >= delay  # one at a time, at least `delay` apart


async def test_retries_respect_the_spacing_end_to_end(fake: FakeArxiv) -> None:
    fake.inject(Fault.http(503, path="/api"), Fault.reset(path="/api"))
    fake.add_paper(make_paper(1))
    async with ArxivSource(
        api_url=fake.api_url,
        rss_url=fake.rss_url,
        delay_seconds=0.1,
        retries=2,
        backoff_seconds=0.01,
        throttle=Throttle(),
    ) as src:
        await src.get_paper(make_paper(1).id)
        assert src.request_count == 3
    assert min(gaps(fake.requests)) >= 0.1


async def test_source_gives_up_with_a_short_message(fake: FakeArxiv) -> None:
    fake.inject(*[Fault.reset(path="/rss")] * 2)
    async with ArxivSource(
        api_url=fake.api_url,
        rss_url=fake.rss_url,
        delay_seconds=0,
        retries=1,
        backoff_seconds=0.01,
        throttle=Throttle(),
    ) as src:
        with pytest.raises(SourceUnavailable) as info:
            await src.fetch_listing("cs")
    assert str(info.value) == (
        "arXiv is not responding (listing cs): connection failed (gave up after 2 attempts)"
    )
