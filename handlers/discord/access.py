"""Where a slash command was used, which chat that is, and who may change it.

Chat keys: a server text or announcement channel is ``discord:<channel_id>`` (its topics belong
to the channel and digests are posted there); a DM is ``discord:@<user_id>`` (the topics belong
to the user; the sender opens the DM channel from the user id). Both kinds of server channel are
`ChatKind.GROUP`: as in a Telegram group, members use the commands where the digests arrive.

In servers, changing topics and settings needs Manage Channels. The commands declare it as
their default permission, but a server's admins can open any command to everyone, so it is
checked again here from the permissions Discord sends with the interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import UserError
from bot.models import ChatKind

PLATFORM = "discord"
_POSTABLE = (discord.ChannelType.text, discord.ChannelType.news)
_NEEDED = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)


class NotAllowed(UserError):
    """The person may not do this here, or the bot cannot; the message says what is missing."""


class WrongPlace(UserError):
    """A thread, voice, forum or other channel where digests cannot go."""


@dataclass(frozen=True, slots=True)
class Place:
    """The chat a command acts on."""

    key: str
    kind: ChatKind
    title: str | None
    in_server: bool
    channel_id: int | None


def channel_key(channel_id: int) -> str:
    return f"{PLATFORM}:{channel_id}"


def user_key(user_id: int) -> str:
    return f"{PLATFORM}:@{user_id}"


def channel_id_of(key: str) -> int | None:
    """The channel id in a server channel's key; None for a DM key or another platform's."""
    prefix, _, rest = key.partition(":")
    if prefix != PLATFORM or not rest.isdigit():
        return None
    return int(rest)


def _channel_type(interaction: discord.Interaction[Any]) -> discord.ChannelType | None:
    channel = interaction.channel
    kind = getattr(channel, "type", None)
    return kind if isinstance(kind, discord.ChannelType) else None


def place_of(interaction: discord.Interaction[Any]) -> Place:
    """The chat of this interaction; `WrongPlace` where digests cannot be posted."""
    if interaction.guild_id is None:
        user = interaction.user
        return Place(user_key(user.id), ChatKind.PRIVATE, str(user), False, interaction.channel_id)
    kind = _channel_type(interaction)
    # Discord sends the channel's type with every interaction; an older payload without it is
    # taken for a text channel (the send would fail and suspend the chat if it was not).
    if kind is not None and kind not in _POSTABLE:
        raise WrongPlace(
            "Digests need a text or announcement channel: use the commands there, or in a "
            "direct message with me for your own digests."
        )
    channel_id = interaction.channel_id
    if channel_id is None:  # pragma: no cover - server interactions always carry it
        raise WrongPlace("I can't tell which channel this is; try again in a text channel.")
    name = getattr(interaction.channel, "name", None)
    title = f"#{name}" if isinstance(name, str) else None
    return Place(channel_key(channel_id), ChatKind.GROUP, title, True, channel_id)


def require_manager(interaction: discord.Interaction[Any], place: Place) -> None:
    """In a server, only members with Manage Channels change a channel's topics and settings."""
    if place.in_server and not interaction.permissions.manage_channels:
        raise NotAllowed(
            "Only members with the Manage Channels permission can change this channel's "
            "topics and settings. /list shows them to everyone."
        )


def missing_bot_permissions(permissions: discord.Permissions) -> list[str]:
    """The names of the permissions the bot lacks to post digests (empty when it has them)."""
    return [label for attr, label in _NEEDED if not getattr(permissions, attr)]


def require_bot_can_post(interaction: discord.Interaction[Any], place: Place) -> None:
    """Refuse to subscribe a channel the bot cannot post digests to, naming what is missing."""
    if not place.in_server:
        return
    missing = missing_bot_permissions(interaction.app_permissions)
    if missing:
        raise NotAllowed(
            "I can't post digests in this channel: I am missing "
            + ", ".join(missing)
            + ". Give me these permissions here, then try again."
        )


def can_post(channel: discord.abc.GuildChannel) -> bool:
    """Whether the bot may post digests in `channel` now (from the cached guild state)."""
    me = channel.guild.me
    if me is None:
        return False
    return not missing_bot_permissions(channel.permissions_for(me))
