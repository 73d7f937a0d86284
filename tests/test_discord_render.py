"""Discord rendering and markup: every message fits Discord's limits whatever the papers contain,
digests split only between papers, each paper has its Details/PDF/Code row, and text supplied by
papers or people never turns into markup or mentions."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.models import DetailLevel, Digest, DigestEntry, Paper, Summary, SummarySource, UpdateNote
from bot.rich import bold, code, italic, link, pre, rich
from handlers.discord.buttons import DETAILS_PREFIX, details_custom_id, view_of
from handlers.discord.markup import escape, fit_escaped, fit_markdown, length, to_markdown
from handlers.discord.messages import (
    MAX_CONTENT,
    MAX_CUSTOM_ID,
    MAX_DESCRIPTION,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_LABEL,
    MAX_ROW_BUTTONS,
    MAX_ROWS,
    MAX_TITLE,
    OutMessage,
)
from handlers.discord.render import render_digest, render_paper_card, render_paper_details

WHEN = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
ABSTRACT = (
    "We present a diffusion model for audio-driven talking heads. Code is at "
    "https://github.com/acme/talker and the project page is https://acme.github.io/talker. "
    "Experiments on three benchmarks show consistent gains."
)


def make_paper(n: int = 1, **changes: object) -> Paper:
    paper = Paper(
        id=f"2411.{n:05d}",
        version=1,
        title=f"Audio-Driven Talking Heads with Diffusion, Part {n}",
        abstract=ABSTRACT,
        authors=("Alice Smith", "Bob Lee", "Carol Wu", "Dmitri Ivanov", "Eun-ji Park"),
        categories=("cs.CV", "cs.LG"),
        primary_category="cs.CV",
        published=WHEN,
        updated=WHEN,
    )
    return replace(paper, **changes)  # type: ignore[arg-type]


def make_summary(source: SummarySource = SummarySource.LLM, **changes: object) -> Summary:
    summary = Summary(
        tldr="A diffusion model turns speech into lip-synced video at 30 fps on one GPU.",
        takeaways=("Phonemes beat raw audio.", "A consistency loss removes jitter."),
        language="en",
        source=source,
        model="test-model" if source is SummarySource.LLM else None,
    )
    return replace(summary, **changes)  # type: ignore[arg-type]


def make_digest(
    papers: list[Paper],
    *,
    summaries: dict[str, Summary] | None = None,
    updated: Sequence[tuple[Paper, int | None]] = (),
    query: str = 'talking head OR "lip sync"',
    total: int | None = None,
) -> Digest:
    entries = [DigestEntry(p, UpdateNote.NEW) for p in papers]
    entries += [DigestEntry(p, UpdateNote.UPDATED, was) for p, was in updated]
    return Digest(
        id=1,
        query=query,
        audience="discord:1",
        through=date(2026, 11, 20),
        since=date(2026, 11, 20),
        created_at=WHEN,
        entries=tuple(entries),
        total_matched=len(papers) if total is None else total,
        summaries=({p.id: make_summary() for p in papers} if summaries is None else summaries),
    )


def assert_sendable(message: OutMessage) -> None:
    """Discord's limits, checked on the payload as it would be posted."""
    payload = message.payload()
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload.get("content") or payload.get("embeds"), "an empty message"
    assert length(payload.get("content") or "") <= MAX_CONTENT
    embeds = payload.get("embeds", [])
    assert len(embeds) <= MAX_EMBEDS
    total = 0
    for embed in embeds:
        title, description = embed.get("title", ""), embed.get("description", "")
        assert length(title) <= MAX_TITLE
        assert length(description) <= MAX_DESCRIPTION
        footer = embed.get("footer", {}).get("text", "")
        total += length(title) + length(description) + length(footer)
        if "url" in embed:
            assert embed["url"].startswith("https://")
    assert total <= MAX_EMBED_TOTAL
    rows = payload.get("components", [])
    assert len(rows) <= MAX_ROWS
    for row in rows:
        assert row["type"] == 1 and 1 <= len(row["components"]) <= MAX_ROW_BUTTONS
        for button in row["components"]:
            assert 1 <= len(button["label"]) <= MAX_LABEL
            if "custom_id" in button:
                assert len(button["custom_id"]) <= MAX_CUSTOM_ID
            else:
                assert button["style"] == 5 and button["url"].startswith("https://")


def embeds_text(messages: list[OutMessage]) -> str:
    return "\n".join(f"{e.title or ''}\n{e.description or ''}" for m in messages for e in m.embeds)


# --- Markup ---------------------------------------------------------------------------------


