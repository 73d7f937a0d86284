"""Telegram rendering: every message is valid Telegram HTML within Telegram's limits, whatever the
papers contain, and every paper of a digest is one tap away from its details."""

from __future__ import annotations

import html
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from telegram import InlineKeyboardMarkup

from bot.models import (
    DetailLevel,
    Digest,
    DigestEntry,
    Paper,
    Summary,
    SummarySource,
    UpdateNote,
)
from handlers.telegram.render import (
    MAX_BUTTONS,
    MAX_CALLBACK_BYTES,
    MAX_ENTITIES,
    MAX_RAW,
    MAX_ROW,
    MAX_VISIBLE,
    Button,
    OutMessage,
    details_callback,
    entity_count,
    escape,
    parse_details_callback,
    render_digest,
    render_empty_digest,
    render_paper_card,
    render_paper_details,
    to_reply_markup,
    visible_length,
)

# --- A strict Telegram-HTML checker, independent of the renderer ----------------------------

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-spoiler": set(),
}
TAG_RE = re.compile(r'<(/?)([a-z-]+)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>')
ATTRIBUTE_RE = re.compile(r'\s+([a-z-]+)(?:="([^"<>]*)")?')
ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


def check_entities(text: str, where: str) -> None:
    for m in re.finditer("&", text):
        assert ENTITY_RE.match(text, m.start()), f"bare & in {where}: {text[m.start() :][:30]!r}"


def check_telegram_html(text: str) -> None:
    """Raise AssertionError unless `text` is HTML that Telegram's parser accepts."""
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "<":
            m = TAG_RE.match(text, pos)
            assert m, f"bare < or malformed tag: {text[pos:][:40]!r}"
            closing, name, attributes = m.group(1), m.group(2), m.group(3)
            assert name in ALLOWED_ATTRIBUTES, f"tag <{name}> is not allowed"
            if closing:
                assert not attributes.strip(), f"attributes on </{name}>"
                assert stack and stack[-1] == name, f"</{name}> closes {stack[-1:]}"
                stack.pop()
            else:
                found = dict(ATTRIBUTE_RE.findall(attributes))
                assert set(found) <= ALLOWED_ATTRIBUTES[name], f"<{name}> with {sorted(found)}"
                if name == "a":
                    assert "a" not in stack, "nested links"
                    href = html.unescape(found.get("href", ""))
                    assert re.fullmatch(r"https?://\S+", href), f"bad href {href!r}"
                for value in found.values():
                    check_entities(value, f"<{name}> attribute")
                stack.append(name)
            pos = m.end()
        elif ch == ">":
            raise AssertionError(f"bare > at {text[max(pos - 20, 0) : pos + 1]!r}")
        elif ch == "&":
            entity = ENTITY_RE.match(text, pos)
            assert entity, f"bare & in text: {text[pos:][:30]!r}"
            pos = entity.end()
        else:
            pos += 1
    assert not stack, f"unclosed {stack}"


