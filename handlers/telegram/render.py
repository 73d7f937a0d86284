"""Telegram rendering: digests, paper cards and paper details as HTML messages with buttons.

Pure functions from core objects to `OutMessage` values (Telegram HTML for ``parse_mode="HTML"``
plus rows of platform-neutral `Button`s); `to_reply_markup` turns the buttons into PTB's type.

Every message respects Telegram's limits, whatever the input:

* at most `MAX_VISIBLE` UTF-16 code units of text after entity parsing (`visible_length`);
* at most `MAX_RAW` characters of raw HTML: Telegram also caps the total size of a message's
  entities (hrefs included) at roughly 9,500 characters, undocumented ("Entities_too_long");
* at most `MAX_ENTITIES` formatting tags: Telegram silently drops formatting past the 100th
  entity, and keeps some for the links and hashtags it detects in paper text itself;
* at most `MAX_BUTTONS` buttons, `MAX_ROW` per row, callback data ≤ 64 bytes.

Digests are split only between papers; a paper too long for one message on its own has its longest
texts shortened (on the unescaped text, so an entity or tag is never cut). Paper- and user-supplied
text is always escaped (`escape`); only this module's own markup is emitted raw.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.links import paper_links
from bot.models import (
    DetailLevel,
    Digest,
    DigestEntry,
    Link,
    LinkKind,
    Paper,
    Summary,
    SummarySource,
)
from handlers.telegram.html import (
    MAX_ENTITIES,
    MAX_RAW,
    MAX_VISIBLE,
    MESSAGE_BUDGET,
    Line,
    Part,
    Size,
    Text,
    attr,
    clean_text,
    entity_count,
    escape,
    fit,
    shorten,
    utf16_length,
    visible_length,
)
from handlers.telegram.i18n import Strings, strings_for

__all__ = [
    "MAX_BUTTONS",
    "MAX_CALLBACK_BYTES",
    "MAX_ENTITIES",
    "MAX_RAW",
    "MAX_ROW",
    "MAX_VISIBLE",
    "Button",
    "OutMessage",
    "details_callback",
    "entity_count",
    "escape",
    "parse_details_callback",
    "render_digest",
    "render_empty_digest",
    "render_paper_card",
    "render_paper_details",
    "to_reply_markup",
    "utf16_length",
    "visible_length",
]

MAX_BUTTONS = 100
MAX_ROW = 8
MAX_CALLBACK_BYTES = 64

_ROW_TARGET = 5  # number buttons per row: fewer, wider rows read better than 8 tiny ones
_CALLBACK_PREFIX = "d|"  # like the other buttons' "u|…", "s|…"
_SEP = " · "

# Caps applied before any fitting: no real paper reaches them, but one pathological field must not
# swallow a whole message (a digest should stay scannable).
_TITLE_CAP = 500
_QUERY_CAP = 300
_NAME_CAP = 200
_SUMMARY_CAP = 800
_AUTHOR_CAP = 300
_COMMENT_CAP = 600
_URL_CAP = 1000  # longer hrefs are left out: they would eat the raw-size budget
_URL_SHOWN = 60

_COMPACT_KINDS = (LinkKind.CODE, LinkKind.PROJECT, LinkKind.DATA, LinkKind.MODEL, LinkKind.DEMO)
_LINK_ICONS = {LinkKind.PDF: "📄 ", LinkKind.CODE: "💻 "}

_NEW_ID_RE = re.compile(r"[0-9]{4}\.[0-9]{4,5}(?:v[1-9][0-9]*)?")
_OLD_ID_RE = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?/[0-9]{7}(?:v[1-9][0-9]*)?")


# --- Public value types ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: opens `url`, or sends `callback_data` back to the bot."""

    text: str
    url: str | None = None
    callback_data: str | None = None

    def __post_init__(self) -> None:
        if not self.text:
            raise ValueError("a button needs a label")
        if (self.url is None) == (self.callback_data is None):
            raise ValueError("a button has exactly one of url and callback_data")
        if self.callback_data is not None and not (
            1 <= len(self.callback_data.encode()) <= MAX_CALLBACK_BYTES
        ):
            raise ValueError(f"callback_data must be 1-{MAX_CALLBACK_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One Telegram message: `text` is Telegram HTML (send with ``parse_mode="HTML"``)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows


def to_reply_markup(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """PTB's inline keyboard for rows of `Button`s; None when there are none."""
    rows = [
        [InlineKeyboardButton(b.text, url=b.url, callback_data=b.callback_data) for b in row]
        for row in buttons
        if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None


# --- Callbacks ------------------------------------------------------------------------------


def details_callback(paper_id: str) -> str:
    """Callback data for "show the details of paper `paper_id`" (any arXiv id form, ≤ 64 bytes)."""
    if not (_NEW_ID_RE.fullmatch(paper_id) or _OLD_ID_RE.fullmatch(paper_id)):
        raise ValueError(f"not an arXiv id: {paper_id[:40]!r}")
    data = _CALLBACK_PREFIX + paper_id
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def parse_details_callback(data: str) -> str | None:
    """The paper id in data made by `details_callback`; None for anything else.

    Callback data comes back from clients, so it is checked, not trusted.
    """
    if not data.startswith(_CALLBACK_PREFIX):
        return None
    paper_id = data[len(_CALLBACK_PREFIX) :]
    if _NEW_ID_RE.fullmatch(paper_id) or _OLD_ID_RE.fullmatch(paper_id):
        return paper_id
    return None


def _details_data(paper: Paper) -> str | None:
    try:
        return details_callback(paper.id)
    except ValueError:
        return None  # not an arXiv id (never from arXiv itself): the title link still works


def _details_button(number: int, paper: Paper) -> Button | None:
    data = _details_data(paper)
    return Button(f"ℹ️ {number}", callback_data=data) if data is not None else None


def _rows(buttons: Sequence[Button]) -> tuple[tuple[Button, ...], ...]:
    """Numbered buttons in balanced rows of at most `_ROW_TARGET`."""
    if not buttons:
        return ()
    per_row = math.ceil(len(buttons) / math.ceil(len(buttons) / _ROW_TARGET))
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# --- Paper fragments ------------------------------------------------------------------------


def _link_of(paper: Paper, kind: LinkKind) -> Link | None:
    return next((link for link in paper_links(paper) if link.kind is kind), None)


def _abs_url(paper: Paper) -> str:
    return f"https://arxiv.org/abs/{paper.id}"


def _authors(paper: Paper, s: Strings, limit: int, *, count: bool) -> str:
    names = [name for name in (clean_text(a) for a in paper.authors) if name]
    if not names:
        return s.unknown_authors
    if len(names) <= limit:
        return s.list_sep.join(names)
    head = s.list_sep.join(names[:limit])
    return s.et_al_count.format(names=head, n=len(names)) if count else s.et_al.format(names=head)


def _categories(paper: Paper) -> str:
    cats = list(dict.fromkeys(paper.categories))
    primary = paper.primary_category or (cats[0] if cats else None)
    if primary is None:
        return ""
    return ", ".join([primary, *(c for c in cats if c != primary)])


def _a(url: str, label: str) -> str:
    return f'<a href="{attr(url)}">{escape(label)}</a>'


def _tldr_line(summary: Summary, s: Strings) -> Line:
    tag = f"<i>{escape(s.extractive)}</i>" if summary.source is SummarySource.EXTRACTIVE else ""
    return Line(
        [f"<b>{escape(s.tldr)}</b>{tag}{escape(s.colon)}", Text.of(summary.tldr, _SUMMARY_CAP)]
    )


def _bullets(summary: Summary) -> list[Line]:
    return [Line(["• ", Text.of(t, _SUMMARY_CAP)]) for t in summary.takeaways if clean_text(t)]


def _compact_links(paper: Paper, s: Strings) -> Line | None:
    """``📄 PDF · HTML · 💻 Code · Project``: this version's files, then the first of each kind."""
    links = paper_links(paper)
    chosen = [link for link in links if link.kind in (LinkKind.PDF, LinkKind.HTML)]
    for kind in _COMPACT_KINDS:
        chosen.extend([link for link in links if link.kind is kind][:1])
    shown = [
        _LINK_ICONS.get(link.kind, "") + _a(link.url, s.link_labels[link.kind])
        for link in chosen
        if len(link.url) <= _URL_CAP
    ]
    return Line([_SEP.join(shown)], optional=True) if shown else None


def _title_line(paper: Paper, prefix: str = "") -> Line:
    url = attr(_abs_url(paper))
    return Line([f'<b>{prefix}<a href="{url}">', Text.of(paper.title, _TITLE_CAP), "</a></b>"])


def _meta_line(paper: Paper, s: Strings) -> Line:
    parts: list[Part] = [f"<code>{escape(paper.versioned_id)}</code>"]
    categories = _categories(paper)
    if categories:
        parts += [_SEP, Text.of(categories, 200)]
    if paper.published is not None:
        parts.append(_SEP + escape(s.submitted.format(date=s.long_date(paper.published.date()))))
    return Line(parts)


# --- Digests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """One paper (or section line) of a digest, ready to be packed into a message."""

    lines: list[Line]
    separator: str  # what goes before it when it follows something in the same message
    button: Button | None = None


def _span(digest: Digest, s: Strings) -> str | None:
    if digest.through is None:
        return None
    span = s.long_date(digest.through)
    since = digest.since
    if since is not None and since < digest.through:
        same_year = since.year == digest.through.year
        span = f"{s.short_date(since) if same_year else s.long_date(since)} – {span}"
    return span


def _digest_header(digest: Digest, s: Strings, name: str, title: str | None) -> str:
    lines = [f"📰 <b>{escape(name)}</b>"]
    if title:
        lines.append(f"<i>{escape(shorten(clean_text(digest.query), _QUERY_CAP))}</i>")
    facts = [_span(digest, s), s.new_papers(len(digest.new_entries))]
    hidden = digest.total_matched - len(digest.new_entries)
    if hidden > 0:
        facts.append(s.more_not_shown(hidden))
    lines.append(escape(_SEP.join(f for f in facts if f)))
    return "\n".join(lines)


def _paper_lines(
    number: int, paper: Paper, summary: Summary | None, detail: DetailLevel, s: Strings
) -> list[Line]:
    lines = [_title_line(paper, f"{number}. ")]
    byline: list[Part] = ["<i>", Text.of(_authors(paper, s, 3, count=False), _AUTHOR_CAP), "</i>"]
    primary = paper.primary_category or (paper.categories[0] if paper.categories else None)
    if primary:
        byline += [_SEP, Text.of(primary, 40)]
    lines.append(Line(byline))
    if detail is DetailLevel.TITLES:
        return lines
    if summary is not None and clean_text(summary.tldr):
        lines.append(_tldr_line(summary, s))
        if detail is DetailLevel.FULL:
            lines += _bullets(summary)
    links = _compact_links(paper, s)
    if links is not None:
        lines.append(links)
    return lines


def _updated_lines(number: int, entry: DigestEntry, s: Strings) -> list[Line]:
    paper = entry.paper
    if entry.previous_version is not None:
        note = s.updated_to.format(v=paper.version, was=entry.previous_version)
    else:
        note = s.updated_to_only.format(v=paper.version)
    url = attr(_abs_url(paper))
    title = Text.of(paper.title, _TITLE_CAP)
    return [Line([f'<b>{number}.</b> <a href="{url}">', title, f"</a>{_SEP}<i>{escape(note)}</i>"])]


def _pack(header: str, blocks: Sequence[_Block], continuation: str) -> list[OutMessage]:
    """Fill messages greedily with whole blocks; messages after the first start with
    `continuation`, and each block is fitted so that it always fits after it on its own."""
    alone = MESSAGE_BUDGET - Size.of(continuation + "\n\n")
    messages: list[OutMessage] = []
    parts, size, buttons = [header], Size.of(header), list[Button]()
    for block in blocks:
        piece = block.separator + fit(block.lines, alone)
        full = len(buttons) + (block.button is not None) > MAX_BUTTONS
        if not full and not (size + Size.of(piece)).within(MESSAGE_BUDGET) and len(parts) == 1:
            # Rather than leave the header alone, shorten the first paper a little more.
            with contextlib.suppress(ValueError):
                room = MESSAGE_BUDGET - size - Size.of(block.separator)
                piece = block.separator + fit(block.lines, room)
        if full or not (size + Size.of(piece)).within(MESSAGE_BUDGET):
            messages.append(OutMessage("".join(parts), _rows(buttons)))
            piece = "\n\n" + fit(block.lines, alone)
            parts, size, buttons = [continuation], Size.of(continuation), []
        parts.append(piece)
        size += Size.of(piece)
        if block.button is not None:
            buttons.append(block.button)
    messages.append(OutMessage("".join(parts), _rows(buttons)))
    return messages


def render_digest(
    digest: Digest, *, detail: DetailLevel, language: str, title: str | None = None
) -> list[OutMessage]:
    """A digest as one or more messages (split between papers), each with numbered detail buttons.

    `title` replaces the topic query as the heading (the query is then shown under it).
    A digest without any entry renders as `render_empty_digest`.
    """
    s = strings_for(language)
    new, updated = digest.new_entries, digest.updated_entries
    if not new and not updated:
        return [render_empty_digest(digest, language=language)]
    name = shorten(clean_text(title or digest.query), _NAME_CAP)
    header = _digest_header(digest, s, name, title)
    continuation = f"📰 <i>{escape(s.continued.format(topic=shorten(name, 80)))}</i>"

    blocks: list[_Block] = []
    number = 0
    for entry in new:
        number += 1
        summary = digest.summaries.get(entry.paper.id)
        lines = _paper_lines(number, entry.paper, summary, detail, s)
        blocks.append(_Block(lines, "\n\n", _details_button(number, entry.paper)))
    for i, entry in enumerate(updated):
        number += 1
        lines = _updated_lines(number, entry, s)
        if i == 0:  # the heading travels with the first line, so it is never left alone
            lines.insert(0, Line([f"🔄 <b>{escape(s.updated_heading)}</b>"]))
        button = _details_button(number, entry.paper)
        blocks.append(_Block(lines, "\n\n" if i == 0 else "\n", button))
    return _pack(header, blocks, continuation)


def render_empty_digest(digest: Digest, *, language: str) -> OutMessage:
    """The short "no new papers for <topic>" note, for chats that asked to get one."""
    s = strings_for(language)
    name = shorten(clean_text(digest.query), _NAME_CAP)
    if digest.through is None:
        note = s.no_listing
    else:
        note = s.no_new_papers.format(date=s.long_date(digest.through))
    return OutMessage(f"📭 <b>{escape(name)}</b>\n{escape(note)}")


# --- Single papers --------------------------------------------------------------------------


def _summary_lines(summary: Summary | None, s: Strings) -> list[Line]:
    """TL;DR and key takeaways under their own headings, each after a blank line."""
    if summary is None or not clean_text(summary.tldr):
        return []
    tldr = _tldr_line(summary, s)
    tldr.parts.insert(0, "\n")
    lines = [tldr]
    bullets = _bullets(summary)
    if bullets:
        lines.append(Line([f"\n<b>{escape(s.takeaways)}</b>"]))
        lines += bullets
    return lines


def _abstract_line(paper: Paper, s: Strings, floor: int) -> Line:
    return Line(
        [
            f"\n<b>{escape(s.abstract)}</b>\n<blockquote expandable>",
            Text.of(paper.abstract, MAX_VISIBLE, floor=floor),
            "</blockquote>",
        ]
    )


def render_paper_card(paper: Paper, summary: Summary | None, *, language: str) -> OutMessage:
    """The answer to /paper: title, authors, id and categories, TL;DR and takeaways, buttons.

    Buttons: PDF (always), Code (when the metadata has a code link), More details (callback).
    """
    s = strings_for(language)
    lines = [
        _title_line(paper),
        Line(["<i>", Text.of(_authors(paper, s, 8, count=True), _AUTHOR_CAP), "</i>"]),
        _meta_line(paper, s),
    ]
    summary_lines = _summary_lines(summary, s)
    lines += summary_lines
    if not summary_lines and clean_text(paper.abstract):
        lines.append(_abstract_line(paper, s, floor=16))  # no summary: the abstract, folded
    pdf_url = f"https://arxiv.org/pdf/{paper.versioned_id}"
    links = [Button(f"📄 {s.link_labels[LinkKind.PDF]}", url=pdf_url)]
    code = _link_of(paper, LinkKind.CODE)
    if code is not None and len(code.url) <= _URL_CAP:
        links.append(Button(f"💻 {s.link_labels[LinkKind.CODE]}", url=code.url))
    rows: list[tuple[Button, ...]] = [tuple(links)]
    data = _details_data(paper)
    if data is not None:
        rows.append((Button(f"ℹ️ {s.more_details}", callback_data=data),))
    return OutMessage(fit(lines), tuple(rows))


def _link_line(link: Link, s: Strings) -> Line:
    shown = re.sub(r"^https?://(?:www\.)?", "", link.url)
    return Line(
        [
            f'{escape(s.link_labels[link.kind])}{escape(s.colon)}<a href="{attr(link.url)}">',
            Text.of(shown, _URL_SHOWN, floor=_URL_SHOWN),
            "</a>",
        ],
        optional=True,
    )


def render_paper_details(paper: Paper, summary: Summary | None, *, language: str) -> OutMessage:
    """ "More details": everything known about the paper, for a tap on a digest's ℹ️ button.

    Title, every author (up to 50), id and categories, the TL;DR and takeaways when there is a
    summary (a digest may have shown only titles), the abstract folded in an expandable quote,
    comment, journal reference and every link from the metadata.
    """
    s = strings_for(language)
    lines = [
        _title_line(paper),
        Line(["<i>", Text.of(_authors(paper, s, 50, count=True), MAX_VISIBLE), "</i>"]),
        _meta_line(paper, s),
        *_summary_lines(summary, s),
    ]
    if clean_text(paper.abstract):
        lines.append(_abstract_line(paper, s, floor=200))
    for label, value in ((s.comment, paper.comment), (s.journal_ref, paper.journal_ref)):
        if value and clean_text(value):
            head = f"<b>{escape(label)}</b>{escape(s.colon)}"
            lines.append(Line([head, Text.of(value, _COMMENT_CAP)]))
    links = [link for link in paper_links(paper) if len(link.url) <= _URL_CAP]
    if links:
        lines.append(Line([f"\n<b>{escape(s.links)}</b>"], optional=True))
        lines += [_link_line(link, s) for link in links]
    return OutMessage(fit(lines))
