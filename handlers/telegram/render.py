"""Telegram rendering: digests, paper cards and paper details as HTML messages with buttons.

Pure functions from core objects to `OutMessage` values (Telegram HTML for ``parse_mode="HTML"``
plus rows of platform-neutral `Button`s); `to_reply_markup` turns the buttons into PTB's type.
The words and facts come from the core's views (`bot.present`); this module only adds Telegram's
markup, icons and buttons, and fits the result into Telegram's limits.

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

from bot.models import DetailLevel, Digest, LinkKind, Paper, Summary
from bot.present import (
    DigestView,
    LinkView,
    PaperLabels,
    PaperView,
    UpdatedView,
    digest_view,
    is_arxiv_id,
    no_papers_note,
    paper_card,
    paper_details,
    strings_for,
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
    "parse_review_callback",
    "render_digest",
    "render_empty_digest",
    "render_paper_card",
    "render_paper_details",
    "review_callback",
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

_LINK_ICONS = {LinkKind.PDF: "📄 ", LinkKind.CODE: "💻 "}


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
    if not is_arxiv_id(paper_id):
        raise ValueError(f"not an arXiv id: {paper_id[:40]!r}")
    data = _CALLBACK_PREFIX + paper_id
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


_REVIEW_PREFIX = "r|"


def review_callback(paper_id: str) -> str:
    """Callback data for "send the full review of paper `paper_id`" (≤ 64 bytes)."""
    return _REVIEW_PREFIX + details_callback(paper_id).removeprefix(_CALLBACK_PREFIX)


def parse_review_callback(data: str) -> str | None:
    """The paper id in data made by `review_callback`; None for anything else."""
    if not data.startswith(_REVIEW_PREFIX):
        return None
    paper_id = data[len(_REVIEW_PREFIX) :]
    return paper_id if is_arxiv_id(paper_id) else None


def parse_details_callback(data: str) -> str | None:
    """The paper id in data made by `details_callback`; None for anything else.

    Callback data comes back from clients, so it is checked, not trusted.
    """
    if not data.startswith(_CALLBACK_PREFIX):
        return None
    paper_id = data[len(_CALLBACK_PREFIX) :]
    if is_arxiv_id(paper_id):
        return paper_id
    return None


def _details_data(details_id: str | None) -> str | None:
    if details_id is None:
        return None  # not an arXiv id (never from arXiv itself): the title link still works
    try:
        return details_callback(details_id)
    except ValueError:
        return None


def _details_button(number: int | None, details_id: str | None) -> Button | None:
    data = _details_data(details_id)
    return Button(f"ℹ️ {number}", callback_data=data) if data is not None else None


def _rows(buttons: Sequence[Button]) -> tuple[tuple[Button, ...], ...]:
    """Numbered buttons in balanced rows of at most `_ROW_TARGET`."""
    if not buttons:
        return ()
    per_row = math.ceil(len(buttons) / math.ceil(len(buttons) / _ROW_TARGET))
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


# --- Paper fragments ------------------------------------------------------------------------


def _a(url: str, label: str) -> str:
    return f'<a href="{attr(url)}">{escape(label)}</a>'


def _tldr_line(view: PaperView) -> Line:
    labels = view.labels
    tag = f"<i>{escape(labels.extractive)}</i>" if view.extractive else ""
    return Line(
        [
            f"<b>{escape(labels.tldr)}</b>{tag}{escape(labels.colon)}",
            Text.of(view.tldr or "", _SUMMARY_CAP),
        ]
    )


def _bullets(view: PaperView) -> list[Line]:
    return [Line(["• ", Text.of(t, _SUMMARY_CAP)]) for t in view.takeaways]


def _compact_links(view: PaperView) -> Line | None:
    """``📄 PDF · HTML · 💻 Code · Project``: this version's files, then the first of each kind."""
    shown = [
        _LINK_ICONS.get(link.kind, "") + _a(link.url, link.label)
        for link in view.compact_links
        if len(link.url) <= _URL_CAP
    ]
    return Line([_SEP.join(shown)], optional=True) if shown else None


def _title_line(view: PaperView, prefix: str = "") -> Line:
    url = attr(view.abs_url)
    return Line([f'<b>{prefix}<a href="{url}">', Text.of(view.title, _TITLE_CAP), "</a></b>"])


def _meta_line(view: PaperView) -> Line:
    parts: list[Part] = [f"<code>{escape(view.versioned_id)}</code>"]
    if view.categories:
        parts += [_SEP, Text.of(", ".join(view.categories), 200)]
    if view.submitted is not None:
        parts.append(_SEP + escape(view.submitted))
    return Line(parts)


# --- Digests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """One paper (or section line) of a digest, ready to be packed into a message."""

    lines: list[Line]
    separator: str  # what goes before it when it follows something in the same message
    button: Button | None = None


def _digest_header(view: DigestView) -> str:
    lines = [f"📰 <b>{escape(shorten(view.name, _NAME_CAP))}</b>"]
    if view.query is not None:
        lines.append(f"<i>{escape(shorten(view.query, _QUERY_CAP))}</i>")
    lines.append(escape(view.facts))
    return "\n".join(lines)


