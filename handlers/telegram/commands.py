"""Telegram command handlers. Each parses its input, calls the core, and renders the answer.

Mistakes people make (a malformed query, an unknown id, a non-admin in a group) arrive as
`UserError`s and are answered by `reply_error`; anything else reaches the error handler in
`app.py`, which logs it and apologises.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import RetryAfter

from bot.chats import (
    MAX_PAPERS_CHOICES,
    InvalidSetting,
    next_delivery_hint,
    parse_delivery_time,
    parse_detail,
    parse_language,
    parse_max_papers,
    parse_timezone,
    recent_span,
)
from bot.digest import DigestRequest
from bot.errors import UserError
from bot.models import Chat, DetailLevel
from bot.query import parse_query
from handlers.telegram.access import (
    NotAllowed,
    chat_kind,
    require_admin_of,
    require_group_admin,
    resolve_channel,
)
from handlers.telegram.context import PaperboyContext, chat_key
from handlers.telegram.delivery import NO_PREVIEW, TelegramRenderer, send_message
from handlers.telegram.render import (
    escape,
    parse_details_callback,
    render_paper_card,
    render_paper_details,
    to_reply_markup,
)

EXAMPLE = '/subscribe "talking head" OR "lip sync"'
MAX_REPLY_WAIT = 10.0  # seconds a command reply may wait for Telegram's flood limit

HELP = f"""<b>Paperboy</b> sends a digest of new arXiv papers for each topic you follow.

<b>Topics</b>
/subscribe <i>query</i> — follow a topic, e.g. <code>{escape(EXAMPLE)}</code>
/list — topics of this chat · /unsubscribe — remove one
/pause, /resume — stop or restart digests (add a number for one topic)
/settings — language, time, time zone, detail, papers per digest
/digest — this chat's latest digest now
/paper <i>id</i> — one paper, e.g. <code>/paper 2409.03605</code>

<b>Query language</b>
<code>talking head</code> — both words, in title or abstract (plurals and hyphens count)
<code>"talking head"</code> — the exact phrase
<code>a OR b</code>, <code>a AND b</code>, <code>-word</code> or <code>NOT word</code>, \
<code>( )</code>
<code>talk*</code> — words starting with talk
<code>ti:</code> title · <code>abs:</code> abstract · <code>au:hinton</code> author · \
<code>cat:cs.CV</code>, <code>cat:cs.*</code>

