"""The `paperboy` command as a user runs it: output on stdout, messages on stderr, exit codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from handlers.cli import main
from tests.fakes.arxiv_data import make_paper, next_version
from tests.fakes.arxiv_server import FakeArxiv, Fault
from tests.fakes.fulltext_data import latexml_page
from tests.pipeline_data import TOPIC, FakeClock, distractor_papers, talking_head_papers

LISTING = date(2026, 11, 20)


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


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_digest_prints_the_topic_papers_with_metadata_links(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = talking_head_papers(LISTING)
    fake.announce(LISTING, new=[*heads, *distractor_papers(LISTING)])
    code, out, _ = run(capsys, "digest", TOPIC)
    assert code == 0
    for p in heads:
        assert " ".join(p.title.split()[:3]) in out
        assert f"https://arxiv.org/abs/{p.id}" in out
        assert f"https://arxiv.org/pdf/{p.id}v1" in out
    for p in distractor_papers(LISTING):
        assert p.title not in out
    assert "https://github.com/example/rt-heads" in out  # code link from the abstract
    assert "https://emotalk3d.github.io/" in out  # project page from the comments
    assert "extractive" in out.lower()
    assert "Fri 20 Nov 2026" in out


def test_markdown_is_a_blog_post(fake: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    heads = talking_head_papers(LISTING)
    fake.announce(LISTING, new=heads)
    code, out, _ = run(capsys, "digest", TOPIC, "--format", "markdown")
    assert code == 0
    front, body = out.split("\n---\n", 1)
    assert front.startswith("---\n")
    assert "date: 2026-11-20" in front
    assert "papers: 3" in front
    assert re.search(r"^# .+ — Fri 20 Nov 2026$", body, re.M)
    assert body.count("\n## ") == 3
    for key in ("**Authors:**", "**Links:**", "**TL;DR", "**Key takeaways**", "Abstract"):
        assert key in body
    assert "**Comment:** Project page" in body


def test_markdown_escapes_paper_supplied_text(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    tricky = make_paper(
        9,
        title="Lip Sync for <script>alert(1)</script> *bold* [link](http://x)",
        abstract="We study lip sync. It works_well for `code` and # headings.",
        published=talking_head_papers(LISTING)[0].published,
    )
    fake.announce(LISTING, new=[tricky])
    code, out, _ = run(capsys, "digest", '"lip sync"', "--format", "markdown")
    assert code == 0
    assert "<script>" not in out
    assert "[link](http://x)" not in out


def test_invalid_query_explains_where(fake: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "digest", '"talking head OR lip')
    assert code == 2 and out == ""
    assert "Invalid topic query" in err and "^" in err and "Example" in err
    assert "Traceback" not in err


def test_a_lower_case_or_is_searched_as_typed_with_one_warning_line(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.announce(LISTING, new=talking_head_papers(LISTING))
    code, _, err = run(capsys, "digest", '"talking head" or "lip sync"')
    assert code == 0
    warnings = [line for line in err.splitlines() if "did you mean" in line]
    assert warnings == ['warning: "or" is searched as a word; did you mean OR?']
    _, _, quiet = run(capsys, "digest", '"talking head" OR "lip sync"')
    assert "did you mean" not in quiet


def test_paper_card(fake: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    p = talking_head_papers(LISTING)[0]
    fake.add_papers([p])
    code, out, _ = run(capsys, "paper", f"https://arxiv.org/abs/{p.id}v1")
    assert code == 0
    assert p.title in out.replace("\n", " ").replace("  ", " ") or p.title[:40] in out
    assert "TL;DR" in out and "https://emotalk3d.github.io/" in out


def test_paper_full_adds_a_review_read_from_the_paper(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = talking_head_papers(LISTING)[0]
    fake.add_papers([p])
    fake.add_html(f"{p.id}v1", latexml_page(f"{p.id}v1"))
    monkeypatch.setenv("ARXIV_SITE_URL", fake.site_url)
    code, out, _ = run(capsys, "paper", p.id, "--full")
    assert code == 0
    assert "TL;DR" in out  # the card first
    assert "Source: HTML" in out  # then the review, saying what it read
    assert "Affiliations:" in out and "Method:" in out
    assert "Extractive review: " in out  # no API key: the paper's own sentences, and why
    assert "OPENAI_API_KEY" in out


@pytest.mark.parametrize(
    ("arg", "needle"),
    [("not-an-id", "not an arXiv identifier"), ("2411.99999", "no paper")],
)
def test_paper_errors_are_one_clear_message(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], arg: str, needle: str
) -> None:
    code, out, err = run(capsys, "paper", arg)
    assert code == 2 and out == ""
    assert needle in err and "Traceback" not in err


def test_bad_setting_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAPERBOY_CATEGORIES", "cs,bogus")
    code, out, err = run(capsys, "digest", "anything")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "PAPERBOY_CATEGORIES" in err


def test_unreachable_arxiv_still_answers(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.inject(Fault.http(503), Fault.http(503))  # one per group; the CLI here does no retries
    code, out, err = run(capsys, "digest", TOPIC)
    assert code == 1 and out == ""
    assert "arXiv could not be reached" in err and "Traceback" not in err
    # Once a listing is stored, an outage still prints the stored digest.
    fake.announce(LISTING, new=talking_head_papers(LISTING))
    assert run(capsys, "digest", TOPIC)[0] == 0
    fake.inject(Fault.http(503), Fault.http(503))
    code, out, err = run(capsys, "digest", TOPIC, "--since", "2026-11-01")
    assert code == 0 and talking_head_papers(LISTING)[0].title[:30] in out


def test_unknown_language_is_a_user_error(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.announce(LISTING, new=talking_head_papers(LISTING))
    code, _, err = run(capsys, "digest", TOPIC, "--lang", "<b>!!</b>")
    assert code == 2 and "language" in err


def test_run_without_a_token_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "run")
    assert code == 2 and out == ""
    assert "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err


def test_malformed_token_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    code, _, err = run(capsys, "run")
    assert code == 2 and "Invalid setting TELEGRAM_BOT_TOKEN" in err
    assert "not-a-token" not in err  # secrets are not echoed


def test_next_day_run_shows_new_papers_and_versions_once(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = talking_head_papers(LISTING)
    fake.announce(LISTING, new=heads)
    code = main(["digest", TOPIC], clock=FakeClock(datetime(2026, 11, 20, 15, tzinfo=UTC)))
    assert code == 0
    capsys.readouterr()
    fresh = make_paper(
        60, title="Talking Face Video Editing", abstract="We edit talking face videos.",
        published=heads[0].published,
    )  # fmt: skip
    fake.announce(date(2026, 11, 23), new=[fresh], replaced=[next_version(heads[0])])
    code = main(["digest", TOPIC], clock=FakeClock(datetime(2026, 11, 23, 15, tzinfo=UTC)))
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Talking Face Video Editing" in out
    assert f"updated to v2 (was v1) https://arxiv.org/abs/{heads[0].id}" in out
    assert out.count(heads[0].title[:30]) == 1  # only in the update line
    assert heads[1].title not in out