def _paper_lines(view: PaperView, detail: DetailLevel) -> list[Line]:
    lines = [_title_line(view, f"{view.number}. ")]
    byline: list[Part] = ["<i>", Text.of(view.authors_short, _AUTHOR_CAP), "</i>"]
    if view.primary_category:
        byline += [_SEP, Text.of(view.primary_category, 40)]
    lines.append(Line(byline))
    if detail is DetailLevel.TITLES:
        return lines
    if view.tldr is not None:
        lines.append(_tldr_line(view))
        lines += _bullets(view)  # none unless the detail level is FULL
    links = _compact_links(view)
    if links is not None:
        lines.append(links)
    return lines


def _updated_lines(view: UpdatedView) -> list[Line]:
    url = attr(view.abs_url)
    title = Text.of(view.title, _TITLE_CAP)
    note = f"</a>{_SEP}<i>{escape(view.note)}</i>"
    return [Line([f'<b>{view.number}.</b> <a href="{url}">', title, note])]


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
    view = digest_view(digest, detail=detail, language=language, title=title)
    if view.is_empty:
        return [render_empty_digest(digest, language=language)]
    header = _digest_header(view)
    topic = shorten(shorten(view.name, _NAME_CAP), 80)
    continuation = f"📰 <i>{escape(strings_for(language).continued.format(topic=topic))}</i>"

    blocks: list[_Block] = []
    for paper in view.papers:
        lines = _paper_lines(paper, view.detail)
        blocks.append(_Block(lines, "\n\n", _details_button(paper.number, paper.details_id)))
    for i, updated in enumerate(view.updated):
        lines = _updated_lines(updated)
        if i == 0:  # the heading travels with the first line, so it is never left alone
            lines.insert(0, Line([f"🔄 <b>{escape(view.updated_heading)}</b>"]))
        button = _details_button(updated.number, updated.details_id)
        blocks.append(_Block(lines, "\n\n" if i == 0 else "\n", button))
    return _pack(header, blocks, continuation)


def render_empty_digest(digest: Digest, *, language: str) -> OutMessage:
    """The short "no new papers for <topic>" note, for chats that asked to get one."""
    name = shorten(clean_text(digest.query), _NAME_CAP)
    note = no_papers_note(digest, language=language)
    return OutMessage(f"📭 <b>{escape(name)}</b>\n{escape(note)}")


# --- Single papers --------------------------------------------------------------------------


def _summary_lines(view: PaperView) -> list[Line]:
    """TL;DR and key takeaways under their own headings, each after a blank line."""
    if view.tldr is None:
        return []
    tldr = _tldr_line(view)
    tldr.parts.insert(0, "\n")
    lines = [tldr]
    bullets = _bullets(view)
    if bullets:
        lines.append(Line([f"\n<b>{escape(view.labels.takeaways)}</b>"]))
        lines += bullets
    return lines


def _abstract_line(view: PaperView, floor: int) -> Line:
    return Line(
        [
            f"\n<b>{escape(view.labels.abstract)}</b>\n<blockquote expandable>",
            Text.of(view.abstract, MAX_VISIBLE, floor=floor),
            "</blockquote>",
        ]
    )


def render_paper_card(paper: Paper, summary: Summary | None, *, language: str) -> OutMessage:
    """The answer to /paper: title, authors, id and categories, TL;DR and takeaways, buttons.

    Buttons: PDF (always), Code (when the metadata has a code link), More details (callback).
    """
    view = paper_card(paper, summary, language=language)
    lines = [
        _title_line(view),
        Line(["<i>", Text.of(view.authors_long, _AUTHOR_CAP), "</i>"]),
        _meta_line(view),
    ]
    summary_lines = _summary_lines(view)
    lines += summary_lines
    if not summary_lines and view.abstract:
        lines.append(_abstract_line(view, floor=16))  # no summary: the abstract, folded
    links = [Button(f"📄 {view.pdf.label}", url=view.pdf_url)]
    if view.code is not None and len(view.code.url) <= _URL_CAP:
        links.append(Button(f"💻 {view.code.label}", url=view.code.url))
    rows: list[tuple[Button, ...]] = [tuple(links)]
    data = _details_data(view.details_id)
    if data is not None:
        rows.append((Button(f"ℹ️ {view.labels.more_details}", callback_data=data),))
    return OutMessage(fit(lines), tuple(rows))


def _link_line(link: LinkView, labels: PaperLabels) -> Line:
    shown = re.sub(r"^https?://(?:www\.)?", "", link.url)
    return Line(
        [
            f'{escape(link.label)}{escape(labels.colon)}<a href="{attr(link.url)}">',
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
    view = paper_details(paper, summary, language=language)
    labels = view.labels
    lines = [
        _title_line(view),
        Line(["<i>", Text.of(view.authors_long, MAX_VISIBLE), "</i>"]),
        _meta_line(view),
        *_summary_lines(view),
    ]
    if view.abstract:
        lines.append(_abstract_line(view, floor=200))
    for label, value in ((labels.comment, view.comment), (labels.journal_ref, view.journal_ref)):
        if value:
            head = f"<b>{escape(label)}</b>{escape(labels.colon)}"
            lines.append(Line([head, Text.of(value, _COMMENT_CAP)]))
    links = [link for link in view.all_links if len(link.url) <= _URL_CAP]
    if links:
        lines.append(Line([f"\n<b>{escape(labels.links)}</b>"], optional=True))
        lines += [_link_line(link, labels) for link in links]
    rows: tuple[tuple[Button, ...], ...] = ()
    if view.details_id is not None:  # a full review, one tap away
        label = f"📖 {strings_for(language).full_review}"
        rows = ((Button(label, callback_data=review_callback(view.details_id)),),)
    return OutMessage(fit(lines), rows)
