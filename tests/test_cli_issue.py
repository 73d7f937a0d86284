"""Regressions of the command line reported together: nothing false, nothing lost, and a
process that reuses what is stored instead of asking arXiv again.

Each test drives `handlers.cli.main` with a fake clock against the fake arXiv (and, where an
API key matters, the fake LLM server); none sleeps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.models import Listing
from handlers.cli import main
from tests.fakes.arxiv_data import make_paper, next_version
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.llm_server import CHATTER, FakeLLMServer
from tests.pipeline_data import TOPIC, FakeClock, talking_head_papers

FRI, SAT = date(2026, 11, 20), date(2026, 11, 21)
MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
WED, THU = date(2026, 11, 25), date(2026, 11, 26)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        monkeypatch.setenv("ARXIV_API_URL", server.api_url)
        monkeypatch.setenv("ARXIV_RSS_URL", server.rss_url)
        monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "cli.db"))
        monkeypatch.setenv("PAPERBOY_ARXIV_DELAY", "0")
        monkeypatch.setenv("PAPERBOY_ARXIV_RETRIES", "0")
        monkeypatch.setenv("PAPERBOY_CATEGORIES", "cs,eess")
        yield server


def at(day: date, hour: int = 15) -> FakeClock:
    return FakeClock(now=datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, clock: FakeClock | None = None
) -> tuple[int, str, str]:
    code = main(list(argv), clock=clock)
    out, err = capsys.readouterr()
    return code, out, err


def empty_feeds(fake: FakeArxiv, day: date) -> None:
    """Feeds dated `day` without any item, as arXiv serves them on a day without announcement."""
    for group in ("cs", "eess"):
        fake.set_listing(Listing(group=group, listing_date=day, announcements=()))


# -- a first run on a day without an announcement --------------------------------------------


def test_first_run_on_a_saturday_shows_fridays_listing_and_says_why(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    friday = talking_head_papers(FRI)
    fake.add_papers(friday)
    empty_feeds(fake, SAT)
    code, out, err = run(capsys, "digest", TOPIC, clock=at(SAT))
    assert code == 0, err
    assert "No arXiv listing is stored yet" not in out
    assert "Fri 20 Nov 2026" in out
    assert "arXiv announces nothing on Sat 21 Nov 2026" in out
    for p in friday:
        assert p.title[:30] in out


def test_first_run_on_a_holiday_backfills_the_previous_listing(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    wednesday = talking_head_papers(WED)
    fake.add_papers(wednesday)
    empty_feeds(fake, THU)  # a weekday without announcement (Thanksgiving)
    code, out, err = run(capsys, "digest", TOPIC, clock=at(THU))
    assert code == 0, err
    assert "Wed 25 Nov 2026" in out
    assert "arXiv announces nothing on Thu 26 Nov 2026" in out
    assert wednesday[0].title[:30] in out


def test_a_warm_run_on_the_weekend_still_says_why(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_papers(talking_head_papers(FRI))
    empty_feeds(fake, SAT)
    assert run(capsys, "digest", TOPIC, clock=at(SAT))[0] == 0
    fake.clear_requests()
    code, out, _ = run(capsys, "digest", TOPIC, clock=at(SAT, 18))
    assert code == 0 and fake.requests == []
    assert "arXiv announces nothing on Sat 21 Nov 2026" in out


def test_a_normal_day_has_no_such_line(fake: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    fake.announce(FRI, new=talking_head_papers(FRI))
    code, out, _ = run(capsys, "digest", TOPIC, clock=at(FRI))
    assert code == 0 and "announces nothing" not in out


# -- extractive summaries say so, and why ----------------------------------------------------


def test_zh_without_a_key_says_the_summaries_are_english_extracts(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.announce(FRI, new=talking_head_papers(FRI))
    code, out, _ = run(capsys, "digest", TOPIC, "--lang", "zh", clock=at(FRI))
    assert code == 0
    assert "OPENAI_API_KEY is not set" in out
    assert "English" in out  # asked for zh, got the abstract's own (English) sentences


def test_a_key_whose_answers_are_rejected_names_the_reason_not_the_key(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.announce(FRI, new=talking_head_papers(FRI))
    with FakeLLMServer(default=CHATTER) as llm:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        monkeypatch.setenv("PAPERBOY_LLM_RETRIES", "0")
        code, out, _ = run(capsys, "digest", TOPIC, clock=at(FRI))
        # A second run reads the fallbacks from the cache: the reason must survive it.
        code2, out2, _ = run(capsys, "digest", TOPIC, clock=at(FRI, 16))
    assert code == code2 == 0
    for text in (out, out2):
        assert "set OPENAI_API_KEY" not in text
        assert "OPENAI_API_KEY is not set" not in text
        assert "extractive for 3 papers" in text
        assert "failed validation" in text


def test_a_key_with_valid_answers_adds_no_note(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.announce(FRI, new=talking_head_papers(FRI))
    with FakeLLMServer() as llm:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        code, out, _ = run(capsys, "digest", TOPIC, clock=at(FRI))
    assert code == 0 and "extractive" not in out.lower()


# -- paper versions and dates ------------------------------------------------------------------


def test_a_missing_version_names_the_versions_that_exist(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    v1 = make_paper(5, title="Lip Sync Everywhere", abstract="We sync lips.")
    fake.add_papers([v1, next_version(v1), next_version(next_version(v1))])
    code, out, err = run(capsys, "paper", f"arXiv:{v1.id}v9")
    assert code == 2 and out == ""
    assert f"arXiv has {v1.id} in versions v1–v3; v9 does not exist" in err
    assert run(capsys, "paper", f"{v1.id}v2")[0] == 0


def test_since_in_the_future_is_refused(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "digest", TOPIC, "--since", "2030-01-01", clock=at(FRI))
    assert code == 2 and out == ""
    assert "2030-01-01" in err and "future" in err
    assert fake.requests == []


# -- an unusable database -----------------------------------------------------------------------


def _not_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"my precious notes, not a database\n" * 50)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path


@pytest.mark.parametrize("command", [["digest", "anything"], ["paper", "2409.03605"], ["run"]])
def test_a_file_that_is_not_sqlite_is_one_line_and_left_untouched(
    fake: FakeArxiv,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: list[str],
) -> None:
    path = _not_sqlite(tmp_path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    monkeypatch.setenv("PAPERBOY_DB", str(path))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    code, out, err = run(capsys, *command)
    assert code == 2 and out == ""
    assert err.startswith("paperboy: Invalid setting PAPERBOY_DB: ")
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("notes")) == [
        "notes.txt"
    ]  # no -wal / -shm / -journal next to it
    assert fake.requests == []


@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
@pytest.mark.parametrize("command", [["digest", "anything"], ["run"]])
def test_an_impossible_database_path_is_one_line(
    fake: FakeArxiv,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    where: str,
    command: list[str],
) -> None:
    if where == "under_a_file":
        blocker = _not_sqlite(tmp_path)
        target = blocker / "sub" / "paperboy.db"
    else:
        target = Path("/proc/paperboy-test/paperboy.db")  # unwritable even for root
    monkeypatch.setenv("PAPERBOY_DB", str(target))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    code, out, err = run(capsys, *command)
    assert code == 2 and out == ""
    assert err.startswith("paperboy: Invalid setting PAPERBOY_DB: ")
    assert err.strip().count("\n") == 0 and "Traceback" not in err


# -- a warm run uses what is stored; a later look is conditional ---------------------------------


def test_a_warm_digest_sends_no_request_while_the_listing_is_current(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    assert run(capsys, "digest", TOPIC, clock=at(MON))[0] == 0
    assert fake.requests  # the cold run fetched
    fake.clear_requests()
    code, out, _ = run(capsys, "digest", TOPIC, clock=at(MON, 23))
    assert code == 0 and talking_head_papers(MON)[0].title[:30] in out
    assert fake.requests == []


def test_the_next_day_looks_again_conditionally(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.announce(MON, new=talking_head_papers(MON))
    assert run(capsys, "digest", TOPIC, clock=at(MON))[0] == 0
    fake.clear_requests()
    # Tuesday: the feeds must be looked at again, but they did not change (a late rebuild).
    assert run(capsys, "digest", TOPIC, clock=at(TUE))[0] == 0
    feeds = fake.requests_to("/rss/")
    assert len(feeds) == 2
    assert all("If-None-Match" in r.headers or "If-Modified-Since" in r.headers for r in feeds)
    assert {r.status for r in feeds} == {304}
    # When they do change, the new listing arrives.
    fresh = make_paper(70, title="Lip Sync Tuesday", abstract="We sync lips on Tuesday.")
    fake.announce(TUE, new=[fresh])
    code, out, _ = run(capsys, "digest", '"lip sync"', clock=at(TUE, 16))
    assert code == 0, out
    fake.clear_requests()
    code, out, _ = run(capsys, "digest", '"lip sync"', clock=at(TUE, 17))
    assert code == 0 and fake.requests == []