def test_escape_shows_markup_literally_and_never_mentions() -> None:
    text = "**bold** _it_ `code` ~~s~~ ||spoiler|| > quote [x](https://e.com) <@123> @everyone"
    escaped = escape(text)
    assert "\\*\\*bold\\*\\*" in escaped and "\\_it\\_" in escaped and "\\`code\\`" in escaped
    assert "\\[x\\]" in escaped and "\\<@123\\>" in escaped
    assert "@everyone" not in escaped  # a zero-width space keeps it from pinging
    assert escape("see https://github.com/a_b/c_d") == "see https://github.com/a_b/c_d"


def test_rich_to_markdown() -> None:
    text = rich(
        "Use ", code("/subscribe `x`"), " or ", bold("*this*"), ", ", italic("maybe"), " ",
        link("docs [1]", "https://e.com/a (b)"), "\n", pre("query\n  ^"),
    )  # fmt: skip
    md = to_markdown(text)
    assert "`/subscribe ˋxˋ`" in md
    assert "**\\*this\\***" in md and "*maybe*" in md
    assert "[docs \\[1\\]](https://e.com/a%20%28b%29)" in md
    assert md.endswith("```\nquery\n  ^\n```")


def test_fitting_never_breaks_escapes_or_lines() -> None:
    raw = "*" * 5000
    fitted = fit_escaped(raw, 256)
    assert length(fitted) <= 256 and fitted.endswith("…")
    assert not re.search(r"(?<!\\)\*", fitted.replace("\\*", ""))  # every * still escaped
    md = "\n".join(f"**line {i}**" for i in range(1000))
    cut = fit_markdown(md, 100)
    assert length(cut) <= 100 and cut.endswith("\n…") and cut.count("**") % 2 == 0
    astral = "𝔸" * 300
    assert length(fit_escaped(astral, 101)) <= 101


# --- Digests --------------------------------------------------------------------------------


def test_digest_header_then_one_embed_per_paper_with_buttons() -> None:
    papers = [make_paper(1, abstract=ABSTRACT), make_paper(2, abstract="No code here.")]
    [message] = render_digest(make_digest(papers), detail=DetailLevel.FULL, language="en")
    assert_sendable(message)
    header, first, _ = message.embeds
    assert header.title == escape('talking head OR "lip sync"')
    assert header.description and "2 new papers" in header.description
    assert first.title == "1. Audio-Driven Talking Heads with Diffusion, Part 1"
    assert first.url == "https://arxiv.org/abs/2411.00001"
    assert first.description is not None
    assert "Alice Smith, Bob Lee, Carol Wu et al. · cs.CV" in first.description
    assert "**TL;DR:** A diffusion model" in first.description
    assert "• Phonemes beat raw audio." in first.description
    assert "[PDF](https://arxiv.org/pdf/2411.00001v1)" in first.description
    row1, row2 = message.rows
    assert [b.label for b in row1] == ["1. More details", "PDF", "Code"]
    assert row1[0].custom_id == "pb:details:2411.00001"
    assert row1[2].url == "https://github.com/acme/talker"
    assert [b.label for b in row2] == ["2. More details", "PDF"]  # no code link, no Code


def test_detail_levels_and_extractive_tag() -> None:
    paper = make_paper(1)
    summaries = {paper.id: make_summary(SummarySource.EXTRACTIVE)}
    digest = make_digest([paper], summaries=summaries)
    titles = embeds_text(render_digest(digest, detail=DetailLevel.TITLES, language="en"))
    assert "TL;DR" not in titles
    tldr = embeds_text(render_digest(digest, detail=DetailLevel.TLDR, language="en"))
    assert "**TL;DR (extractive):**" in tldr and "Phonemes" not in tldr
    full = embeds_text(render_digest(digest, detail=DetailLevel.FULL, language="zh"))
    assert "一句话总结（抽取式）：" in full and "• Phonemes beat raw audio." in full


def test_long_digests_split_between_papers_at_five_per_message() -> None:
    papers = [make_paper(n) for n in range(1, 13)]
    messages = render_digest(make_digest(papers, total=20), detail=DetailLevel.FULL, language="en")
    assert [len(m.rows) for m in messages] == [5, 5, 2]
    for m in messages:
        assert_sendable(m)
    assert messages[0].embeds[0].description and "and 8 more not shown" in (
        messages[0].embeds[0].description
    )
    assert messages[1].embeds[0].title == escape('talking head OR "lip sync" (continued)')
    numbers = [int(e.title.split(".")[0]) for m in messages for e in m.embeds[1:] if e.title]
    assert numbers == list(range(1, 13))


def test_updated_entries_are_listed_after_the_papers() -> None:
    digest = make_digest([make_paper(1)], updated=[(make_paper(7, version=3), 2)])
    [message] = render_digest(digest, detail=DetailLevel.FULL, language="en")
    assert_sendable(message)
    updated = message.embeds[-1]
    assert updated.title == "Updated since you saw them"
    assert updated.description and "updated to v3 (was v2)" in updated.description
    assert "(https://arxiv.org/abs/2411.00007)" in updated.description