<b>Channels</b>: from a private chat with me, put the channel first:
<code>/subscribe @yourchannel diffusion</code> \
(also /list, /unsubscribe, /pause, /resume, /settings, /digest)
In groups only administrators change topics and settings."""


@dataclass(frozen=True)
class Target:
    """The chat a command acts on: the current chat, or a channel named in a private chat."""

    key: str
    chat_id: int
    name: str  # for messages: "this chat" or "@channel"
    chat: Chat


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


async def reply_error(message: Message, error: UserError) -> None:
    # Errors quote user input; as <pre> they keep the caret under the right character.
    text = str(error)
    if "\n" in text:
        first, rest = text.split("\n", 1)
        await reply(message, f"{escape(first)}\n<pre>{escape(rest)}</pre>")
    else:
        await reply(message, escape(text))


def _channel_ref(args: list[str]) -> str | None:
    if args and (args[0].startswith("@") or re.fullmatch(r"-100\d{5,}", args[0])):
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
    services = context.services
    if ref is not None:
        if message.chat.type != ChatType.PRIVATE:
            raise NotAllowed("Configure channels from a private chat with me.")
        user = message.from_user
        assert user is not None
        channel = await resolve_channel(context.bot, ref, user.id)
        key = chat_key(channel.id)
        chat = await services.chats.chat(key, chat_kind(channel), channel.title)
        name = f"@{channel.username}" if channel.username else (channel.title or ref)
        return Target(key, channel.id, name, chat), args[1:]
    if change:
        await require_group_admin(context.bot, message)
    tg_chat = message.chat
    key = chat_key(tg_chat.id)
    chat = await services.chats.chat(key, chat_kind(tg_chat), tg_chat.title)
    return Target(key, tg_chat.id, "this chat", chat), args


# -- basics ---------------------------------------------------------------------------------


async def start(update: Update, context: PaperboyContext) -> None:
    """/start — welcome, with one example that works as typed."""
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=False)
    resumed = ""
    if target.chat.paused and target.chat.paused_reason and message.chat.type == ChatType.PRIVATE:
        # The user blocked the bot, which suspended delivery; talking to it again undoes that.
        await context.services.chats.set_paused(target.key, False)
        resumed = "\n\nWelcome back: your digests are on again."
    await reply(
        message,
        "👋 I send you new arXiv papers on the topics you follow, summarised, every "
        "announcement day.\n\nTry:\n"
        f"<code>{escape(EXAMPLE)}</code>\n\n/help shows the query language and all commands."
        + resumed,
    )


async def help_command(update: Update, context: PaperboyContext) -> None:
    """/help — the query language and commands on one screen."""
    message = update.effective_message
    assert message is not None
    await reply(message, HELP)


# -- topics ---------------------------------------------------------------------------------


async def subscribe(update: Update, context: PaperboyContext) -> None:
    """/subscribe <query> — follow a topic; says how it was understood."""
    message = update.effective_message
    assert message is not None
    target, args = await target_of(update, context, change=True)
    text = " ".join(args).strip()
    if not text:
        await reply(
            message,
            f"Tell me the topic after the command, for example:\n<code>{escape(EXAMPLE)}</code>"
            "\n\n/help explains the query language.",
        )
        return
    user = message.from_user
    # The preview counts stored listings; bring them up to date first (a no-op when current).
    await context.services.paperboy.refresh()
    result = await context.services.chats.subscribe(
        target.chat, text, by=str(user.id) if user else None
    )
    sub = result.subscription
    where = "" if target.name == "this chat" else f" for {escape(target.name)}"
    if not result.created:
        await reply(message, f"Already following #{sub.number}{where}: <b>{escape(sub.query)}</b>")
        return
    preview = (
        f"It would have matched <b>{result.recent_matches}</b> paper"
        f"{'s' if result.recent_matches != 1 else ''} in "
        f"{recent_span(result.recent_from, result.recent_to)}."
    )
    await reply(
        message,
        f"✅ Subscribed{where} (#{sub.number}): <b>{escape(sub.query)}</b>\n"
        f"Understood as: {escape(result.description)}\n{preview}\n\n"
        f"Digests arrive {escape(next_delivery_hint(target.chat))} on announcement days; "
        "the latest one comes shortly. /settings changes when and how.",
    )


def _parse_number(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit() or not 0 < int(cleaned) < 10_000:
        raise InvalidSetting(f"“{text[:20]}” is not a topic number. /list shows the numbers.")
    return int(cleaned)


async def unsubscribe(update: Update, context: PaperboyContext) -> None:
    """/unsubscribe [number] — remove a topic, by number or with a button."""
    message = update.effective_message
    assert message is not None
    target, args = await target_of(update, context, change=True)
    chats = context.services.chats
    if args:
        sub = await chats.unsubscribe(target.key, _parse_number(args[0]))
        await reply(message, f"Removed #{sub.number}: <b>{escape(sub.query)}</b>")
        return
    subs = await chats.subscriptions(target.key)
    if not subs:
        await reply(message, f"No topics yet. Add one with <code>{escape(EXAMPLE)}</code>")
        return
    buttons = [
        [
            InlineKeyboardButton(
                f"❌ {s.number}. {s.query[:40]}", callback_data=f"u|{target.chat_id}|{s.id}"
            )
        ]
        for s in subs[:50]
    ]
    await reply(message, "Which topic should go?", InlineKeyboardMarkup(buttons))


async def list_topics(update: Update, context: PaperboyContext) -> None:
    """/list — this chat's topics and settings."""
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=False)
    subs = await context.services.chats.subscriptions(target.key)
    chat = target.chat
    if not subs:
        await reply(message, f"No topics yet. Add one with <code>{escape(EXAMPLE)}</code>")
        return
    lines = [f"<b>Topics of {escape(target.name)}</b>"]
    for s in subs:
        paused = " <i>(paused)</i>" if s.paused else ""
        lines.append(f"{s.number}. {escape(s.query)}{paused}")
    state = "⏸ paused — /resume to restart" if chat.paused else (
        f"Digests {escape(next_delivery_hint(chat))}, {chat.detail.value}, "
        f"up to {chat.max_papers} papers, in {escape(chat.language)}."
    )  # fmt: skip
    lines += ["", state]
    await reply(message, "\n".join(lines))


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
    number = _parse_number(args[0]) if args else None
    await context.services.chats.set_paused(target.key, paused, number)
    what = f"topic #{number}" if number else escape(target.name)
    await reply(message, f"{'⏸ Paused' if paused else '▶️ Resumed'} digests for {what}.")


