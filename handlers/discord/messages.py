"""What the Discord renderer produces: plain frozen values, turned into API payloads here.

A digest is rendered to `OutMessage`s before anything is sent, deterministically, so a delivery
resumed after a crash renders the same parts and the nonce of part N names the same message.
Delivery posts `payload()` as JSON; command replies turn the same values into discord.py
objects (`discord_embeds`, `view`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from handlers.discord.markup import length

# Discord's limits (https://discord.com/developers/docs/resources/message).
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FOOTER = 2048
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000  # across all embeds of one message
MAX_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_LABEL = 80
MAX_CUSTOM_ID = 100

NO_MENTIONS: dict[str, Any] = {"parse": []}  # nothing a paper or a user wrote may ping anyone


@dataclass(frozen=True, slots=True)
class Embed:
    """One embed; texts are Discord Markdown, already escaped and within the limits."""

    title: str | None = None
    url: str | None = None
    description: str | None = None
    color: int | None = None
    footer: str | None = None
    image: str | None = None  # an https:// URL or ``attachment://<file name>``

    def size(self) -> int:
        """What counts towards the 6,000 characters of a message's embeds."""
        return sum(length(t) for t in (self.title, self.description, self.footer) if t)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "rich"}
        if self.title:
            data["title"] = self.title
        if self.url:
            data["url"] = self.url
        if self.description:
            data["description"] = self.description
        if self.color is not None:
            data["color"] = self.color
        if self.footer:
            data["footer"] = {"text": self.footer}
        if self.image:
            data["image"] = {"url": self.image}
        return data


@dataclass(frozen=True, slots=True)
class Button:
    """A link button (`url`) or one that comes back to the bot (`custom_id`)."""

    label: str
    url: str | None = None
    custom_id: str | None = None
    emoji: str | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.custom_id is None):
            raise ValueError("a button has exactly one of url and custom_id")
        if self.custom_id is not None and not 1 <= len(self.custom_id) <= MAX_CUSTOM_ID:
            raise ValueError(f"custom_id must be 1-{MAX_CUSTOM_ID} characters")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": 2, "label": self.label[:MAX_LABEL]}
        if self.url is not None:
            data.update(style=discord.ButtonStyle.link.value, url=self.url)
        else:
            data.update(style=discord.ButtonStyle.secondary.value, custom_id=self.custom_id)
        if self.emoji:
            data["emoji"] = {"name": self.emoji}
        return data


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One Discord message: optional text, embeds, and rows of buttons."""

    content: str | None = None
    embeds: tuple[Embed, ...] = ()
    rows: Rows = ()

    def components(self) -> list[dict[str, Any]]:
        return [
            {"type": 1, "components": [button.to_dict() for button in row]}
            for row in self.rows
            if row
        ]

    def payload(self) -> dict[str, Any]:
        """The JSON body of ``POST /channels/{id}/messages`` (without the nonce)."""
        data: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            data["content"] = self.content
        if self.embeds:
            data["embeds"] = [embed.to_dict() for embed in self.embeds]
        if self.rows:
            data["components"] = self.components()
        return data

    def discord_embeds(self) -> list[discord.Embed]:
        return [discord.Embed.from_dict(embed.to_dict()) for embed in self.embeds]
