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
import html
import math
import re
import unicodedata
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

MAX_VISIBLE = 4096
MAX_RAW = 8000
MAX_ENTITIES = 90
MAX_BUTTONS = 100
MAX_ROW = 8
MAX_CALLBACK_BYTES = 64

_ROW_TARGET = 5  # number buttons per row: fewer, wider rows read better than 8 tiny ones
_CALLBACK_PREFIX = "d|"  # like the other buttons' "u|…", "s|…"
_ELLIPSIS = "…"
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


# --- HTML primitives ------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text as Telegram HTML: ``<``, ``>`` and ``&`` escaped, quotes left readable."""
    return html.escape(text, quote=False)


def _attr(value: str) -> str:
    # Only named entities Telegram knows (&lt; &gt; &amp; &quot;): html.escape(quote=True) would
    # also write &#x27;.
    return escape(value).replace('"', "&quot;")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (emoji outside the BMP count 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_TAG_RE = re.compile(r"<[^>]*>")


def visible_length(html_text: str) -> int:
    """The length Telegram checks against 4096: tags removed, entities decoded, UTF-16 units.

    Exact for HTML that Telegram accepts (every other "<", ">" and "&" escaped).
    """
    return utf16_length(html.unescape(_TAG_RE.sub("", html_text)))


def entity_count(html_text: str) -> int:
    """How many formatting entities `html_text` makes: one per opening tag."""
    # Text is always escaped, so every raw "<" starts a tag.
    return html_text.count("<") - html_text.count("</")


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# Bidi overrides would flip the direction of the text after a title; lone surrogates cannot be sent.
_DROPPED_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069\ud800-\udfff]+")


def _clean(text: str) -> str:
    """One line of display text: whitespace collapsed, control characters dropped."""
    return " ".join(_DROPPED_RE.sub("", _CONTROL_RE.sub(" ", text)).split())


