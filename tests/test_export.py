"""`paperboy export`: a topic's daily blog post, its figures, and why re-running it is safe."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.export import query_tags, slugify
from bot.query import parse_query
from handlers.cli import main
from tests.fakes.arxiv_data import make_paper, next_version
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.fulltext_data import latexml_page, png_bytes
from tests.pipeline_data import TOPIC, FakeClock, distractor_papers, talking_head_papers

DAY1 = date(2026, 11, 20)  # a Friday
DAY2 = date(2026, 11, 23)  # the Monday after
SLUG = "talking-head-or-talking-face-or-lip-sync"
POST1 = f"{DAY1.isoformat()}-{SLUG}"
POST2 = f"{DAY2.isoformat()}-{SLUG}"


def at(day: date, hour: int = 15) -> FakeClock:
    return FakeClock(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        monkeypatch.setenv("ARXIV_API_URL", server.api_url)
        monkeypatch.setenv("ARXIV_RSS_URL", server.rss_url)
        monkeypatch.setenv("ARXIV_SITE_URL", server.site_url)
        monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "export.db"))
        monkeypatch.setenv("PAPERBOY_ARXIV_DELAY", "0")
        monkeypatch.setenv("PAPERBOY_ARXIV_RETRIES", "0")
        monkeypatch.setenv("PAPERBOY_CATEGORIES", "cs")
        yield server


def with_figure(fake: FakeArxiv, vid: str, *, width: int = 64) -> None:
    fake.add_html(vid, latexml_page(vid, figures=1))
    fake.add_figure(vid, "x1.png", png_bytes(width, width * 3 // 4))


def export(
    capsys: pytest.CaptureFixture[str], clock: FakeClock, out: Path, day: date, *extra: str
) -> tuple[int, str, str]:
    argv = ["export", TOPIC, "--date", day.isoformat(), "--out", str(out), *extra]
    code = main(argv, clock=clock)
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr


def front_matter(post: str) -> dict[str, Any]:
    """The front matter, each value read as JSON (quoted strings and lists are JSON, which is
    valid YAML): a stray quote or line break would fail here, as in a site generator."""
    lines = post.split("\n")
    assert lines[0] == "---"
    end = lines.index("---", 1)
    fields: dict[str, Any] = {}
    for line in lines[1:end]:
        key, _, value = line.partition(": ")
        assert key.isidentifier() and key not in fields, line
        fields[key] = value if key == "date" else json.loads(value)
    assert lines[end + 1 :].count("---") == 0  # nothing in the body can end or restart it
    return fields


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_the_post_has_front_matter_and_relative_figures(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    heads = talking_head_papers(DAY1)
    fake.announce(DAY1, new=[*heads, *distractor_papers(DAY1)])
    with_figure(fake, f"{heads[0].id}v1", width=3000)  # downscaled for the web
    with_figure(fake, f"{heads[2].id}v1")
    out = tmp_path / "site"
    code, stdout, _ = export(capsys, at(DAY1), out, DAY1)
    assert code == 0
    post_path = out / f"{POST1}.md"
    assert str(post_path) in stdout and "written" in stdout
    post = post_path.read_text("utf-8")
    fm = front_matter(post)
    assert fm["date"] == "2026-11-20"
    assert fm["title"] == f"arXiv: {TOPIC} — Fri 20 Nov 2026"
    assert fm["tags"] == ["talking head", "talking face", "lip sync"]
    assert fm["categories"] == ["arXiv", "cs.CV", "cs.GR"]  # primary categories
    assert fm["description"]  # the first paper's TL;DR
    assert fm["description"].split()[0] in post.split("---", 2)[2]
    assert fm["papers"] == 3 and fm["query"] == TOPIC
    # The cover is the first paper's figure; every figure is a file linked relatively.
    first = post.index("## 1.")
    assert fm["cover"] == f"{POST1}/fig-{heads[0].id}-1.png"
    for paper in (heads[0], heads[2]):
        rel = f"{POST1}/fig-{paper.id}-1.png"
        assert f"](<{rel}>)" in post[first:]
        data = (post_path.parent / rel).read_bytes()
        assert data.startswith(b"\x89PNG")
    assert sorted(p.name for p in (out / POST1).iterdir()) == sorted(
        f"fig-{p.id}-1.png" for p in (heads[0], heads[2])
    )
    from PIL import Image

    with Image.open(out / POST1 / f"fig-{heads[0].id}-1.png") as big:
        assert max(big.size) == 2048
    for p in heads:
        assert f"https://arxiv.org/abs/{p.id}" in post
    for p in distractor_papers(DAY1):
        assert p.title not in post
    assert "2026-11-20T" not in post and "generator" not in post  # no generation stamp


def test_days_dedupe_and_rerunning_a_day_writes_the_same_bytes(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    heads = talking_head_papers(DAY1)
    fake.announce(DAY1, new=heads)
    with_figure(fake, f"{heads[0].id}v1")
    out = tmp_path / "site"
    assert export(capsys, at(DAY1), out, DAY1)[0] == 0
    day1 = snapshot(out)

    fresh = make_paper(
        60, title="Talking Face Video Editing", abstract="We edit talking face videos.",
        published=datetime(2026, 11, 20, 20, tzinfo=UTC),
    )  # fmt: skip
    v2 = next_version(heads[0], title="EmoTalk3D v2: Talking-Head Synthesis, Revised")
    fake.announce(DAY2, new=[fresh], replaced=[v2])
    code, _, _ = export(capsys, at(DAY2), out, DAY2)
    assert code == 0
    post2 = (out / f"{POST2}.md").read_text("utf-8")
    assert "Talking Face Video Editing" in post2
    assert f"[{heads[0].title[:20]}" not in post2  # not shown again as a new paper...
    assert "updated to v2 (was v1)" in post2  # ...but as an update line
    assert heads[1].title not in post2 and heads[2].title not in post2
    assert front_matter(post2)["papers"] == 1

    # Day 1 again, after day 2 (its first paper is now v2): the same files, not even touched.
    code, stdout, _ = export(capsys, at(DAY2, 18), out, DAY1)
    assert code == 0 and "unchanged" in stdout
    again = {k: v for k, v in snapshot(out).items() if k.startswith(POST1)}
    assert again == day1
    post1 = (out / f"{POST1}.md").read_text("utf-8")
    assert f"{heads[0].id}v1" in post1 and "Revised" not in post1
    # And day 2 again too.
    before = snapshot(out)
    assert export(capsys, at(DAY2, 20), out, DAY2)[0] == 0
    assert snapshot(out) == before


def test_a_day_not_stored_yet_is_backfilled(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    heads = talking_head_papers(DAY1)
    fake.add_papers(heads)  # arXiv has them (the API), but today's feed is day 2's
    fake.announce(DAY2, new=talking_head_papers(DAY2, first=40))
    out = tmp_path / "site"
    code, _, _ = export(capsys, at(DAY2), out, DAY1)
    assert code == 0
    assert fake.requests_to("/api/query")  # the backfill
    post = (out / f"{POST1}.md").read_text("utf-8")
    for p in heads:
        assert f"https://arxiv.org/abs/{p.id}" in post
    assert front_matter(post)["papers"] == len(heads)


def test_a_weekend_says_arxiv_announces_nothing_and_names_the_listing_before(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake.announce(DAY1, new=talking_head_papers(DAY1))
    code, stdout, stderr = export(capsys, at(DAY2), tmp_path / "site", date(2026, 11, 22))
    assert code == 2 and stdout == ""
    assert "arXiv announces nothing on Sunday 2026-11-22" in stderr
    assert "nearest earlier listing is 2026-11-20" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists()


def test_a_future_date_is_refused(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, stderr = export(capsys, at(DAY1), tmp_path / "site", DAY2)
    assert code == 2
    assert "2026-11-23 is in the future" in stderr and "2026-11-20" in stderr
    assert fake.requests == []


def test_full_adds_the_review_read_from_the_paper(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    heads = talking_head_papers(DAY1)
    fake.announce(DAY1, new=heads)
    with_figure(fake, f"{heads[0].id}v1")
    out = tmp_path / "site"
    assert export(capsys, at(DAY1), out, DAY1, "--full")[0] == 0
    post = (out / f"{POST1}.md").read_text("utf-8")
    assert "### Review" in post
    assert "*Source: HTML*" in post  # what the review read
    assert "**Affiliations:**" in post and "**Method:**" in post


def test_chinese_labels_and_summaries(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    heads = talking_head_papers(DAY1)
    fake.announce(DAY1, new=heads)
    out = tmp_path / "site"
    assert export(capsys, at(DAY1), out, DAY1, "--lang", "zh", "--full")[0] == 0
    post = (out / f"{POST1}.md").read_text("utf-8")
    fm = front_matter(post)
    assert fm["title"].startswith("arXiv：")
    assert "2026年11月20日" in fm["title"] or "11月20日" in fm["title"]
    assert "**作者：**" in post and "**一句话总结" in post
    assert "### 评述" in post and "*来源: abstract*" in post  # no HTML: the abstract


def test_hostile_titles_keep_the_front_matter_and_the_post_valid(
    fake: FakeArxiv, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    nasty = make_paper(
        7,
        title='---\ntitle: "pwned"\n--- Talking Head *bold* <script>x</script> {{< sc >}} '
        "{% raw %} [link](http://evil) & more",
        abstract="A talking head method.\n---\n# heading\n<img src=x onerror=alert(1)>",
        comment="}} --- {{",
        published=datetime(2026, 11, 18, 20, tzinfo=UTC),
    )
    fake.announce(DAY1, new=[nasty])
    out = tmp_path / "site"
    assert export(capsys, at(DAY1), out, DAY1)[0] == 0
    post = (out / f"{POST1}.md").read_text("utf-8")
    fm = front_matter(post)  # still parses, with the expected keys only
    assert set(fm) == {"title", "date", "tags", "categories", "description", "query", "papers",
                       "disableNunjucks"}  # fmt: skip
    assert fm["title"] == f"arXiv: {TOPIC} — Fri 20 Nov 2026"
    body = post.split("\n---\n", 1)[1]
    for raw in ("<script>", "<img", "{{<", "{%", "}}", "](http://evil)", "*bold*"):
        # Each only ever appears with its first character backslash-escaped.
        assert not re.search(r"(?<!\\)" + re.escape(raw), body), raw
    assert not [line for line in body.splitlines() if line.startswith(("---", "# heading"))]
    assert "\\<script\\>" in body and "\\{\\{\\< sc \\>\\}\\}" in body


def test_slugs_and_tags_are_stable_ascii() -> None:
    assert slugify(TOPIC) == SLUG
    assert slugify("diffusion -survey cat:cs.CV") == "diffusion-not-survey-cat-cs-cv"
    assert slugify("Éclair  talking") == "eclair-talking"
    chinese = slugify("说话人")
    assert chinese.startswith("topic-") and chinese == slugify("说话人") and chinese.isascii()
    assert len(slugify("word " * 40)) <= 60
    query = parse_query('(nerf OR "gaussian splatting") avatar talk* -survey cat:cs.*')
    assert query_tags(query) == ["nerf", "gaussian splatting", "avatar", "talk", "cs"]