def plain_text(text: str) -> str:
    """What the reader sees: tags removed, entities decoded (valid because checked above)."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def utf16(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def assert_sendable(message: OutMessage) -> None:
    check_telegram_html(message.text)
    assert plain_text(message.text).strip(), "empty message"
    shown = utf16(plain_text(message.text))
    assert visible_length(message.text) == shown
    assert shown <= MAX_VISIBLE
    assert len(message.text) <= MAX_RAW
    assert entity_count(message.text) <= MAX_ENTITIES
    assert entity_count(message.text) == len(re.findall(r"<[a-z]", message.text))
    buttons = [b for row in message.buttons for b in row]
    assert len(buttons) <= MAX_BUTTONS
    assert all(0 < len(row) <= MAX_ROW for row in message.buttons)
    for b in buttons:
        assert b.text
        assert (b.url is None) != (b.callback_data is None)
        if b.callback_data is not None:
            assert 1 <= len(b.callback_data.encode()) <= MAX_CALLBACK_BYTES
    markup = to_reply_markup(message.buttons)
    assert (markup is None) == (not buttons)


# --- Builders -------------------------------------------------------------------------------

WHEN = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)
ABSTRACT = (
    "We present a method for talking-head synthesis. Code is available at "
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


def make_summary(
    source: SummarySource = SummarySource.LLM, language: str = "en", **changes: object
) -> Summary:
    summary = Summary(
        tldr="A diffusion model turns speech into lip-synced video at 30 fps on one GPU.",
        takeaways=(
            "Conditioning on phonemes beats raw audio features.",
            "A temporal consistency loss removes jitter.",
            "Runs in real time at 512×512.",
        ),
        language=language,
        source=source,
        model="test-model" if source is SummarySource.LLM else None,
    )
    return replace(summary, **changes)  # type: ignore[arg-type]


def make_digest(
    papers: list[Paper],
    *,
    summaries: dict[str, Summary] | None = None,
    updated: list[tuple[Paper, int | None]] | None = None,
    query: str = 'talking head OR "lip sync"',
    total: int | None = None,
    through: date | None = date(2026, 11, 20),
) -> Digest:
    entries = [DigestEntry(p, UpdateNote.NEW) for p in papers]
    entries += [DigestEntry(p, UpdateNote.UPDATED, was) for p, was in (updated or [])]
    return Digest(
        id=1,
        query=query,
        audience="telegram:1",
        through=through,
        since=through,
        created_at=WHEN,
        entries=tuple(entries),
        total_matched=len(papers) if total is None else total,
        summaries=({p.id: make_summary() for p in papers} if summaries is None else summaries),
    )


def digest_of(count: int) -> Digest:
    return make_digest([make_paper(n) for n in range(1, count + 1)])


def all_buttons(messages: list[OutMessage]) -> list[Button]:
    return [b for m in messages for row in m.buttons for b in row]


# --- Primitives -----------------------------------------------------------------------------


def test_escape_leaves_quotes_and_escapes_markup() -> None:
    assert escape('<b>"R&D"</b> &amp;') == '&lt;b&gt;"R&amp;D"&lt;/b&gt; &amp;amp;'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", 5),
        ("<b>a&amp;b</b>", 3),
        ("&lt;&gt;&quot;", 3),
        ('<a href="https://x.org/?a=1&amp;b=2">link</a>', 4),
        ("😀", 2),  # outside the BMP: a surrogate pair
        ("𝔸𝔹", 4),
        ("中文", 2),
        ("👩‍💻", 5),  # woman, zero-width joiner, laptop
        ("<blockquote expandable>a\nb</blockquote>", 3),
    ],
)
def test_visible_length_counts_utf16_units_of_the_parsed_text(text: str, expected: int) -> None:
    assert visible_length(text) == expected


# --- Callbacks ------------------------------------------------------------------------------

IDS = [
    "2409.03605",
    "2409.03605v2",
    "0704.0001",
    "1412.9999v123",
    "hep-th/9901001",
    "math.GT/0309136",
    "math.GT/0309136v12",
    "cond-mat.stat-mech/0309136v999",
    "physics.acc-ph/9901001v1",
]


@pytest.mark.parametrize("paper_id", IDS)
def test_details_callback_fits_and_round_trips(paper_id: str) -> None:
    data = details_callback(paper_id)
    assert 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES
    assert parse_details_callback(data) == paper_id


@pytest.mark.parametrize(
    "data",
    ["", "d|", "u|1|2", "s|1|detail|full", "d|2409.03605 ", "d|<b>", "d|../../etc", "2409.03605"],
)
def test_parse_details_callback_rejects_anything_else(data: str) -> None:
    assert parse_details_callback(data) is None


@pytest.mark.parametrize("paper_id", ["", "not an id", "x" * 70, "2409.03605\n"])
def test_details_callback_refuses_what_is_not_an_arxiv_id(paper_id: str) -> None:
    with pytest.raises(ValueError):
        details_callback(paper_id)


def test_button_validation() -> None:
    with pytest.raises(ValueError):
        Button("x")
    with pytest.raises(ValueError):
        Button("x", url="https://a.org", callback_data="d|1")
    with pytest.raises(ValueError):
        Button("x", callback_data="y" * 65)


def test_to_reply_markup() -> None:
    assert to_reply_markup(()) is None
    rows = (
        (Button("📄 PDF", url="https://arxiv.org/pdf/2411.00001v1"),),
        (Button("i", callback_data="d|2411.00001"),),
    )
    markup = to_reply_markup(rows)
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["📄 PDF"], ["i"]]
    assert markup.inline_keyboard[1][0].callback_data == "d|2411.00001"


# --- Digests --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 10, 60])
@pytest.mark.parametrize("detail", list(DetailLevel))
@pytest.mark.parametrize("language", ["en", "zh"])
def test_realistic_digests_are_sendable_and_every_paper_is_one_tap_away(
    count: int, detail: DetailLevel, language: str
) -> None:
    digest = digest_of(count)
    messages = render_digest(digest, detail=detail, language=language)
    for message in messages:
        assert_sendable(message)
    # The header only in the first message; papers numbered 1..N in order across messages.
    assert '📰 <b>talking head OR "lip sync"</b>\n' in messages[0].text
    numbers = [int(n) for m in messages for n in re.findall(r"<b>(\d+)\. <a ", m.text)]
    assert numbers == list(range(1, count + 1))
    for message in messages:
        # Each message's buttons are numbered like the papers in it and open their details.
        in_text = re.findall(r'<b>(\d+)\. <a href="https://arxiv.org/abs/([^"]+)">', message.text)
        buttons = [b for row in message.buttons for b in row]
        assert [b.text for b in buttons] == [f"ℹ️ {n}" for n, _ in in_text]
        assert [parse_details_callback(b.callback_data or "") for b in buttons] == [
            paper_id for _, paper_id in in_text
        ]
    for message in messages[1:]:
        assert message.text.startswith("📰 <i>")


def test_digest_content_by_detail_level() -> None:
    digest = digest_of(2)
    titles = render_digest(digest, detail=DetailLevel.TITLES, language="en")[0].text
    tldr = render_digest(digest, detail=DetailLevel.TLDR, language="en")[0].text
    full = render_digest(digest, detail=DetailLevel.FULL, language="en")[0].text
    assert "TL;DR" not in titles and "PDF" not in titles and "•" not in titles
    assert "<b>TL;DR</b>: A diffusion model" in tldr and "•" not in tldr
    assert "• Conditioning on phonemes" in full
    for text in (tldr, full):
        assert '📄 <a href="https://arxiv.org/pdf/2411.00001v1">PDF</a>' in text
        assert '💻 <a href="https://github.com/acme/talker">Code</a>' in text
        assert '<a href="https://acme.github.io/talker">Project</a>' in text
    assert "<i>Alice Smith, Bob Lee, Carol Wu et al.</i> · cs.CV" in titles


def test_header_counts_dates_and_hidden_papers() -> None:
    digest = replace(digest_of(3), total_matched=8, since=date(2026, 11, 18))
    en = render_digest(digest, detail=DetailLevel.TLDR, language="en")[0].text
    assert (
        en.splitlines()[1] == "Wed 18 Nov – Fri 20 Nov 2026 · 3 new papers · and 5 more not shown"
    )
    zh = render_digest(digest, detail=DetailLevel.TLDR, language="zh")[0].text
    assert zh.splitlines()[1] == (
        "11月18日（周三） – 2026年11月20日（周五） · 3 篇新论文 · 另有 5 篇未显示"
    )
    one = render_digest(digest_of(1), detail=DetailLevel.TLDR, language="en")[0].text
    assert one.splitlines()[1] == "Fri 20 Nov 2026 · 1 new paper"


def test_title_replaces_the_heading_and_the_query_goes_under_it() -> None:
    text = render_digest(digest_of(1), detail=DetailLevel.TLDR, language="en", title="GNN <feed>")
    lines = text[0].text.splitlines()
    assert lines[:2] == ["📰 <b>GNN &lt;feed&gt;</b>", '<i>talking head OR "lip sync"</i>']


def test_hostile_text_is_shown_literally() -> None:
    hostile = [
        "<b>Bold</b> claims & </a> breaks <<tags>> &amp; entities",
        "Non-Abelian $\\mathcal{N}=4$ <i>SYM</i> at $T<T_c$ & $x>0$",
        "表示学习 🚀 with 𝔸𝔹ℂ astral 𝒳 letters and 👩‍💻 and 🇨🇳",
        "&lt;already escaped&gt; &#x27; &quot;",
        '"><script>alert(1)</script>',
    ]
    papers = [
        make_paper(n, title=title, authors=(title, "O'Brien <ob@x.org>"), comment=title)
        for n, title in enumerate(hostile, 1)
    ]
    summaries = {
        p.id: make_summary(tldr=p.title, takeaways=(p.title, "a < b && c > d")) for p in papers
    }
    digest = make_digest(papers, summaries=summaries, query='<b>"x" & y</b> OR ti:<i>')
    for language in ("en", "zh"):
        messages = render_digest(digest, detail=DetailLevel.FULL, language=language)
        shown = "\n".join(plain_text(m.text) for m in messages)
        for message in messages:
            assert_sendable(message)
        for title in hostile:
            assert f". {title}\n" in shown
        assert '<b>"x" & y</b> OR ti:<i>' in shown
        assert "• a < b && c > d" in shown
        for paper in papers:
            for message in (
                render_paper_card(paper, summaries[paper.id], language=language),
                render_paper_details(paper, summaries[paper.id], language=language),
            ):
                assert_sendable(message)
                assert paper.title in plain_text(message.text)
        assert render_empty_digest(digest, language=language).text.startswith(
            '📭 <b>&lt;b&gt;"x" &amp; y&lt;/b&gt; OR ti:&lt;i&gt;</b>'
        )


def test_control_characters_and_line_breaks_in_titles_are_flattened() -> None:
    paper = make_paper(1, title="A title\nwrapped  by\tthe feed\x00\u202e reversed")
    text = render_digest(make_digest([paper]), detail=DetailLevel.TITLES, language="en")[0].text
    assert ">A title wrapped by the feed reversed</a>" in text


def test_a_huge_title_is_shortened_at_a_safe_place_and_others_are_untouched() -> None:
    huge = make_paper(1, title="Amp&ersand <tag> " * 375)  # 6,375 characters
    digest = make_digest([huge, make_paper(2)])
    for detail in DetailLevel:
        messages = render_digest(digest, detail=detail, language="en")
        for message in messages:
            assert_sendable(message)
        text = "".join(m.text for m in messages)
        title = re.search(r'<b>1\. <a href="[^"]+">([^<]*)</a></b>', text)
        assert title is not None
        assert title.group(1).endswith("…")
        assert len(plain_text(title.group(1))) < 600
        assert "Audio-Driven Talking Heads with Diffusion, Part 2</a>" in text
    for message in (
        render_paper_card(huge, make_summary(), language="en"),
        render_paper_details(huge, make_summary(), language="zh"),
    ):
        assert_sendable(message)
        assert "…" in message.text


def test_pathological_summaries_and_authors_are_shortened_to_fit() -> None:
    papers = [
        make_paper(
            n,
            title="😀" * 3000,  # 6,000 UTF-16 units
            authors=tuple(f"Author{'名' * 500}{i}" for i in range(3)),
            abstract="👩‍💻 🇨🇳" * 2000,
            comment="& " * 3000,
            journal_ref="<" * 5000,
        )
        for n in (1, 2)
    ]
    summary = make_summary(tldr="&" * 5000, takeaways=tuple("<b>" * 2000 for _ in range(7)))
    digest = make_digest(papers, summaries={p.id: summary for p in papers})
    for detail in DetailLevel:
        for message in render_digest(digest, detail=detail, language="zh"):
            assert_sendable(message)
    for message in (
        render_paper_card(papers[0], summary, language="en"),
        render_paper_details(papers[0], summary, language="en"),
        render_paper_details(papers[0], None, language="en"),
    ):
        assert_sendable(message)
        shown = plain_text(message.text)
        # Shortening never leaves half of a joined emoji or of a flag behind.
        assert "\u200d…" not in shown and not re.search(
            r"(?<![\U0001F1E6-\U0001F1FF])[\U0001F1E6-\U0001F1FF]…", shown
        )


def test_a_single_huge_summary_in_the_digest_stays_within_one_message() -> None:
    summary = make_summary(
        tldr="word " * 2000, takeaways=tuple("takeaway " * 800 for _ in range(7))
    )
    digest = make_digest([make_paper(1)], summaries={"2411.00001": summary})
    messages = render_digest(digest, detail=DetailLevel.FULL, language="en")
    assert len(messages) == 1
    assert_sendable(messages[0])
    assert "word…" in messages[0].text


def test_long_digests_split_between_papers_only() -> None:
    papers = [make_paper(n, title=f"Paper {n}: " + "long words " * 30) for n in range(1, 41)]
    messages = render_digest(make_digest(papers), detail=DetailLevel.FULL, language="en")
    assert len(messages) > 2
    for message in messages:
        assert_sendable(message)
        body = message.text.split("\n\n", 1)[1]  # after the header or continuation line
        for block in body.split("\n\n"):
            # Every block is one whole paper: its numbered title and its links line.
            assert re.match(r"<b>\d+\. <a ", block)
            assert block.rstrip().splitlines()[-1].startswith("📄 ")


def test_many_short_papers_respect_the_button_and_entity_limits() -> None:
    papers = [make_paper(n, title="T", authors=("A",), categories=()) for n in range(1, 251)]
    digest = make_digest(papers, summaries={}, query="q")
    messages = render_digest(digest, detail=DetailLevel.TITLES, language="en")
    for message in messages:
        assert_sendable(message)
    assert len(all_buttons(messages)) == 250


def test_authors_are_shortened_differently_per_view() -> None:
    paper = make_paper(1, authors=tuple(f"Author {i}" for i in range(1, 31)))
    digest_text = render_digest(make_digest([paper]), detail=DetailLevel.TITLES, language="en")
    assert "<i>Author 1, Author 2, Author 3 et al.</i>" in digest_text[0].text
    card = render_paper_card(paper, None, language="en").text
    assert "Author 8 et al. (30 authors)</i>" in card
    zh_card = render_paper_card(paper, None, language="zh").text
    assert "Author 8 等（共 30 位作者）</i>" in zh_card
    details = render_paper_details(paper, None, language="en").text
    assert "Author 30</i>" in details
    nobody = render_paper_card(make_paper(2, authors=()), None, language="en").text
    assert "<i>Unknown authors</i>" in nobody


def test_missing_and_extractive_summaries() -> None:
    papers = [make_paper(1), make_paper(2)]
    summaries = {"2411.00002": make_summary(SummarySource.EXTRACTIVE)}
    digest = make_digest(papers, summaries=summaries)
    text = render_digest(digest, detail=DetailLevel.FULL, language="en")[0].text
    first, second = text.split("\n\n")[1:3]
    assert "TL;DR" not in first and "•" not in first and "PDF" in first
    assert "<b>TL;DR</b><i> (extractive)</i>: A diffusion model" in second
    zh = render_digest(digest, detail=DetailLevel.FULL, language="zh")[0].text
    assert "<b>一句话总结</b><i>（抽取式）</i>：A diffusion model" in zh


def test_updated_entries_are_one_line_each_under_one_heading() -> None:
    digest = make_digest(
        [make_paper(1)],
        updated=[(make_paper(7, version=3), 2), (make_paper(8, version=2), None)],
    )
    messages = render_digest(digest, detail=DetailLevel.FULL, language="en")
    assert len(messages) == 1
    assert_sendable(messages[0])
    section = messages[0].text.split("\n\n")[-1].splitlines()
    assert section == [
        "🔄 <b>Updated since you saw them</b>",
        '<b>2.</b> <a href="https://arxiv.org/abs/2411.00007">Audio-Driven Talking Heads with '
        "Diffusion, Part 7</a> · <i>updated to v3 (was v2)</i>",
        '<b>3.</b> <a href="https://arxiv.org/abs/2411.00008">Audio-Driven Talking Heads with '
        "Diffusion, Part 8</a> · <i>updated to v2</i>",
    ]
    assert [b.text for b in all_buttons(messages)] == ["ℹ️ 1", "ℹ️ 2", "ℹ️ 3"]
    zh = render_digest(digest, detail=DetailLevel.FULL, language="zh")[0].text
    assert "🔄 <b>自上次推送后有更新</b>" in zh and "<i>已更新至 v3（原 v2）</i>" in zh


def test_a_digest_with_only_updates_says_there_is_nothing_new() -> None:
    digest = make_digest([], updated=[(make_paper(7, version=3), 2)])
    messages = render_digest(digest, detail=DetailLevel.TLDR, language="en")
    assert len(messages) == 1
    assert_sendable(messages[0])
    assert "· 0 new papers" in messages[0].text


@pytest.mark.parametrize("language", ["en", "zh"])
def test_empty_digests(language: str) -> None:
    digest = make_digest([], query="quantum <error> correction")
    note = render_empty_digest(digest, language=language)
    assert_sendable(note)
    assert note.buttons == ()
    assert render_digest(digest, detail=DetailLevel.FULL, language=language) == [note]
    if language == "en":
        assert note.text == (
            "📭 <b>quantum &lt;error&gt; correction</b>\n"
            "No new papers in the arXiv listing of Fri 20 Nov 2026."
        )
    else:
        assert note.text.endswith("2026年11月20日（周五）的 arXiv 列表中暂无新论文。")
    never = render_empty_digest(replace(digest, through=None, since=None), language=language)
    assert_sendable(never)


def test_english_and_chinese_have_the_same_structure() -> None:
    digest = make_digest(
        [make_paper(1), make_paper(2)], updated=[(make_paper(3, version=2), 1)], total=5
    )
    for detail in DetailLevel:
        en = render_digest(digest, detail=detail, language="en")
        zh = render_digest(digest, detail=detail, language="zh-CN")
        assert [re.findall(r"<[^>]+>", m.text) for m in en] == [
            re.findall(r"<[^>]+>", m.text) for m in zh
        ]
        assert [m.buttons for m in en] == [m.buttons for m in zh]
    assert "TL;DR" in render_digest(digest, detail=DetailLevel.TLDR, language="fr")[0].text
    assert "一句话总结" in render_digest(digest, detail=DetailLevel.TLDR, language="zh-tw")[0].text


def test_random_hostile_digests_are_always_sendable() -> None:
    pieces = ["<", ">", "&", "&amp;", "</a>", "<b>", " ", "\n", "😀", "𝔸", "中", "👩‍💻", "🇨🇳",
              "é", "e\u0301", "$\\alpha$", "word", '"', "'", "\x07"]  # fmt: skip
    rng = random.Random(20261121)

    def junk(size: int) -> str:
        # Up to `size` characters: a random run of pieces, repeated (long runs would be slow).
        run = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))
        return (run * (size // len(run) + 1))[: rng.randint(0, size)]

    for _ in range(25):
        papers = [
            make_paper(
                n,
                title=junk(rng.choice([5, 50, 6000])),
                authors=tuple(junk(8) for _ in range(rng.randint(0, 40))),
                abstract=junk(rng.choice([10, 3000])),
                comment=junk(30) or None,
            )
            for n in range(1, rng.randint(1, 25))
        ]
        summaries = {
            p.id: make_summary(
                rng.choice(list(SummarySource)),
                tldr=junk(rng.choice([20, 2000])),
                takeaways=tuple(junk(200) for _ in range(rng.randint(0, 7))),
            )
            for p in papers
            if rng.random() < 0.8
        }
        digest = make_digest(papers, summaries=summaries, query=junk(400) or "q")
        language = rng.choice(["en", "zh"])
        for detail in DetailLevel:
            for message in render_digest(digest, detail=detail, language=language):
                assert_sendable(message)
        for paper in papers[:3]:
            assert_sendable(render_paper_card(paper, summaries.get(paper.id), language=language))
            assert_sendable(render_paper_details(paper, summaries.get(paper.id), language=language))


# --- Cards and details ----------------------------------------------------------------------


def test_paper_card_content_and_buttons() -> None:
    card = render_paper_card(make_paper(1, version=2), make_summary(), language="en")
    assert_sendable(card)
    assert card.text.splitlines()[:3] == [
        '<b><a href="https://arxiv.org/abs/2411.00001">Audio-Driven Talking Heads with Diffusion, '
        "Part 1</a></b>",
        "<i>Alice Smith, Bob Lee, Carol Wu, Dmitri Ivanov, Eun-ji Park</i>",
        "<code>2411.00001v2</code> · cs.CV, cs.LG · submitted Thu 19 Nov 2026",
    ]
    assert "<b>TL;DR</b>: A diffusion model" in card.text
    assert "<b>Key takeaways</b>\n• Conditioning on phonemes" in card.text
    assert card.buttons == (
        (
            Button("📄 PDF", url="https://arxiv.org/pdf/2411.00001v2"),
            Button("💻 Code", url="https://github.com/acme/talker"),
        ),
        (Button("ℹ️ More details", callback_data=details_callback("2411.00001")),),
    )


def test_paper_card_without_code_or_summary() -> None:
    paper = make_paper(1, id="hep-th/9901001", abstract="We compute things. See www.example.org.")
    card = render_paper_card(paper, None, language="zh")
    assert_sendable(card)
    assert [b.text for row in card.buttons for b in row] == ["📄 PDF", "ℹ️ 更多详情"]
    assert card.buttons[0][0].url == "https://arxiv.org/pdf/hep-th/9901001v1"
    assert parse_details_callback(card.buttons[1][0].callback_data or "") == "hep-th/9901001"
    # Without a summary the card folds the abstract in instead.
    assert "<b>摘要</b>\n<blockquote expandable>We compute things." in card.text


def test_paper_details_content() -> None:
    paper = make_paper(
        1, comment="12 pages, CVPR 2026 & more", journal_ref="CVPR 2026", doi="10.1000/xyz"
    )
    details = render_paper_details(paper, make_summary(SummarySource.EXTRACTIVE), language="en")
    assert_sendable(details)
    # The full review is one tap away (sent privately, like the details themselves).
    [[review]] = details.buttons
    assert review.callback_data == "r|" + paper.id and "Full review" in review.text
    text = details.text
    assert f"<blockquote expandable>{escape(ABSTRACT)}</blockquote>" in text
    assert "<b>Comment</b>: 12 pages, CVPR 2026 &amp; more" in text
    assert "<b>Journal ref</b>: CVPR 2026" in text
    assert "<b>TL;DR</b><i> (extractive)</i>:" in text
    links = text.split("<b>Links</b>\n")[1].splitlines()
    assert links == [
        'Abstract page: <a href="https://arxiv.org/abs/2411.00001">arxiv.org/abs/2411.00001</a>',
        'PDF: <a href="https://arxiv.org/pdf/2411.00001v1">arxiv.org/pdf/2411.00001v1</a>',
        'HTML: <a href="https://arxiv.org/html/2411.00001v1">arxiv.org/html/2411.00001v1</a>',
        'DOI: <a href="https://doi.org/10.1000/xyz">doi.org/10.1000/xyz</a>',
        'Code: <a href="https://github.com/acme/talker">github.com/acme/talker</a>',
        'Project: <a href="https://acme.github.io/talker">acme.github.io/talker</a>',
    ]


def test_details_with_many_links_stay_within_the_entity_limit() -> None:
    dois = " ".join(f"10.1000/x{i}" for i in range(150))
    paper = make_paper(1, doi=dois)
    details = render_paper_details(paper, make_summary(), language="en")
    assert_sendable(details)
    assert "doi.org/10.1000/x0" in details.text


def test_papers_without_an_arxiv_id_get_no_details_button() -> None:
    paper = make_paper(1, id="local-123", categories=(), primary_category=None)
    messages = render_digest(make_digest([paper]), detail=DetailLevel.TLDR, language="en")
    assert_sendable(messages[0])
    assert messages[0].buttons == ()
    card = render_paper_card(paper, None, language="en")
    assert_sendable(card)
    assert [b.text for row in card.buttons for b in row] == ["📄 PDF", "💻 Code"]


def test_a_digest_without_a_listing_date_has_no_date_in_its_header() -> None:
    digest = make_digest([make_paper(1)], through=None)
    text = render_digest(digest, detail=DetailLevel.TITLES, language="en")[0].text
    assert text.splitlines()[1] == "1 new paper"


def test_number_buttons_are_balanced_rows() -> None:
    for count, widths in ((5, [5]), (6, [3, 3]), (7, [4, 3]), (10, [5, 5]), (11, [4, 4, 3])):
        messages = render_digest(digest_of(count), detail=DetailLevel.TITLES, language="en")
        assert len(messages) == 1
        assert [len(row) for row in messages[0].buttons] == widths