def _extends_cluster(ch: str) -> bool:
    """Whether `ch` belongs to the character before it (accents, emoji modifiers and joiners)."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in {"Mn", "Mc", "Me"}
        or code == 0x200D  # zero-width joiner
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _safe_cut(text: str, cut: int) -> int:
    """Move `cut` left until it does not split a user-perceived character (e.g. 👩‍💻 or 🇨🇳)."""
    while 0 < cut < len(text):
        if _extends_cluster(text[cut]) or text[cut - 1] == "\u200d":
            cut -= 1
            continue
        if _is_regional(text[cut]) and _is_regional(text[cut - 1]):
            run = 0
            while cut - run - 1 >= 0 and _is_regional(text[cut - run - 1]):
                run += 1
            if run % 2 == 1:  # inside a flag's pair
                cut -= 1
                continue
        break
    return cut


def _shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ellipsis included, ending on a word when one is near.

    This works on the unescaped text, so escaping afterwards can never split an entity.
    """
    if len(text) <= limit:
        return text
    cut = max(limit - 1, 0)
    space = text.rfind(" ", 0, cut + 1)
    if space > 0 and space >= max(cut - 20, cut * 3 // 4):
        cut = space
    return text[: _safe_cut(text, cut)].rstrip() + _ELLIPSIS


# --- Messages built from shortenable pieces -------------------------------------------------


@dataclass(slots=True)
class _Text:
    """Paper- or user-supplied text: escaped on output, and what gets shortened to fit a limit."""

    value: str
    floor: int = 16  # never shortened below this many characters

    @classmethod
    def of(cls, raw: str, cap: int, floor: int = 16) -> _Text:
        return cls(_shorten(_clean(raw), cap), floor)


_Part = str | _Text  # a str part is this module's own markup, already escaped


@dataclass(slots=True)
class _Line:
    parts: list[_Part]
    optional: bool = False  # dropped (last first) when shortening texts cannot make it fit

    def html(self) -> str:
        return "".join(p if isinstance(p, str) else escape(p.value) for p in self.parts)

    def copy(self) -> _Line:
        parts = [_Text(p.value, p.floor) if isinstance(p, _Text) else p for p in self.parts]
        return _Line(parts, self.optional)


@dataclass(frozen=True, slots=True)
class _Size:
    """How much of each Telegram limit some HTML uses (or, as a budget, may use)."""

    visible: int
    raw: int
    entities: int

    @classmethod
    def of(cls, html_text: str) -> _Size:
        return cls(visible_length(html_text), len(html_text), entity_count(html_text))

    def __add__(self, other: _Size) -> _Size:
        return _Size(
            self.visible + other.visible, self.raw + other.raw, self.entities + other.entities
        )

    def __sub__(self, other: _Size) -> _Size:
        return _Size(
            self.visible - other.visible, self.raw - other.raw, self.entities - other.entities
        )

    def within(self, budget: _Size) -> bool:
        return (
            self.visible <= budget.visible
            and self.raw <= budget.raw
            and self.entities <= budget.entities
        )


_MESSAGE = _Size(MAX_VISIBLE, MAX_RAW, MAX_ENTITIES)


def _shorten_longest(lines: list[_Line], excess: int) -> bool:
    texts = [
        p for line in lines for p in line.parts if isinstance(p, _Text) and len(p.value) > p.floor
    ]
    if not texts:
        return False
    longest = max(texts, key=lambda p: utf16_length(p.value))
    # Cutting k characters removes at least k visible units and k raw characters (escaping only
    # ever lengthens text), so one cut of `excess` plus the ellipsis is enough for this text.
    longest.value = _shorten(longest.value, max(longest.floor, len(longest.value) - excess - 1))
    return True


def _fit(lines: Sequence[_Line], budget: _Size = _MESSAGE) -> str:
    """Join `lines` into HTML within `limits`, shortening the longest texts, then optional lines.

    `lines` are left as they are (the texts shortened are copies), so they can be fitted again.
    """
    lines = [line.copy() for line in lines]
    while True:
        text = "\n".join(line.html() for line in lines)
        size = _Size.of(text)
        excess = max(size.visible - budget.visible, size.raw - budget.raw)
        too_many = size.entities > budget.entities
        if excess <= 0 and not too_many:
            return text
        if not too_many and _shorten_longest(lines, excess):
            continue
        optional = [i for i, line in enumerate(lines) if line.optional]
        if not optional:
            raise ValueError("message cannot be fitted into Telegram's limits")
        del lines[optional[-1]]


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
    names = [name for name in (_clean(a) for a in paper.authors) if name]
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
    return f'<a href="{_attr(url)}">{escape(label)}</a>'


def _tldr_line(summary: Summary, s: Strings) -> _Line:
    tag = f"<i>{escape(s.extractive)}</i>" if summary.source is SummarySource.EXTRACTIVE else ""
    return _Line(
        [f"<b>{escape(s.tldr)}</b>{tag}{escape(s.colon)}", _Text.of(summary.tldr, _SUMMARY_CAP)]
    )


def _bullets(summary: Summary) -> list[_Line]:
    return [_Line(["• ", _Text.of(t, _SUMMARY_CAP)]) for t in summary.takeaways if _clean(t)]


def _compact_links(paper: Paper, s: Strings) -> _Line | None:
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
    return _Line([_SEP.join(shown)], optional=True) if shown else None


def _title_line(paper: Paper, prefix: str = "") -> _Line:
    url = _attr(_abs_url(paper))
    return _Line([f'<b>{prefix}<a href="{url}">', _Text.of(paper.title, _TITLE_CAP), "</a></b>"])


def _meta_line(paper: Paper, s: Strings) -> _Line:
    parts: list[_Part] = [f"<code>{escape(paper.versioned_id)}</code>"]
    categories = _categories(paper)
    if categories:
        parts += [_SEP, _Text.of(categories, 200)]
    if paper.published is not None:
        parts.append(_SEP + escape(s.submitted.format(date=s.long_date(paper.published.date()))))
    return _Line(parts)


# --- Digests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """One paper (or section line) of a digest, ready to be packed into a message."""

    lines: list[_Line]
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
        lines.append(f"<i>{escape(_shorten(_clean(digest.query), _QUERY_CAP))}</i>")
    facts = [_span(digest, s), s.new_papers(len(digest.new_entries))]
    hidden = digest.total_matched - len(digest.new_entries)
    if hidden > 0:
        facts.append(s.more_not_shown(hidden))
    lines.append(escape(_SEP.join(f for f in facts if f)))
    return "\n".join(lines)


def _paper_lines(
    number: int, paper: Paper, summary: Summary | None, detail: DetailLevel, s: Strings
) -> list[_Line]:
    lines = [_title_line(paper, f"{number}. ")]
    byline: list[_Part] = ["<i>", _Text.of(_authors(paper, s, 3, count=False), _AUTHOR_CAP), "</i>"]
    primary = paper.primary_category or (paper.categories[0] if paper.categories else None)
    if primary:
        byline += [_SEP, _Text.of(primary, 40)]
    lines.append(_Line(byline))
    if detail is DetailLevel.TITLES:
        return lines
    if summary is not None and _clean(summary.tldr):
        lines.append(_tldr_line(summary, s))
        if detail is DetailLevel.FULL:
            lines += _bullets(summary)
    links = _compact_links(paper, s)
    if links is not None:
        lines.append(links)
    return lines


def _updated_lines(number: int, entry: DigestEntry, s: Strings) -> list[_Line]:
    paper = entry.paper
    if entry.previous_version is not None:
        note = s.updated_to.format(v=paper.version, was=entry.previous_version)
    else:
        note = s.updated_to_only.format(v=paper.version)
    url = _attr(_abs_url(paper))
    title = _Text.of(paper.title, _TITLE_CAP)
    return [
        _Line([f'<b>{number}.</b> <a href="{url}">', title, f"</a>{_SEP}<i>{escape(note)}</i>"])
    ]


def _pack(header: str, blocks: Sequence[_Block], continuation: str) -> list[OutMessage]:
    """Fill messages greedily with whole blocks; messages after the first start with
    `continuation`, and each block is fitted so that it always fits after it on its own."""
    alone = _MESSAGE - _Size.of(continuation + "\n\n")
    messages: list[OutMessage] = []
    parts, size, buttons = [header], _Size.of(header), list[Button]()
    for block in blocks:
        piece = block.separator + _fit(block.lines, alone)
        full = len(buttons) + (block.button is not None) > MAX_BUTTONS
        if not full and not (size + _Size.of(piece)).within(_MESSAGE) and len(parts) == 1:
            # Rather than leave the header alone, shorten the first paper a little more.
            with contextlib.suppress(ValueError):
                room = _MESSAGE - size - _Size.of(block.separator)
                piece = block.separator + _fit(block.lines, room)
        if full or not (size + _Size.of(piece)).within(_MESSAGE):
            messages.append(OutMessage("".join(parts), _rows(buttons)))
            piece = "\n\n" + _fit(block.lines, alone)
            parts, size, buttons = [continuation], _Size.of(continuation), []
        parts.append(piece)
        size += _Size.of(piece)
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
    name = _shorten(_clean(title or digest.query), _NAME_CAP)
    header = _digest_header(digest, s, name, title)
    continuation = f"📰 <i>{escape(s.continued.format(topic=_shorten(name, 80)))}</i>"

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
            lines.insert(0, _Line([f"🔄 <b>{escape(s.updated_heading)}</b>"]))
        button = _details_button(number, entry.paper)
        blocks.append(_Block(lines, "\n\n" if i == 0 else "\n", button))
    return _pack(header, blocks, continuation)


def render_empty_digest(digest: Digest, *, language: str) -> OutMessage:
    """The short "no new papers for <topic>" note, for chats that asked to get one."""
    s = strings_for(language)
    name = _shorten(_clean(digest.query), _NAME_CAP)
    if digest.through is None:
        note = s.no_listing
    else:
        note = s.no_new_papers.format(date=s.long_date(digest.through))
    return OutMessage(f"📭 <b>{escape(name)}</b>\n{escape(note)}")


# --- Single papers --------------------------------------------------------------------------


def _summary_lines(summary: Summary | None, s: Strings) -> list[_Line]:
    """TL;DR and key takeaways under their own headings, each after a blank line."""
    if summary is None or not _clean(summary.tldr):
        return []
    tldr = _tldr_line(summary, s)
    tldr.parts.insert(0, "\n")
    lines = [tldr]
    bullets = _bullets(summary)
    if bullets:
        lines.append(_Line([f"\n<b>{escape(s.takeaways)}</b>"]))
        lines += bullets
    return lines


def _abstract_line(paper: Paper, s: Strings, floor: int) -> _Line:
    return _Line(
        [
            f"\n<b>{escape(s.abstract)}</b>\n<blockquote expandable>",
            _Text.of(paper.abstract, MAX_VISIBLE, floor=floor),
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
        _Line(["<i>", _Text.of(_authors(paper, s, 8, count=True), _AUTHOR_CAP), "</i>"]),
        _meta_line(paper, s),
    ]
    summary_lines = _summary_lines(summary, s)
    lines += summary_lines
    if not summary_lines and _clean(paper.abstract):
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
    return OutMessage(_fit(lines), tuple(rows))


def _link_line(link: Link, s: Strings) -> _Line:
    shown = re.sub(r"^https?://(?:www\.)?", "", link.url)
    return _Line(
        [
            f'{escape(s.link_labels[link.kind])}{escape(s.colon)}<a href="{_attr(link.url)}">',
            _Text.of(shown, _URL_SHOWN, floor=_URL_SHOWN),
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
        _Line(["<i>", _Text.of(_authors(paper, s, 50, count=True), MAX_VISIBLE), "</i>"]),
        _meta_line(paper, s),
        *_summary_lines(summary, s),
    ]
    if _clean(paper.abstract):
        lines.append(_abstract_line(paper, s, floor=200))
    for label, value in ((s.comment, paper.comment), (s.journal_ref, paper.journal_ref)):
        if value and _clean(value):
            head = f"<b>{escape(label)}</b>{escape(s.colon)}"
            lines.append(_Line([head, _Text.of(value, _COMMENT_CAP)]))
    links = [link for link in paper_links(paper) if len(link.url) <= _URL_CAP]
    if links:
        lines.append(_Line([f"\n<b>{escape(s.links)}</b>"], optional=True))
        lines += [_link_line(link, s) for link in links]
    return OutMessage(_fit(lines))
