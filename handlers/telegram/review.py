"""A full review as Telegram messages: HTML, split between sections within Telegram's limits
(a section too long for one message is split between its lines, and a line only if it must be)."""

from __future__ import annotations

from bot.reviews.model import Review
from bot.reviews.render import review_rich
from handlers.telegram.html import MESSAGE_BUDGET, Size
from handlers.telegram.markup import to_messages


def render_review(review: Review, *, language: str) -> list[str]:
    """The review as Telegram HTML messages, in order."""
    messages: list[str] = []
    current = ""
    for block in review_rich(review, language):
        for part in to_messages(block):
            joined = f"{current}\n\n{part}" if current else part
            if current and not Size.of(joined).within(MESSAGE_BUDGET):
                messages.append(current)
                joined = part
            current = joined
    if current:
        messages.append(current)
    return messages
