"""Rich text without a platform: what command replies are made of before a frontend marks up.

A reply is a tuple of `Span`s: plain, bold, italic, inline code, a preformatted block, or a
link. Telegram turns them into its HTML, Discord into its Markdown; each escapes the text its
own way, so nothing a user or a paper supplies is ever read as markup.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Style(enum.Enum):
    PLAIN = "plain"
    BOLD = "bold"
    ITALIC = "italic"
    CODE = "code"  # inline code: commands and queries to copy
    PRE = "pre"  # a block kept as typed (an error caret under a query)
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    style: Style = Style.PLAIN
    url: str | None = None  # for LINK


Rich = tuple[Span, ...]

Part = str | Span | Rich


def plain(text: str) -> Span:
    return Span(text)


def bold(text: str) -> Span:
    return Span(text, Style.BOLD)


def italic(text: str) -> Span:
    return Span(text, Style.ITALIC)


def code(text: str) -> Span:
    return Span(text, Style.CODE)


def pre(text: str) -> Span:
    return Span(text, Style.PRE)


def link(text: str, url: str) -> Span:
    return Span(text, Style.LINK, url)


def rich(*parts: Part) -> Rich:
    """Concatenate strings (plain), spans and other rich texts."""
    out: list[Span] = []
    for part in parts:
        if isinstance(part, str):
            if part:
                out.append(Span(part))
        elif isinstance(part, Span):
            out.append(part)
        else:
            out.extend(part)
    return tuple(out)


def lines(items: Iterable[Part], sep: str = "\n") -> Rich:
    """Parts joined by newlines (or `sep`), skipping empty ones."""
    out: list[Part] = []
    for item in items:
        if not item:
            continue
        if out:
            out.append(sep)
        out.append(item)
    return rich(*out)


def plain_text(text: Rich) -> str:
    """The text without markup (for logs, alerts and tests)."""
    return "".join(span.text for span in text)
