"""The core's rich text as Telegram HTML, split into as many messages as Telegram's limits need.

Replies are split only between lines (a preformatted block stays whole), and a single line too
long for one message has its text shortened with "…", so no reply is ever refused for its size.
"""

from __future__ import annotations

from bot.rich import Rich, Span, Style
from handlers.telegram.html import MESSAGE_BUDGET, Line, Part, Size, Text, attr, fit

_TAGS = {Style.BOLD: "b", Style.ITALIC: "i", Style.CODE: "code", Style.PRE: "pre"}


def _parts(span: Span, text: str) -> list[Part]:
    if not text:
        return []
    body = Text(text, floor=min(len(text), 24))
    if span.style is Style.LINK and span.url:
        return [f'<a href="{attr(span.url)}">', body, "</a>"]
    tag = _TAGS.get(span.style)
    return [f"<{tag}>", body, f"</{tag}>"] if tag else [body]


def to_lines(text: Rich) -> list[Line]:
    """One `Line` per line of the text; a preformatted block is kept in one line."""
    lines: list[Line] = [Line([])]
    for span in text:
        if span.style is Style.PRE:
            lines[-1].parts += _parts(span, span.text)
            continue
        first, *rest = span.text.split("\n")
        lines[-1].parts += _parts(span, first)
        for piece in rest:
            lines.append(Line(_parts(span, piece)))
    return lines


def to_html(text: Rich) -> str:
    """The whole text as Telegram HTML, without any splitting."""
    return "\n".join(line.html() for line in to_lines(text))


def to_messages(text: Rich, budget: Size = MESSAGE_BUDGET) -> list[str]:
    """The text as one or more Telegram HTML messages, each within Telegram's limits."""
    messages: list[str] = []
    current: list[str] = []
    size = Size(0, 0, 0)
    newline = Size.of("\n")
    for line in to_lines(text):
        html = fit([line], budget)  # a line too long on its own is shortened
        grown = size + Size.of(html) + (newline if current else Size(0, 0, 0))
        if current and not grown.within(budget):
            messages.append("\n".join(current).strip("\n") or "…")
            current, size = [], Size(0, 0, 0)
            grown = Size.of(html)
        current.append(html)
        size = grown
    messages.append("\n".join(current).strip("\n") or "…")
    return messages
