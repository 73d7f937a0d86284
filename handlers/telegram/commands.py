"""Telegram command handlers. Each parses its input, calls one core method, renders the answer.

The rules (who is registered, what a setting means, how `/digest` reaches the chat) live in the
core; replies come from `bot.replies` as rich text and are turned into Telegram HTML here, split
between messages when long. Mistakes people make (a malformed query, an unknown id, a non-admin
in a group) arrive as `UserError`s and are answered by the error handler in `app.py`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot import replies
from bot.chat_settings import (
    SETTINGS_USAGE,
    InvalidSetting,
    SettingName,
    choices,
    current_value,
    parse_setting_name,
)
from bot.chats import ChatRef
from bot.errors import UserError
from bot.models import Chat
from bot.query import query_warnings
from bot.replies import Syntax
from bot.rich import Rich
from handlers.telegram.access import (
    NotAllowed,
    chat_kind,
    require_admin_of,
    require_group_admin,
    resolve_channel,
)
from handlers.telegram.context import PaperboyContext, chat_key
from handlers.telegram.delivery import NO_PREVIEW, send_message
from handlers.telegram.figures import send_first_figure
from handlers.telegram.markup import to_messages
from handlers.telegram.render import (
    OutMessage,
    parse_details_callback,
    parse_review_callback,
    render_paper_card,
    render_paper_details,
    to_reply_markup,
)
from handlers.telegram.review import render_review

SYNTAX = Syntax(
    subscribe_example='/subscribe "talking head" OR "lip sync"',
    paper_example="/paper 2409.03605",
    settings_example="/settings tz Europe/Berlin",
)
MAX_REPLY_WAIT = 10.0  # seconds a command reply may wait for Telegram's flood limit
MAX_TOPIC_BUTTONS = 25  # one per topic; a chat has at most 25

_USAGE = {
    "en": [
        ("/subscribe query", "follow a topic"),
        ("/list", "topics of this chat"),
        ("/unsubscribe [n]", "remove a topic"),
        ("/pause [n], /resume [n]", "stop or restart digests (of one topic with its number)"),
        ("/settings", "language, time, time zone, detail, papers per digest"),
        ("/digest", "this chat's latest digest, now"),
        ("/paper id", "one paper, e.g. /paper 2409.03605"),
    ],
    "zh": [
        ("/subscribe 查询", "订阅主题"),
        ("/list", "本聊天的主题"),
        ("/unsubscribe [编号]", "移除主题"),
        ("/pause [编号], /resume [编号]", "暂停或恢复推送（加编号则只针对该主题）"),
        ("/settings", "语言、时间、时区、详细程度、每期论文数"),
        ("/digest", "立即发送本聊天的最新摘要"),
        ("/paper 编号", "查看论文，例如 /paper 2409.03605"),
    ],
}
_NOTES = {
    "en": [
        "Channels: from a private chat with me, put the channel first, e.g. "
        "/subscribe @yourchannel diffusion (also /list, /unsubscribe, /pause, /resume, "
        "/settings, /digest).",
        "In groups only administrators change topics and settings.",
    ],
    "zh": [
        "频道：在与我的私聊中把频道写在最前面，例如 /subscribe @yourchannel diffusion"
        "（/list、/unsubscribe、/pause、/resume、/settings、/digest 同理）。",
        "在群组中只有管理员可以修改主题和设置。",
    ],
}


@dataclass(frozen=True)
class Target:
    """The chat a command acts on: the current chat, or a channel named in a private chat."""

    key: str
    chat_id: int
    name: str  # for messages: "this chat" or "@channel"
    chat: Chat
    resumed: bool  # delivery had suspended it; this command resumed it
    elsewhere: bool = False  # a channel configured from a private chat

    @property
    def language(self) -> str:
        return self.chat.language


def _args(context: PaperboyContext) -> list[str]:
    return list(context.args or [])


async def reply(message: Message, html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the same chat. A flood-limited group gets the answer after the wait Telegram
    asks for (once, if short) rather than no answer at all."""
    for attempt in (1, 2):
        try:
            await message.reply_html(html, reply_markup=markup, link_preview_options=NO_PREVIEW)
            return
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            if attempt == 2 or seconds > MAX_REPLY_WAIT:
                raise
            await asyncio.sleep(seconds)