# -- settings -------------------------------------------------------------------------------

_SETTING_PARSERS = {
    "lang": ("language", parse_language),
    "language": ("language", parse_language),
    "tz": ("timezone", parse_timezone),
    "timezone": ("timezone", parse_timezone),
    "zone": ("timezone", parse_timezone),
    "time": ("delivery_time", parse_delivery_time),
    "detail": ("detail", parse_detail),
    "papers": ("max_papers", parse_max_papers),
    "max": ("max_papers", parse_max_papers),
    "empty": ("send_empty", lambda v: _parse_bool(v)),
}


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"on", "yes", "true", "1"}:
        return True
    if value in {"off", "no", "false", "0"}:
        return False
    raise InvalidSetting("Use on or off.")


def settings_text(chat: Chat, name: str) -> str:
    time_text = chat.delivery_time.strftime("%H:%M") if chat.delivery_time else "auto"
    return (
        f"<b>Settings of {escape(name)}</b>\n"
        f"Language: <b>{escape(chat.language)}</b>\n"
        f"Delivery: <b>{escape(time_text)}</b> ({escape(chat.timezone)})\n"
        f"Detail: <b>{chat.detail.value}</b> · Papers per digest: <b>{chat.max_papers}</b>\n"
        f"Empty days: <b>{'noted' if chat.send_empty else 'silent'}</b>\n\n"
        "Tap below, or type for example:\n"
        "<code>/settings tz Europe/Berlin</code> · <code>/settings time 08:30</code> · "
        "<code>/settings lang ja</code> · <code>/settings empty on</code>"
    )


def settings_keyboard(chat: Chat, chat_id: int) -> InlineKeyboardMarkup:
    def button(label: str, field: str, value: str, current: bool) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            ("• " if current else "") + label, callback_data=f"s|{chat_id}|{field}|{value}"
        )

    now = chat.delivery_time.strftime("%H:%M") if chat.delivery_time else "auto"
    rows = [
        [button(lbl, "lang", code, chat.language == code)
         for lbl, code in (("English", "en"), ("中文", "zh"))],
        [button(lbl, "detail", lvl.value, chat.detail is lvl)
         for lbl, lvl in (("Titles", DetailLevel.TITLES), ("TL;DR", DetailLevel.TLDR),
                          ("Full", DetailLevel.FULL))],
        [button(str(n), "papers", str(n), chat.max_papers == n) for n in MAX_PAPERS_CHOICES],
        [button(t, "time", t, now == t) for t in ("auto", "07:00", "08:00", "09:00", "18:00")],
        [button("Empty days: " + ("noted" if chat.send_empty else "silent"), "empty",
                "off" if chat.send_empty else "on", False)],
    ]  # fmt: skip
    return InlineKeyboardMarkup(rows)


async def settings(update: Update, context: PaperboyContext) -> None:
    """/settings [field value] — language, delivery time and zone, detail, papers per digest."""
    message = update.effective_message
    assert message is not None
    args = _args(context)
    rest = args[1:] if _channel_ref(args) else args
    target, rest = await target_of(update, context, change=bool(rest))
    chat = target.chat
    if rest:
        field = rest[0].lower()
        if field not in _SETTING_PARSERS or len(rest) < 2:
            raise InvalidSetting(
                "Use /settings followed by one of: lang, tz, time, detail, papers, empty, and a "
                "value — for example /settings tz Europe/Berlin."
            )
        column, parse = _SETTING_PARSERS[field]
        chat = await context.services.chats.update(
            target.key, **{column: parse(" ".join(rest[1:]))}
        )
    await reply(message, settings_text(chat, target.name), settings_keyboard(chat, target.chat_id))


# -- papers and digests ---------------------------------------------------------------------


