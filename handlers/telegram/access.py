"""Who may change a chat's topics and settings, checked against Telegram rather than assumed.

Private chats: the user. Groups: the group's administrators (including the anonymous admin who
posts as the group). Channels: configured from a private chat by an administrator of the
channel, and only once the bot itself may post there.
"""

from __future__ import annotations

from telegram import (
    Bot,
    Chat,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    Message,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.errors import UserError
from bot.models import ChatKind


class NotAllowed(UserError):
    """The person may not do this here; the message says who may."""


def chat_kind(chat: Chat | ChatFullInfo) -> ChatKind:
    if chat.type == ChatType.PRIVATE:
        return ChatKind.PRIVATE
    if chat.type == ChatType.CHANNEL:
        return ChatKind.CHANNEL
    return ChatKind.GROUP


def is_admin_status(member: ChatMember) -> bool:
    return isinstance(member, ChatMemberOwner | ChatMemberAdministrator)


async def require_group_admin(bot: Bot, message: Message) -> None:
    """Raise `NotAllowed` unless the sender administers the group the message is in."""
    chat = message.chat
    if chat.type == ChatType.PRIVATE:
        return
    # Anonymous administrators post as the group itself.
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return
    user = message.from_user
    if user is None:
        raise NotAllowed("Only the group's administrators can change its topics and settings.")
    await require_admin_of(bot, chat.id, user.id, what="this group")


async def require_admin_of(bot: Bot, chat_id: int | str, user_id: int, *, what: str) -> None:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        raise NotAllowed(f"I could not check who administers {what}; try again later.") from None
    if not is_admin_status(member):
        raise NotAllowed(f"Only administrators of {what} can change its topics and settings.")


async def resolve_channel(bot: Bot, reference: str, user_id: int) -> ChatFullInfo:
    """The channel named `@name` (or by id), after checking the user administers it and the
    bot may post there. Every failure says exactly what is missing."""
    target: int | str = int(reference) if reference.lstrip("-").isdigit() else reference
    shown = reference
    try:
        chat = await bot.get_chat(target)
    except (BadRequest, Forbidden):
        raise NotAllowed(
            f"I can't find {shown}. Add me to the channel as an administrator with the right "
            "to post messages, then try again."
        ) from None
    if chat.type != ChatType.CHANNEL:
        raise NotAllowed(f"{shown} is not a channel. In a group, send the command in the group.")
    name = f"@{chat.username}" if chat.username else (chat.title or shown)
    # The bot's own rights first: without them Telegram will not even show us who the
    # channel's administrators are.
    try:
        me = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError:
        me = None
    can_post = isinstance(me, ChatMemberOwner) or (
        isinstance(me, ChatMemberAdministrator) and bool(me.can_post_messages)
    )
    if not can_post:
        raise NotAllowed(
            f"I am not allowed to post in {name}. Make me an administrator of the channel with "
            "the right to post messages, then try again."
        )
    await require_admin_of(bot, chat.id, user_id, what=name)
    return chat