async def reply_rich(
    message: Message, text: Rich, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer with rich text, split between lines into as many messages as it needs; the
    buttons go with the last one."""
    parts = to_messages(text)
    for i, html in enumerate(parts):
        await reply(message, html, markup if i == len(parts) - 1 else None)


def _channel_ref(args: list[str]) -> str | None:
    if args and (args[0].startswith("@") or re.fullmatch(r"-100[0-9]{5,15}", args[0])):
        return args[0]
    return None


async def target_of(
    update: Update, context: PaperboyContext, *, change: bool
) -> tuple[Target, list[str]]:
    """Resolve which chat the command is about and check the sender may act on it.

    Returns the target and the remaining arguments (a leading @channel is consumed).
    """
    message = update.effective_message
    assert message is not None
    args = _args(context)
    ref = _channel_ref(args)
    chats = context.core.chats
    if ref is not None:
        if message.chat.type != ChatType.PRIVATE:
            raise NotAllowed("Configure channels from a private chat with me.")
        user = message.from_user
        assert user is not None
        channel = await resolve_channel(context.bot, ref, user.id)
        key = chat_key(channel.id)
        entered = await chats.enter(ChatRef(key, chat_kind(channel), channel.title))
        name = f"@{channel.username}" if channel.username else (channel.title or ref)
        target = Target(key, channel.id, name, entered.chat, entered.resumed, elsewhere=True)
        return target, args[1:]
    if change:
        await require_group_admin(context.bot, message)
    tg_chat = message.chat
    key = chat_key(tg_chat.id)
    entered = await chats.enter(ChatRef(key, chat_kind(tg_chat), tg_chat.title))
    name = "本聊天" if replies.is_zh(entered.chat.language) else "this chat"
    return Target(key, tg_chat.id, name, entered.chat, entered.resumed), args


def _where(target: Target) -> str | None:
    """How replies name a channel configured from a private chat (None: the chat itself)."""
    return target.name if target.elsewhere else None


# -- basics ---------------------------------------------------------------------------------


async def start(update: Update, context: PaperboyContext) -> None:
    """/start — welcome, with one example that works as typed."""
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=False)
    await reply_rich(message, replies.welcome(target.language, SYNTAX, resumed=target.resumed))


async def help_command(update: Update, context: PaperboyContext) -> None:
    """/help — the query language and commands on one screen."""
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=False)
    lang = "zh" if replies.is_zh(target.language) else "en"
    await reply_rich(message, replies.help_text(lang, _USAGE[lang], notes=_NOTES[lang]))


# -- topics ---------------------------------------------------------------------------------


async def subscribe(update: Update, context: PaperboyContext) -> None:
    """/subscribe <query> — follow a topic; says how it was understood."""
    message = update.effective_message
    assert message is not None
    target, args = await target_of(update, context, change=True)
    text = " ".join(args).strip()
    if not text:
        await reply_rich(message, replies.need_query(target.language, SYNTAX))
        return
    user = message.from_user
    result = await context.core.chats.subscribe(
        target.chat, text, by=str(user.id) if user else None
    )
    if not result.created:
        answer = replies.already_following(target.language, result.subscription, _where(target))
    else:
        answer = replies.subscribed(
            target.chat,
            result.subscription,
            description=result.description,
            recent_matches=result.recent_matches,
            recent_from=result.recent_from,
            recent_to=result.recent_to,
            where=_where(target),
            warnings=query_warnings(text),
        )
    await reply_rich(message, answer)


async def unsubscribe(update: Update, context: PaperboyContext) -> None:
    """/unsubscribe [number] — remove a topic, by number or with a button."""
    message = update.effective_message
    assert message is not None
    target, args = await target_of(update, context, change=True)
    chats = context.core.chats
    if args:
        sub = await chats.unsubscribe(target.key, args[0])
        await reply_rich(message, replies.removed(target.language, sub))
        return
    subs = await chats.subscriptions(target.key)
    if not subs:
        await reply_rich(message, replies.no_topics(target.language, SYNTAX))
        return
    buttons = [
        [
            InlineKeyboardButton(
                f"❌ {s.number}. {s.query[:40]}", callback_data=f"u|{target.chat_id}|{s.id}"
            )
        ]
        for s in subs[:MAX_TOPIC_BUTTONS]
    ]
    await reply_rich(message, replies.which_topic(target.language), InlineKeyboardMarkup(buttons))


async def list_topics(update: Update, context: PaperboyContext) -> None:
    """/list — this chat's topics and settings."""
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=False)
    subs = await context.core.chats.subscriptions(target.key)
    if not subs:
        await reply_rich(message, replies.no_topics(target.language, SYNTAX))
        return
    await reply_rich(message, replies.topic_list(target.chat, subs, target.name))


