"""Buttons that come back to the bot, and rows of buttons as a discord.py `View`.

The "Details" button under each paper carries the paper id in its ``custom_id``
(``pb:details:2409.03605``). It is a `DynamicItem`: discord.py matches the id against the
template for any message, including messages an earlier process sent, so the button keeps
working across restarts without remembering anything.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import discord
from discord import ui

from handlers.discord.messages import MAX_CUSTOM_ID, Rows

DETAILS_PREFIX = "pb:details:"
REVIEW_PREFIX = "pb:review:"
# New-style ids (2409.03605) and old-style ones (hep-th/9901001, math.GT/0309136).
_PAPER_ID = r"[0-9]{4}\.[0-9]{4,5}|[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?/[0-9]{7}"
_DETAILS_RE = re.compile(re.escape(DETAILS_PREFIX) + rf"(?P<id>{_PAPER_ID})")
_REVIEW_RE = re.compile(re.escape(REVIEW_PREFIX) + rf"(?P<id>{_PAPER_ID})")


@runtime_checkable
class ButtonHandler(Protocol):
    """What the buttons call; the client carries one as ``client.buttons``."""

    async def show_details(self, interaction: discord.Interaction[Any], paper_id: str) -> None: ...

    async def show_review(self, interaction: discord.Interaction[Any], paper_id: str) -> None: ...


def details_custom_id(paper_id: str) -> str | None:
    """The custom_id of the Details button of `paper_id`; None for an id we would not accept
    back (never from arXiv itself)."""
    custom_id = DETAILS_PREFIX + paper_id
    if len(custom_id) > MAX_CUSTOM_ID or not _DETAILS_RE.fullmatch(custom_id):
        return None
    return custom_id


class _PaperButton(ui.DynamicItem[ui.Button[ui.View]], template=r"(?!)"):
    """A button about one paper that comes back to the bot. Subclasses give the template (the
    base matches nothing), the custom_id prefix, the emoji and what a click does."""

    prefix: ClassVar[str]
    emoji: ClassVar[str]
    default_label: ClassVar[str]

    def __init__(self, paper_id: str, label: str | None = None) -> None:
        super().__init__(
            ui.Button(
                label=label or self.default_label,
                style=discord.ButtonStyle.secondary,
                custom_id=self.prefix + paper_id,
                emoji=self.emoji,
            )
        )
        self.paper_id = paper_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = getattr(interaction.client, "buttons", None)
        if isinstance(handler, ButtonHandler):
            await self.clicked(handler, interaction)

    async def clicked(self, handler: ButtonHandler, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError


class DetailsButton(_PaperButton, template=_DETAILS_RE):
    """Shows one paper's details to whoever clicked, privately."""

    prefix = DETAILS_PREFIX
    emoji = "ℹ️"
    default_label = "Details"

    async def clicked(self, handler: ButtonHandler, interaction: discord.Interaction[Any]) -> None:
        await handler.show_details(interaction, self.paper_id)


def review_custom_id(paper_id: str) -> str | None:
    """The custom_id of the "Full review" button of `paper_id` (None as for details)."""
    custom_id = REVIEW_PREFIX + paper_id
    if len(custom_id) > MAX_CUSTOM_ID or not _REVIEW_RE.fullmatch(custom_id):
        return None
    return custom_id


class ReviewButton(_PaperButton, template=_REVIEW_RE):
    """Shows one paper's full review to whoever clicked, privately (persistent like Details)."""

    prefix = REVIEW_PREFIX
    emoji = "📖"
    default_label = "Full review"

    async def clicked(self, handler: ButtonHandler, interaction: discord.Interaction[Any]) -> None:
        await handler.show_review(interaction, self.paper_id)


def view_of(rows: Rows) -> ui.View:
    """A view showing `rows`; Details buttons are `DetailsButton`s, so the client dispatches them
    even while this view object is long gone."""
    view = ui.View(timeout=None)
    for index, row in enumerate(rows):
        for button in row:
            match = _DETAILS_RE.fullmatch(button.custom_id or "")
            review = _REVIEW_RE.fullmatch(button.custom_id or "")
            item: ui.Item[Any]
            if match is not None:
                item = DetailsButton(match["id"], button.label)
                item.row = index
            elif review is not None:
                item = ReviewButton(review["id"], button.label)
                item.row = index
            elif button.url is not None:
                item = ui.Button(label=button.label, url=button.url, emoji=button.emoji, row=index)
            else:
                continue  # no other buttons come back to us
            view.add_item(item)
    return view
