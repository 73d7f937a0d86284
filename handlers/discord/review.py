"""A full review as Discord messages: Markdown content of at most 2,000 characters each,
split between sections (a section too long for one message is split between its lines)."""

from __future__ import annotations

from bot.reviews.model import Review
from bot.reviews.render import review_rich
from handlers.discord.markup import fit_markdown, length, to_markdown
from handlers.discord.messages import MAX_CONTENT, OutMessage


def _lines_within(markdown: str) -> list[str]:
    """`markdown` in pieces within the content limit, cut between lines where possible."""
    pieces: list[str] = []
    current = ""
    for line in markdown.split("\n"):
        if length(line) > MAX_CONTENT:
            line = fit_markdown(line, MAX_CONTENT)
        joined = f"{current}\n{line}" if current else line
        if current and length(joined) > MAX_CONTENT:
            pieces.append(current)
            joined = line
        current = joined
    if current:
        pieces.append(current)
    return pieces


def render_review(review: Review, *, language: str) -> list[OutMessage]:
    """The review as Discord messages, in order."""
    messages: list[str] = []
    current = ""
    for block in review_rich(review, language):
        for part in _lines_within(to_markdown(block)):
            joined = f"{current}\n\n{part}" if current else part
            if current and length(joined) > MAX_CONTENT:
                messages.append(current)
                joined = part
            current = joined
    if current:
        messages.append(current)
    return [OutMessage(content=text) for text in messages]