async def pause(update: Update, context: PaperboyContext) -> None:
    """/pause [number] — stop digests of the chat, or of one topic."""
    await _set_paused(update, context, True)


async def resume(update: Update, context: PaperboyContext) -> None:
    """/resume [number] — restart digests."""
    await _set_paused(update, context, False)


async def _set_paused(update: Update, context: PaperboyContext, paused: bool) -> None:
    message = update.effective_message
    assert message is not None
    target, args = await target_of(update, context, change=True)
    result = await context.core.chats.set_paused(target.key, paused, args[0] if args else None)
    sub = result.subscription
    what = replies.topic_label(target.language, sub.number) if sub else target.name
    await reply_rich(message, replies.paused(target.language, paused=paused, what=what))


# -- settings -------------------------------------------------------------------------------

_USAGE_EXAMPLES = (
    "/settings tz Europe/Berlin",
    "/settings time 08:30",
    "/settings lang ja",
    "/settings empty on",
)


def settings_keyboard(chat: Chat, chat_id: int) -> InlineKeyboardMarkup:
    """A row of buttons per setting with few values; the current value is marked."""
    rows: list[list[InlineKeyboardButton]] = []
    for name in SettingName:
        options = choices(name)
        if not options:
            continue
        current = current_value(chat, name)
        if name is SettingName.EMPTY:  # one toggle reads better than two buttons
            other = "off" if chat.send_empty else "on"
            label = "Empty days: " + ("noted" if chat.send_empty else "silent")
            data = f"s|{chat_id}|{name.value}|{other}"
            rows.append([InlineKeyboardButton(label, callback_data=data)])
            continue
        rows.append(
            [
                InlineKeyboardButton(
                    ("• " if c.value == current else "") + c.label,
                    callback_data=f"s|{chat_id}|{name.value}|{c.value}",
                )
                for c in options
            ]
        )
    return InlineKeyboardMarkup(rows)


async def settings(update: Update, context: PaperboyContext) -> None:
    """/settings [setting value] — language, delivery time and zone, detail, papers per digest."""
    message = update.effective_message
    assert message is not None
    args = _args(context)
    rest = args[1:] if _channel_ref(args) else args
    target, rest = await target_of(update, context, change=bool(rest))
    chat = target.chat
    if rest:
        parse_setting_name(rest[0])  # an unknown setting name is explained first
        if len(rest) < 2:
            raise InvalidSetting(SETTINGS_USAGE)
        chat = await context.core.chats.change_setting(target.key, rest[0], " ".join(rest[1:]))
    await reply_rich(
        message,
        replies.settings_summary(chat, target.name, usage=_USAGE_EXAMPLES),
        settings_keyboard(chat, target.chat_id),
    )


# -- papers and digests ---------------------------------------------------------------------


async def paper(update: Update, context: PaperboyContext) -> None:
    """/paper <id> — a paper's card (after its first figure), with PDF, code and details one
    tap away."""
    message = update.effective_message
    assert message is not None
    target, args = await target_of(update, context, change=False)
    if not args:
        await reply_rich(message, replies.need_paper_id(target.language, SYNTAX))
        return
    full = len(args) > 1 and args[-1].casefold() in {"full", "完整"}
    id_text = " ".join(args[:-1] if full else args)
    if full:
        context.core.review_quota.take(target.key)  # before any work: a clear "not now"
    await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    found, summary = await context.core.paperboy.paper(id_text, language=target.language)
    card = render_paper_card(found, summary, language=target.language)
    await send_first_figure(
        context.bot, message.chat.id, context.core, found, language=target.language
    )
    await reply(message, card.text, to_reply_markup(card.buttons))
    if full:
        await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        review = await context.core.reviews.review(found, None, target.language)
        for html in render_review(review, language=target.language):
            await reply(message, html)


async def digest_now(update: Update, context: PaperboyContext) -> None:
    """/digest — this chat's latest digest, now (administrators only, in groups).

    The digests go through the outbox like scheduled ones: flood control, exactly once, and
    the scheduled delivery of the same digest does not repeat them.
    """
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=True)
    await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    result = await context.core.chats.digest_now(target.key)
    lang = target.language
    if result.topics == 0:
        await reply_rich(message, replies.no_active_topics(lang, SYNTAX))
    elif result.no_listing:
        await reply_rich(message, replies.no_listing_yet(lang))
    elif result.queued_for_later or _where(target) is not None:
        # The digests themselves answer a /digest in this chat; say something only when they
        # went elsewhere (a channel) or are still on their way.
        await reply_rich(
            message,
            replies.digest_posted(
                lang,
                topics=result.topics,
                messages=result.messages_sent,
                queued=result.queued_for_later,
            ),
        )


