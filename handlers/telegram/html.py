"""Telegram HTML primitives: escaping, Telegram's way of measuring text, and messages built from
lines that can be shortened safely until they fit.

Telegram counts a message's length in UTF-16 code units of the text after entity parsing, caps
the raw size of its entities, and drops formatting past the 100th entity; `fit` keeps every
message inside all three. Shortening cuts the unescaped text at a word boundary (never inside an
entity, a tag, a combining sequence, an emoji or a flag) and adds "…".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MAX_VISIBLE = 4096
MAX_RAW = 8000
MAX_ENTITIES = 90
ELLIPSIS = "…"


# --- HTML primitives ------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text as Telegram HTML: ``<``, ``>`` and ``&`` escaped, quotes left readable."""
    return html.escape(text, quote=False)


def attr(value: str) -> str:
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


def clean_text(text: str) -> str:
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


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ellipsis included, ending on a word when one is near.

    This works on the unescaped text, so escaping afterwards can never split an entity.
    """
    if len(text) <= limit:
        return text
    cut = max(limit - 1, 0)
    space = text.rfind(" ", 0, cut + 1)
    if space > 0 and space >= max(cut - 20, cut * 3 // 4):
        cut = space
    return text[: _safe_cut(text, cut)].rstrip() + ELLIPSIS


# --- Messages built from shortenable pieces -------------------------------------------------


@dataclass(slots=True)
class Text:
    """Paper- or user-supplied text: escaped on output, and what gets shortened to fit a limit."""

    value: str
    floor: int = 16  # never shortened below this many characters

    @classmethod
    def of(cls, raw: str, cap: int, floor: int = 16) -> Text:
        return cls(shorten(clean_text(raw), cap), floor)


Part = str | Text  # a str part is this module's own markup, already escaped


@dataclass(slots=True)
class Line:
    parts: list[Part]
    optional: bool = False  # dropped (last first) when shortening texts cannot make it fit

    def html(self) -> str:
        return "".join(p if isinstance(p, str) else escape(p.value) for p in self.parts)

    def copy(self) -> Line:
        parts = [Text(p.value, p.floor) if isinstance(p, Text) else p for p in self.parts]
        return Line(parts, self.optional)


@dataclass(frozen=True, slots=True)
class Size:
    """How much of each Telegram limit some HTML uses (or, as a budget, may use)."""

    visible: int
    raw: int
    entities: int

    @classmethod
    def of(cls, html_text: str) -> Size:
        return cls(visible_length(html_text), len(html_text), entity_count(html_text))

    def __add__(self, other: Size) -> Size:
        return Size(
            self.visible + other.visible, self.raw + other.raw, self.entities + other.entities
        )

    def __sub__(self, other: Size) -> Size:
        return Size(
            self.visible - other.visible, self.raw - other.raw, self.entities - other.entities
        )

    def within(self, budget: Size) -> bool:
        return (
            self.visible <= budget.visible
            and self.raw <= budget.raw
            and self.entities <= budget.entities
        )


MESSAGE_BUDGET = Size(MAX_VISIBLE, MAX_RAW, MAX_ENTITIES)


def _shorten_longest(lines: list[Line], excess: int) -> bool:
    texts = [
        p for line in lines for p in line.parts if isinstance(p, Text) and len(p.value) > p.floor
    ]
    if not texts:
        return False
    longest = max(texts, key=lambda p: utf16_length(p.value))
    # Cutting k characters removes at least k visible units and k raw characters (escaping only
    # ever lengthens text), so one cut of `excess` plus the ellipsis is enough for this text.
    longest.value = shorten(longest.value, max(longest.floor, len(longest.value) - excess - 1))
    return True


def fit(lines: Sequence[Line], budget: Size = MESSAGE_BUDGET) -> str:
    """Join `lines` into HTML within `limits`, shortening the longest texts, then optional lines.

    `lines` are left as they are (the texts shortened are copies), so they can be fitted again.
    """
    lines = [line.copy() for line in lines]
    while True:
        text = "\n".join(line.html() for line in lines)
        size = Size.of(text)
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