@pytest.mark.parametrize("language", ["en", "zh"])
def test_empty_digest_is_a_note(language: str) -> None:
    [message] = render_digest(make_digest([]), detail=DetailLevel.FULL, language=language)
    assert_sendable(message)
    assert message.rows == ()
    text = embeds_text([message])
    assert ("No new papers" in text) if language == "en" else ("暂无新论文" in text)


def test_hostile_text_is_shown_literally() -> None:
    paper = make_paper(
        1, title="**Bold** @everyone <@&1> [click](https://evil.example)", authors=("_a_",)
    )
    digest = make_digest([paper], query="`x` || y")
    [message] = render_digest(digest, detail=DetailLevel.FULL, language="en")
    assert_sendable(message)
    title = message.embeds[1].title or ""
    assert title.startswith("1. \\*\\*Bold\\*\\* @\u200beveryone \\<@&1\\> \\[click\\]")


def test_random_hostile_digests_are_always_sendable() -> None:
    pieces = ["*", "_", "`", "~", "|", ">", "<", "[", "]", "(", ")", "#", "-", "@everyone", "\\",
              " ", "\n", "😀", "𝔸", "中", "👩‍💻", "é", "word", "https://x.io/a_b"]  # fmt: skip
    rng = random.Random(20261121)

    def junk(size: int) -> str:
        run = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))
        return (run * (size // len(run) + 1))[: rng.randint(0, size)]

    for _ in range(20):
        papers = [
            make_paper(
                n,
                title=junk(rng.choice([5, 50, 6000])),
                authors=tuple(junk(8) for _ in range(rng.randint(0, 40))),
                abstract=junk(rng.choice([10, 5000])),
                comment=junk(30) or None,
            )
            for n in range(1, rng.randint(2, 25))
        ]
        summaries = {
            p.id: make_summary(
                rng.choice(list(SummarySource)),
                tldr=junk(rng.choice([20, 3000])),
                takeaways=tuple(junk(600) for _ in range(rng.randint(0, 9))),
            )
            for p in papers
            if rng.random() < 0.8
        }
        updated = [(make_paper(100 + n, title=junk(500), version=2), 1) for n in range(5)]
        digest = make_digest(papers, summaries=summaries, query=junk(6000) or "q", updated=updated)
        language = rng.choice(["en", "zh"])
        for detail in DetailLevel:
            messages = render_digest(digest, detail=detail, language=language)
            for message in messages:
                assert_sendable(message)
            shown = sum(len(m.rows) for m in messages)
            assert shown == len(papers)  # nothing dropped, one row per paper
        for paper in papers[:3]:
            assert_sendable(render_paper_card(paper, summaries.get(paper.id), language=language))
            assert_sendable(render_paper_details(paper, summaries.get(paper.id), language=language))


# --- Cards, details and buttons ---------------------------------------------------------------


def test_paper_card_and_details() -> None:
    paper = make_paper(3, version=2, comment="Accepted at CVPR", journal_ref="J. Vis. 1 (2026)")
    card = render_paper_card(paper, make_summary(), language="en")
    assert_sendable(card)
    [embed] = card.embeds
    assert embed.url == "https://arxiv.org/abs/2411.00003" and embed.footer == "2411.00003v2"
    assert [b.label for b in card.rows[0]] == ["More details", "PDF", "Code"]
    details = render_paper_details(paper, make_summary(), language="en")
    assert_sendable(details)
    text = details.embeds[0].description or ""
    assert "**Abstract:** We present" in text and "**Comment:** Accepted at CVPR" in text
    assert "**Links:**" in text and "Eun-ji Park" in text
    # No Details button on the details; links, then the full review one click away.
    assert [b.label for b in details.rows[0]] == ["PDF", "Code", "Full review"]
    assert details.rows[0][-1].custom_id == "pb:review:" + paper.id


def test_details_custom_ids_round_trip_and_refuse_other_ids() -> None:
    assert details_custom_id("2409.03605") == DETAILS_PREFIX + "2409.03605"
    assert details_custom_id("hep-th/9901001") == DETAILS_PREFIX + "hep-th/9901001"
    assert details_custom_id("not an id") is None
    assert details_custom_id("2409.03605v2") is None  # digests carry unversioned ids
    paper = make_paper(1, id="local-paper")
    [message] = render_digest(make_digest([paper]), detail=DetailLevel.TLDR, language="en")
    assert [b.label for b in message.rows[0]] == ["PDF", "Code"]  # no Details button


async def test_view_of_uses_dynamic_details_buttons() -> None:
    card = render_paper_card(make_paper(1), make_summary(), language="en")
    view = view_of(card.rows)
    components = view.to_components()
    assert [c["custom_id"] for c in components[0]["components"] if "custom_id" in c] == [
        "pb:details:2411.00001"
    ]
    assert len(components[0]["components"]) == 3
