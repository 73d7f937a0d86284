"""The platform-neutral views (`bot.present`): localized plain text, the same for every frontend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.models import (
    DetailLevel,
    Digest,
    DigestEntry,
    LinkKind,
    Paper,
    Summary,
    SummarySource,
    UpdateNote,
)
from bot.present import (
    EN,
    ZH,
    author_line,
    digest_view,
    is_arxiv_id,
    paper_card,
    paper_details,
    paper_view,
    strings_for,
)

ABSTRACT = (
    "We present a method for talking-head synthesis. Code: https://github.com/acme/talker, "
    "data at https://huggingface.co/datasets/acme/heads and project page "
    "https://acme.github.io/talker. See also https://github.com/acme/other."
)


def make_paper(n: int = 1, **changes: object) -> Paper:
    paper = Paper(
        id=f"2411.{n:05d}",
        version=1,
        title=f"Talking Heads, Part {n}",
        abstract=ABSTRACT,
        authors=("Alice Smith", "Bob Lee", "Carol Wu", "Dmitri Ivanov", "Eun-ji Park"),
        categories=("cs.LG", "cs.CV", "cs.LG"),
        primary_category="cs.CV",
        published=datetime(2026, 11, 19, 18, 0, tzinfo=UTC),
    )
    return replace(paper, **changes)  # type: ignore[arg-type]


def make_summary(source: SummarySource = SummarySource.LLM, **changes: object) -> Summary:
    summary = Summary(
        tldr="A diffusion model turns speech into video.",
        takeaways=("Phonemes beat raw audio.", "  ", "Runs in real time."),
        language="en",
        source=source,
    )
    return replace(summary, **changes)  # type: ignore[arg-type]


def make_digest(
    papers: list[Paper],
    *,
    updated: list[tuple[Paper, int | None]] | None = None,
    summaries: dict[str, Summary] | None = None,
    total: int | None = None,
    since: date | None = None,
    through: date | None = date(2026, 11, 20),
) -> Digest:
    entries = [DigestEntry(p, UpdateNote.NEW) for p in papers]
    entries += [DigestEntry(p, UpdateNote.UPDATED, was) for p, was in (updated or [])]
    return Digest(
        id=1,
        query='talking head OR "lip sync"',
        audience="chat:1",
        through=through,
        since=since,
        created_at=datetime(2026, 11, 20, 21, tzinfo=UTC),
        entries=tuple(entries),
        total_matched=len(papers) if total is None else total,
        summaries=summaries if summaries is not None else {p.id: make_summary() for p in papers},
    )


# --- Strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", EN), ("zh", ZH), ("zh-TW", ZH), (" ZH-cn ", ZH), ("de", EN), ("", EN)],
)
def test_strings_for_picks_chinese_only_for_zh(language: str, expected: object) -> None:
    assert strings_for(language) is expected


def test_every_link_kind_has_a_label_in_every_language() -> None:
    for strings in (EN, ZH):
        assert set(strings.link_labels) == set(LinkKind)


# --- Papers ---------------------------------------------------------------------------------


def test_paper_card_in_english() -> None:
    view = paper_card(make_paper(), make_summary(), language="en")
    assert view.title == "Talking Heads, Part 1"
    assert view.abs_url == "https://arxiv.org/abs/2411.00001"
    assert view.pdf_url == "https://arxiv.org/pdf/2411.00001v1"
    assert view.versioned_id == "2411.00001v1" and view.number is None
    assert view.categories == ("cs.CV", "cs.LG") and view.primary_category == "cs.CV"
    assert view.submitted == "submitted Thu 19 Nov 2026"
    assert view.tldr == "A diffusion model turns speech into video."
    assert view.tldr_label == "TL;DR" and not view.extractive
    assert view.takeaways == ("Phonemes beat raw audio.", "Runs in real time.")  # blank dropped
    assert view.details_id == "2411.00001"
    assert view.summary_note is None
    labels = view.labels
    assert (labels.more_details, labels.abstract, labels.comment) == (
        "More details",
        "Abstract",
        "Comment",
    )
    assert (labels.journal_ref, labels.links, labels.takeaways, labels.colon) == (
        "Journal ref",
        "Links",
        "Key takeaways",
        ": ",
    )


def test_paper_card_in_chinese() -> None:
    view = paper_card(make_paper(), make_summary(SummarySource.EXTRACTIVE), language="zh")
    assert view.submitted == "提交于 2026年11月19日（周四）"
    assert view.tldr_label == "一句话总结（抽取式）" and view.extractive
    assert view.labels.more_details == "更多详情" and view.labels.colon == "："
    assert view.labels.takeaways == "关键要点" and view.labels.abstract == "摘要"
    assert [link.label for link in view.compact_links] == [
        "PDF",
        "HTML",
        "代码",
        "项目主页",
        "数据",
    ]
    assert view.summary_note is not None and "OPENAI_API_KEY" in view.summary_note


def test_extractive_summary_is_tagged() -> None:
    view = paper_card(make_paper(), make_summary(SummarySource.EXTRACTIVE), language="en")
    assert view.extractive and view.tldr_label == "TL;DR (extractive)"
    assert view.labels.extractive == " (extractive)"
    assert view.summary_note == (
        "Summaries are extractive (key sentences from the abstract); "
        "set OPENAI_API_KEY for LLM summaries."
    )


@pytest.mark.parametrize("tldr", ["", "  \n "])
def test_an_empty_summary_shows_nothing(tldr: str) -> None:
    view = paper_card(
        make_paper(), make_summary(SummarySource.EXTRACTIVE, tldr=tldr), language="en"
    )
    assert view.tldr is None and view.takeaways == () and not view.extractive
    assert view.tldr_label == "TL;DR"


def test_no_summary() -> None:
    view = paper_card(make_paper(), None, language="en")
    assert view.tldr is None and view.takeaways == () and view.summary_note is None


def test_authors_are_cut_and_counted() -> None:
    names = tuple(f"Author {i}" for i in range(1, 61))
    card = paper_card(make_paper(authors=names), None, language="en")
    assert card.authors_short == "Author 1, Author 2, Author 3 et al."
    assert card.authors_long == (
        "Author 1, Author 2, Author 3, Author 4, Author 5, Author 6, Author 7, Author 8 "
        "et al. (60 authors)"
    )
    details = paper_details(make_paper(authors=names), None, language="en")
    assert (
        details.authors_long.startswith("Author 1, ") and "Author 50 et al." in details.authors_long
    )
    assert "Author 51" not in details.authors_long and details.authors_long.endswith("(60 authors)")
    zh = paper_card(make_paper(authors=names), None, language="zh")
    assert zh.authors_short == "Author 1, Author 2, Author 3 等"
    assert zh.authors_long.endswith("Author 8 等（共 60 位作者）")


def test_few_blank_or_no_authors() -> None:
    three = paper_card(make_paper(authors=("A", " ", "B", "C")), None, language="en")
    assert three.authors == ("A", "B", "C")
    assert three.authors_short == "A, B, C" and three.authors_long == "A, B, C"
    none = paper_card(make_paper(authors=()), None, language="en")
    assert none.authors_short == none.authors_long == "Unknown authors"
    assert paper_card(make_paper(authors=()), None, language="zh").authors_short == "作者未知"
    assert author_line(["A", "B", "C"], language="en", limit=2, count=False) == "A, B et al."


def test_link_order_and_labels() -> None:
    view = paper_card(make_paper(doi="10.1000/xyz"), None, language="en")
    assert [(link.kind, link.label) for link in view.compact_links] == [
        (LinkKind.PDF, "PDF"),
        (LinkKind.HTML, "HTML"),
        (LinkKind.CODE, "Code"),
        (LinkKind.PROJECT, "Project"),
        (LinkKind.DATA, "Data"),
    ]
    assert view.compact_links[2].url == "https://github.com/acme/talker"  # the first code link
    assert view.code == view.compact_links[2]
    kinds = [link.kind for link in view.all_links]
    assert kinds[:4] == [LinkKind.ABSTRACT, LinkKind.PDF, LinkKind.HTML, LinkKind.DOI]
    assert kinds.count(LinkKind.CODE) == 2  # details show every link
    assert view.all_links[0].label == "Abstract page"
    assert view.pdf.label == "PDF" and view.pdf in view.all_links


def test_no_code_link() -> None:
    view = paper_card(make_paper(abstract="No links here."), None, language="en")
    assert view.code is None
    assert [link.kind for link in view.compact_links] == [LinkKind.PDF, LinkKind.HTML]


def test_old_ids_get_no_html_link_but_details() -> None:
    view = paper_card(make_paper(id="hep-th/9901001", abstract="x"), None, language="en")
    assert view.details_id == "hep-th/9901001"
    assert view.pdf_url == "https://arxiv.org/pdf/hep-th/9901001v1"
    assert [link.kind for link in view.compact_links] == [LinkKind.PDF]


@pytest.mark.parametrize("paper_id", ["not-an-id", "2411.1", "2411.00001 x", "../2411.00001"])
def test_an_invalid_id_gives_no_details_id(paper_id: str) -> None:
    assert not is_arxiv_id(paper_id)
    assert paper_card(make_paper(id=paper_id), None, language="en").details_id is None


def test_comment_and_journal_ref() -> None:
    view = paper_details(
        make_paper(comment=" 12 pages,\n3 figures ", journal_ref=""), None, language="en"
    )
    assert view.comment == "12 pages, 3 figures" and view.journal_ref is None
    assert paper_details(make_paper(comment="  "), None, language="en").comment is None


def test_odd_unicode_and_markup_pass_through_unescaped() -> None:
    odd = '<b>"R&D"</b> &amp; *x* _y_ [l](u) 表示学习 🚀 👩‍💻 🇨🇳 é 𝒳'
    paper = make_paper(title=odd, authors=(odd,), comment=odd, abstract=odd)
    summary = make_summary(tldr=odd, takeaways=(odd,))
    for language in ("en", "zh"):
        view = paper_details(paper, summary, language=language)
        assert view.title == view.comment == view.abstract == view.tldr == odd
        assert view.takeaways == (odd,) and view.authors_long == odd


def test_control_characters_and_bidi_overrides_are_dropped() -> None:
    view = paper_card(
        make_paper(title="A title\nwrapped\tby\x00 the\u202e feed"), None, language="en"
    )
    assert view.title == "A title wrapped by the feed"


# --- Digests --------------------------------------------------------------------------------


def test_detail_levels() -> None:
    digest = make_digest([make_paper(1), make_paper(2)])
    titles = digest_view(digest, detail=DetailLevel.TITLES, language="en")
    tldr = digest_view(digest, detail=DetailLevel.TLDR, language="en")
    full = digest_view(digest, detail=DetailLevel.FULL, language="en")
    assert [p.number for p in full.papers] == [1, 2]
    assert all(p.tldr is None and p.takeaways == () for p in titles.papers)
    assert all(p.tldr and p.takeaways == () for p in tldr.papers)
    assert all(p.tldr and len(p.takeaways) == 2 for p in full.papers)
    assert titles.detail is DetailLevel.TITLES and full.detail is DetailLevel.FULL
    assert full.papers[0].authors_short == "Alice Smith, Bob Lee, Carol Wu et al."


def test_header_facts_in_both_languages() -> None:
    digest = make_digest([make_paper(n) for n in (1, 2, 3)], total=8, since=date(2026, 11, 18))
    en = digest_view(digest, detail=DetailLevel.TLDR, language="en")
    assert en.span == "Wed 18 Nov – Fri 20 Nov 2026"
    assert en.facts == "Wed 18 Nov – Fri 20 Nov 2026 · 3 new papers · and 5 more not shown"
    assert (en.new_count, en.hidden) == (3, 5)
    assert en.more_line == "…and 5 more matching papers not shown."
    zh = digest_view(digest, detail=DetailLevel.TLDR, language="zh")
    assert zh.facts == "11月18日（周三） – 2026年11月20日（周五） · 3 篇新论文 · 另有 5 篇未显示"
    one = digest_view(make_digest([make_paper()]), detail=DetailLevel.TLDR, language="en")
    assert one.facts == "Fri 20 Nov 2026 · 1 new paper" and one.more_line is None


def test_span_across_years() -> None:
    digest = make_digest([make_paper()], since=date(2026, 12, 30), through=date(2027, 1, 4))
    assert digest_view(digest, detail=DetailLevel.TLDR, language="en").span == (
        "Wed 30 Dec 2026 – Mon 4 Jan 2027"
    )
    assert digest_view(digest, detail=DetailLevel.TLDR, language="zh").span == (
        "2026年12月30日（周三） – 2027年1月4日（周一）"
    )


def test_title_and_query() -> None:
    digest = make_digest([make_paper()])
    plain = digest_view(digest, detail=DetailLevel.TLDR, language="en")
    assert plain.name == 'talking head OR "lip sync"' and plain.query is None
    titled = digest_view(digest, detail=DetailLevel.TLDR, language="zh", title="GNN <feed>")
    assert titled.name == "GNN <feed>" and titled.query == 'talking head OR "lip sync"'
    assert titled.continued == "GNN <feed>（续）"
    assert plain.continued == 'talking head OR "lip sync" (continued)'


def test_updated_papers_with_and_without_the_previous_version() -> None:
    v3 = make_paper(7, version=3)
    v2 = make_paper(8, version=2)
    digest = make_digest([make_paper(1)], updated=[(v3, 2), (v2, None)])
    en = digest_view(digest, detail=DetailLevel.FULL, language="en")
    assert en.updated_heading == "Updated since you saw them"
    assert [(u.number, u.note) for u in en.updated] == [
        (2, "updated to v3 (was v2)"),
        (3, "updated to v2"),
    ]
    assert en.updated[0].abs_url == "https://arxiv.org/abs/2411.00007"
    assert en.updated[0].details_id == "2411.00007"
    zh = digest_view(digest, detail=DetailLevel.FULL, language="zh")
    assert zh.updated_heading == "自上次推送后有更新"
    assert [u.note for u in zh.updated] == ["已更新至 v3（原 v2）", "已更新至 v2"]
    assert not en.is_empty and en.empty_note is None


def test_empty_digest_notes() -> None:
    empty = make_digest([])
    for language, expected in (
        ("en", "No new papers in the arXiv listing of Fri 20 Nov 2026."),
        ("zh", "2026年11月20日（周五）的 arXiv 列表中暂无新论文。"),
    ):
        view = digest_view(empty, detail=DetailLevel.FULL, language=language)
        assert view.is_empty and view.empty_note == expected
        assert view.papers == () and view.summary_note is None
    never = digest_view(make_digest([], through=None), detail=DetailLevel.FULL, language="en")
    assert never.span is None
    assert never.empty_note == "No new papers: no arXiv listing has been received yet."
    assert never.facts == "0 new papers"
    only_updates = make_digest([], updated=[(make_paper(2, version=2), 1)])
    view = digest_view(only_updates, detail=DetailLevel.FULL, language="en")
    assert not view.is_empty and view.empty_note is not None


def test_summary_note_for_the_digest() -> None:
    papers = [make_paper(1), make_paper(2)]
    mixed = {
        papers[0].id: make_summary(SummarySource.LLM),
        papers[1].id: make_summary(SummarySource.EXTRACTIVE),
    }
    view = digest_view(make_digest(papers, summaries=mixed), detail=DetailLevel.FULL, language="en")
    assert view.summary_note == (
        "Some summaries are extractive (sentences from the abstract): the LLM failed for them."
    )
    assert [p.extractive for p in view.papers] == [False, True]
    llm = make_digest(papers)
    assert digest_view(llm, detail=DetailLevel.FULL, language="en").summary_note is None
    titles = digest_view(
        make_digest(papers, summaries=mixed), detail=DetailLevel.TITLES, language="en"
    )
    assert titles.summary_note is None  # no summary is shown


def test_paper_view_number_and_flags() -> None:
    view = paper_view(make_paper(), make_summary(), language="en", number=4, show_takeaways=False)
    assert view.number == 4 and view.tldr and view.takeaways == ()
