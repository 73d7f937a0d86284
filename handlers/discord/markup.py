"""Discord Markdown: escaping, the core's `Rich` replies as Markdown, and fitting text to limits.

Everything a paper or a person supplies is escaped here, so a title like ``**bold** @everyone``
shows as typed and never pings anyone (messages are also sent with no allowed mentions).
Lengths are counted in UTF-16 code units, as Discord's JavaScript counts them: never fewer
than Python's code points, so a text that fits here also fits there.
"""

from __future__ import annotations

import re

import discord

from bot.rich import Rich, Style

ELLIPSIS = "…"

# Markdown's special characters, escaped wherever they appear (a backslash before any
# punctuation shows that character as is); lists and headers only matter at a line start.
_SPECIAL = re.compile(r"[\\*_`~|<>\[\]]")
_LINE_START = re.compile(r"^(\s*)(-#|#|[-+](?=\s))", re.M)  # headers, subtext, bullets
_LIST_NUMBER = re.compile(r"^(\s*[0-9]+)\.(?=\s)", re.M)
# URLs stay as they are, so they remain clickable (escaping an underscore would break them).
_URL = re.compile(r"https?://[^\s<>]+[^\s<>.,:;\"')\]]")
_CODE_TICK = "ˋ"  # inline code cannot escape a backtick; a look-alike keeps it readable


def length(text: str) -> int:
    """Discord's length of `text` (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _escape_plain(text: str) -> str:
    text = _SPECIAL.sub(r"\\\g<0>", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return _LIST_NUMBER.sub(r"\1\\.", text)


def escape(text: str) -> str:
    """`text` shown literally in Discord Markdown (no formatting, links, mentions or emoji)."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        out.append(_escape_plain(text[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    out.append(_escape_plain(text[pos:]))
    return discord.utils.escape_mentions("".join(out))


def url(address: str) -> str:
    """A URL safe inside ``[label](url)``: parentheses and spaces would end the link early."""
    return address.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def link(label: str, address: str) -> str:
    return f"[{escape(label)}]({url(address)})"


def code(text: str) -> str:
    """Inline code; empty text gives nothing (two backticks would show literally)."""
    cleaned = text.replace("`", _CODE_TICK).replace("\n", " ")
    return f"`{cleaned}`" if cleaned.strip() else ""


def block(text: str) -> str:
    """A preformatted block, kept as typed (an error caret under a query)."""
    return "```\n" + text.replace("```", _CODE_TICK * 3) + "\n```"


def to_markdown(text: Rich) -> str:
    """The core's rich text as Discord Markdown, every span's text escaped."""
    out: list[str] = []
    for span in text:
        if not span.text:
            continue
        match span.style:
            case Style.BOLD:
                out.append(f"**{escape(span.text)}**")
            case Style.ITALIC:
                out.append(f"*{escape(span.text)}*")
            case Style.CODE:
                out.append(code(span.text))
            case Style.PRE:
                prefix = "" if not out or out[-1].endswith("\n") else "\n"
                out.append(prefix + block(span.text) + "\n")
            case Style.LINK if span.url:
                out.append(link(span.text, span.url))
            case _:
                out.append(escape(span.text))
    return "".join(out).strip("\n")


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` (Discord length), with an ellipsis when cut."""
    if length(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: max(0, limit - 1)]
    while length(cut) > limit - 1:  # astral characters count twice
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def fit_escaped(raw: str, limit: int) -> str:
    """`escape(raw)` within `limit`, shortening the raw text (never cutting an escape in two)."""
    escaped = escape(raw)
    if length(escaped) <= limit:
        return escaped
    low, high = 0, len(raw)
    best = ""
    while low <= high:  # the longest raw prefix whose escaped form, plus "…", fits
        mid = (low + high) // 2
        candidate = escape(raw[:mid].rstrip()) + ELLIPSIS
        if length(candidate) <= limit:
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    return best


def fit_markdown(markdown: str, limit: int) -> str:
    """Already-marked-up text within `limit`: cut at a line boundary where possible, so no
    bold or link is left open; a single overlong line is cut as plain text."""
    if length(markdown) <= limit:
        return markdown
    budget = limit - length("\n" + ELLIPSIS)
    kept: list[str] = []
    used = 0
    for line in markdown.split("\n"):
        cost = length(line) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    if kept:
        return "\n".join(kept) + "\n" + ELLIPSIS
    return fit_escaped(discord.utils.remove_markdown(markdown), limit)