async def paper(update: Update, context: PaperboyContext) -> None:
    """/paper <id> — a paper's card, with PDF, code and details one tap away."""
    message = update.effective_message
    assert message is not None
    args = _args(context)
    if not args:
        await reply(message, "Which paper? For example <code>/paper 2409.03605</code>.")
        return
    await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    target, _ = await target_of(update, context, change=False)
    found, summary = await context.services.paperboy.paper(
        " ".join(args), language=target.chat.language
    )
    card = render_paper_card(found, summary, language=target.chat.language)
    await reply(message, card.text, to_reply_markup(card.buttons))


async def digest_now(update: Update, context: PaperboyContext) -> None:
    """/digest — this chat's latest digest, now (administrators only, in groups)."""
    message = update.effective_message
    assert message is not None
    target, _ = await target_of(update, context, change=True)
    services = context.services
    subs = [s for s in await services.chats.subscriptions(target.key) if not s.paused]
    if not subs:
        await reply(message, f"No active topics. Add one with <code>{escape(EXAMPLE)}</code>")
        return
    await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    app = services.paperboy
    await app.refresh(force=True)  # someone asked now: look at the feeds unless just done
    chat = target.chat
    digests = await app.digests.latest_many(
        [DigestRequest(target.key, parse_query(s.query), None, chat.max_papers) for s in subs],
        max_papers=app.settings.digest_max_papers,
    )
    if digests and digests[0].through is None:
        await reply(message, "No arXiv listing is stored yet and arXiv is not answering. "
                    "Please try again in a few minutes.")  # fmt: skip
        return
    renderer = TelegramRenderer()
    for sub, digest in zip(subs, digests, strict=True):
        # Recorded as sent, so the scheduled delivery of the same digest does not repeat it.
        await app.storage.enqueue_delivery(
            target.key, sub.id, digest.id, now=app.now(), status="sent"
        )
        papers = [e.paper for e in digest.new_entries]
        summaries = await app.summarizer.summarize_many(papers, chat.language)
        for out in renderer.render(chat, replace(digest, summaries=summaries)):
            await send_message(context.bot, target.chat_id, out)


# -- buttons --------------------------------------------------------------------------------


async def on_button(update: Update, context: PaperboyContext) -> None:
    """Inline buttons: paper details, unsubscribe, settings."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    services = context.services
    paper_id = parse_details_callback(data)
    if paper_id is not None:
        await query.answer()
        chat_language = "en"
        if query.message is not None:
            known = await services.chats.get(chat_key(query.message.chat.id))
            chat_language = known.language if known else "en"
        found, summary = await services.paperboy.paper(paper_id, language=chat_language)
        details = render_paper_details(found, summary, language=chat_language)
        # Details go to whoever tapped, privately when the button is in a channel or group,
        # so a channel is not filled with one reader's requests.
        to = query.from_user.id
        if query.message is not None and query.message.chat.type == ChatType.PRIVATE:
            to = query.message.chat.id
        await send_message(context.bot, to, details)
        return
    parts = data.split("|")
    if len(parts) < 3 or parts[0] not in {"u", "s"} or not parts[1].lstrip("-").isdigit():
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
    chat = await services.chats.get(key)
    if chat is None:
        await query.answer("This chat has no settings yet.")
        return
    if parts[0] == "u":
        try:
            sub = await services.chats.unsubscribe_id(key, int(parts[2]))
        except UserError as exc:
            await query.answer(str(exc))
            return
        await query.answer("Removed.")
        await query.edit_message_text(
            f"Removed: <b>{escape(sub.query)}</b>", parse_mode=ParseMode.HTML
        )
        return
    if len(parts) != 4 or parts[2] not in _SETTING_PARSERS:
        await query.answer("This button is no longer valid.")
        return
    column, parse = _SETTING_PARSERS[parts[2]]
    try:
        chat = await services.chats.update(key, **{column: parse(parts[3])})
    except UserError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    await query.answer("Saved.")
    name = "this chat" if chat_id == (query.message.chat.id if query.message else None) else (
        chat.title or "the channel"
    )  # fmt: skip
    await query.edit_message_text(
        settings_text(chat, name),
        parse_mode=ParseMode.HTML,
        reply_markup=settings_keyboard(chat, chat_id),
    )