# -- buttons --------------------------------------------------------------------------------


async def _send_review(query: CallbackQuery, context: PaperboyContext, paper_id: str) -> None:
    """The "Full review" button: the review goes to whoever tapped, privately, like details;
    the hourly quota counts against the chat the button was in."""
    core = context.core
    where = query.message.chat.id if query.message is not None else query.from_user.id
    language = "en"
    known = await core.chats.get(chat_key(where))
    if known is not None:
        language = known.language
    try:
        # Can we write to this person at all? Asked before the (slow, paid) review is made.
        await context.bot.send_chat_action(query.from_user.id, ChatAction.TYPING)
    except (Forbidden, BadRequest):
        await query.answer(
            "I can't write to you privately yet: open a chat with me, press Start, then tap again.",
            show_alert=True,
        )
        return
    try:
        core.review_quota.take(chat_key(where))
    except UserError as exc:
        await query.answer(str(exc)[:190], show_alert=True)
        return
    await query.answer()
    found = await core.paperboy.lookup(paper_id)
    review = await core.reviews.review(found, None, language)
    for html in render_review(review, language=language):
        await send_message(context.bot, query.from_user.id, OutMessage(html))


async def on_button(update: Update, context: PaperboyContext) -> None:
    """Inline buttons: paper details, unsubscribe, settings."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    core = context.core
    review_id = parse_review_callback(data)
    if review_id is not None:
        await _send_review(query, context, review_id)
        return
    paper_id = parse_details_callback(data)
    if paper_id is not None:
        await query.answer()
        chat_language = "en"
        if query.message is not None:
            known = await core.chats.get(chat_key(query.message.chat.id))
            chat_language = known.language if known else "en"
        found, summary = await core.paperboy.paper(paper_id, language=chat_language)
        details = render_paper_details(found, summary, language=chat_language)
        # Details go to whoever tapped, privately when the button is in a channel or group,
        # so a channel is not filled with one reader's requests.
        to = query.from_user.id
        if query.message is not None and query.message.chat.type == ChatType.PRIVATE:
            to = query.message.chat.id
        await send_first_figure(context.bot, to, core, found, language=chat_language)
        await send_message(context.bot, to, details)
        return
    parts = data.split("|")
    if len(parts) < 3 or parts[0] not in {"u", "s"} or not re.fullmatch(r"-?[0-9]{1,20}", parts[1]):
        await query.answer("This button is no longer valid.")
        return
    chat_id = int(parts[1])
    key = chat_key(chat_id)
    user_id = query.from_user.id
    if chat_id != user_id:  # not the user's own private chat: administrators only
        try:
            await require_admin_of(context.bot, chat_id, user_id, what="this chat")
        except NotAllowed as exc:
            await query.answer(str(exc), show_alert=True)
            return
    chat = await core.chats.get(key)
    if chat is None:
        await query.answer("This chat has no settings yet.")
        return
    if parts[0] == "u":
        if not re.fullmatch(r"[0-9]{1,12}", parts[2]):
            await query.answer("This button is no longer valid.")
            return
        try:
            sub = await core.chats.unsubscribe_id(key, int(parts[2]))
        except UserError as exc:
            await query.answer(str(exc))
            return
        await query.answer("Removed.")
        await query.edit_message_text(
            to_messages(replies.removed(chat.language, sub))[0], parse_mode=ParseMode.HTML
        )
        return
    if len(parts) != 4:
        await query.answer("This button is no longer valid.")
        return
    try:
        chat = await core.chats.change_setting(key, parts[2], parts[3])
    except UserError as exc:
        await query.answer(str(exc)[:190], show_alert=True)
        return
    await query.answer("Saved.")
    here = query.message is not None and chat_id == query.message.chat.id
    name = "this chat" if here else (chat.title or "the channel")
    await query.edit_message_text(
        to_messages(replies.settings_summary(chat, name, usage=_USAGE_EXAMPLES))[0],
        parse_mode=ParseMode.HTML,
        reply_markup=settings_keyboard(chat, chat_id),
    )
