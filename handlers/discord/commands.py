"""What each slash command and button does: parse the options, call the core, answer.

`slash.py` declares the commands (names, options, descriptions, permissions); this module is
their behaviour. Every command first registers its chat with the core (`enter`), which also
resumes a chat whose deliveries were suspended because the bot had lost access to it.

Who sees an answer: changes to a chat's topics and settings are answered publicly, so the
channel sees what changed; lists, settings overviews, help, refusals and errors are ephemeral
(only the person who asked sees them); `/paper` is public (a paper is usually shared on
purpose); `/digest` posts the digests to the channel and tells only its caller how it went.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot import replies
from bot.chat_settings import SettingName, choices, parse_setting_name
from bot.chats import ChatRef
from bot.core import Core
from bot.errors import UserError
from bot.models import Chat
from bot.query import query_warnings
from bot.rich import Rich, rich
from handlers.discord.access import (
    Place,
    WrongPlace,
    place_of,
    require_bot_can_post,
    require_manager,
)
from handlers.discord.figures import answer_with_figure
from handlers.discord.markup import shorten
from handlers.discord.render import render_paper_card, render_paper_details
from handlers.discord.respond import answer, language_of, report_error
from handlers.discord.review import render_review

log = logging.getLogger(__name__)

SYNTAX = replies.Syntax(
    subscribe_example='/subscribe query: "talking head" OR "lip sync"',
    paper_example="/paper id: 2409.03605",
    settings_example="/settings setting: tz value: Europe/Berlin",
)
MAX_CHOICES = 25  # Discord's limit for autocomplete answers
MAX_CHOICE_NAME = 100

_USAGE = (
    ("subscribe", "/subscribe query"),
    ("list", "/list"),
    ("unsubscribe", "/unsubscribe topic"),
    ("pause", "/pause [topic]"),
    ("resume", "/resume [topic]"),
    ("settings", "/settings [setting] [value]"),
    ("digest", "/digest"),
    ("paper", "/paper id"),
    ("help", "/help"),
)
_NOTES = {
    "en": (
        "In a server, digests are posted in the channel where /subscribe was used, and "
        "changing topics or settings needs the Manage Channels permission. In a direct "
        "message with me, the topics are your own."
    ),
    "zh": "在服务器中，摘要会发到使用 /subscribe 的频道，修改主题或设置需要“管理频道”权限。"
    "在与我的私信中，主题归你个人所有。",
}
_WELCOME_BACK = {
    "en": "Digests here were suspended because I could not post; they are on again.",
    "zh": "此前因无法发送，这里的推送已暂停；现已恢复。",
}
_CHANNEL_NAME = {"en": "this channel", "zh": "本频道"}
_DM_NAME = {"en": "your direct messages", "zh": "你的私信"}


def _lang_key(language: str) -> str:
    return "zh" if replies.is_zh(language) else "en"


def _name(place: Place, language: str) -> str:
    names = _CHANNEL_NAME if place.in_server else _DM_NAME
    return names[_lang_key(language)]


class Commands:
    """The behaviour of every command and button, on top of one `Core`."""

    def __init__(self, core: Core) -> None:
        self._core = core

    # -- helpers ---------------------------------------------------------------------------

    async def _enter(self, interaction: discord.Interaction[Any]) -> tuple[Place, Chat, Rich]:
        """The command's chat, registered (and resumed if delivery had suspended it)."""
        place = place_of(interaction)
        entered = await self._core.chats.enter(ChatRef(place.key, place.kind, place.title))
        note: Rich = ()
        if entered.resumed:
            note = rich("\n\n", _WELCOME_BACK[_lang_key(entered.chat.language)])
        return place, entered.chat, note

    async def _chat_if_any(self, interaction: discord.Interaction[Any]) -> Chat | None:
        """The chat for commands that also work where digests cannot go (threads)."""
        try:
            _, chat, _ = await self._enter(interaction)
        except WrongPlace:
            return None
        return chat

    # -- help ------------------------------------------------------------------------------

    async def help(self, interaction: discord.Interaction[Any]) -> None:
        chat = await self._chat_if_any(interaction)
        language = chat.language if chat else language_of(interaction)
        commands = [(usage, replies.describe_command(name, language)) for name, usage in _USAGE]
        text = replies.help_text(language, commands, notes=[_NOTES[_lang_key(language)]])
        await answer(interaction, text, ephemeral=True)

    # -- topics ----------------------------------------------------------------------------

    async def subscribe(self, interaction: discord.Interaction[Any], query: str) -> None:
        place, chat, note = await self._enter(interaction)
        require_manager(interaction, place)
        require_bot_can_post(interaction, place)
        if not query.strip():
            await answer(interaction, replies.need_query(chat.language, SYNTAX), ephemeral=True)
            return
        # Subscribing refreshes the listings first, which may take a while: defer.
        await interaction.response.defer(thinking=True)
        result = await self._core.chats.subscribe(chat, query, by=str(interaction.user.id))
        if not result.created:
            text = replies.already_following(chat.language, result.subscription)
        else:
            text = replies.subscribed(
                chat,
                result.subscription,
                description=result.description,
                recent_matches=result.recent_matches,
                recent_from=result.recent_from,
                recent_to=result.recent_to,
                warnings=query_warnings(query),
            )
        await answer(interaction, rich(text, note), ephemeral=False)

    async def unsubscribe(self, interaction: discord.Interaction[Any], topic: str) -> None:
        place, chat, note = await self._enter(interaction)
        require_manager(interaction, place)
        sub = await self._core.chats.unsubscribe(place.key, topic)
        await answer(interaction, rich(replies.removed(chat.language, sub), note), ephemeral=False)

    async def list_topics(self, interaction: discord.Interaction[Any]) -> None:
        place, chat, note = await self._enter(interaction)
        subs = await self._core.chats.subscriptions(place.key)
        if not subs:
            text = replies.no_topics(chat.language, SYNTAX)
        else:
            text = replies.topic_list(chat, subs, _name(place, chat.language))
        await answer(interaction, rich(text, note), ephemeral=True)

    async def set_paused(
        self, interaction: discord.Interaction[Any], paused: bool, topic: str | None
    ) -> None:
        place, chat, note = await self._enter(interaction)
        require_manager(interaction, place)
        result = await self._core.chats.set_paused(place.key, paused, topic or None)
        if result.subscription is not None:
            what = replies.topic_label(chat.language, result.subscription.number)
        else:
            what = _name(place, chat.language)
        text = replies.paused(chat.language, paused=paused, what=what)
        await answer(interaction, rich(text, note), ephemeral=False)

    async def topic_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """This chat's topics as "3. query", filtered by what has been typed (number or words)."""
        try:
            place = place_of(interaction)
            subs = await self._core.chats.subscriptions(place.key)
        except UserError:
            return []
        typed = current.strip().lstrip("#").casefold()
        found = []
        for sub in subs:
            label = f"{sub.number}. {sub.query}"
            if not typed or str(sub.number).startswith(typed) or typed in label.casefold():
                name = shorten(" ".join(label.split()), MAX_CHOICE_NAME)
                found.append(app_commands.Choice(name=name, value=str(sub.number)))
        return found[:MAX_CHOICES]

    # -- settings --------------------------------------------------------------------------

    async def settings(
        self, interaction: discord.Interaction[Any], setting: str | None, value: str | None
    ) -> None:
        place, chat, note = await self._enter(interaction)
        name = _name(place, chat.language)
        if value is not None and value.strip():
            require_manager(interaction, place)
            if setting is None:
                raise UserError(
                    "Choose which setting to change (lang, tz, time, detail, papers, empty), "
                    "then its value."
                )
            chat = await self._core.chats.change_setting(place.key, setting, value)
            text = replies.settings_summary(chat, name)
            await answer(interaction, rich(text, note), ephemeral=False)
            return
        usage = [SYNTAX.settings_example, "/settings setting: time value: 08:30"]
        await answer(
            interaction,
            rich(replies.settings_summary(chat, name, usage=usage), note),
            ephemeral=True,
        )

    async def value_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Values of the setting chosen in the same command: its few choices, or time zones."""
        raw = getattr(interaction.namespace, "setting", None)
        try:
            setting = parse_setting_name(str(raw)) if raw else None
        except UserError:
            setting = None
        if setting is None:
            return []
        typed = current.strip().casefold()
        offered = choices(setting)
        if offered:
            found = [
                app_commands.Choice(name=c.label, value=c.value)
                for c in offered
                if not typed or typed in c.label.casefold() or typed in c.value.casefold()
            ]
            return found[:MAX_CHOICES]
        if setting is SettingName.TIMEZONE:
            zones = sorted(z for z in available_timezones() if typed in z.casefold())
            return [app_commands.Choice(name=z, value=z) for z in zones[:MAX_CHOICES]]
        return []

    # -- papers and digests ----------------------------------------------------------------

    async def paper(
        self, interaction: discord.Interaction[Any], paper_id: str, *, full: bool = False
    ) -> None:
        # The summary may take an LLM call: acknowledge now, answer when it is ready.
        await interaction.response.defer(thinking=True)
        chat = await self._chat_if_any(interaction)
        language = chat.language if chat else language_of(interaction)
        if not paper_id.strip():
            await answer(interaction, replies.need_paper_id(language, SYNTAX), ephemeral=True)
            return
        if full:
            self._core.review_quota.take(place_of(interaction).key)
        found, summary = await self._core.paperboy.paper(paper_id, language=language)
        card = render_paper_card(found, summary, language=language)
        await answer_with_figure(interaction, self._core, found, card, ephemeral=False)
        if full:
            review = await self._core.reviews.review(found, None, language)
            for message in render_review(review, language=language):
                await answer(interaction, message, ephemeral=False)

    async def show_review(self, interaction: discord.Interaction[Any], paper_id: str) -> None:
        """The "Full review" button: the review, shown only to whoever clicked; the hourly
        quota counts against the channel (or DM) the button was in."""
        language = language_of(interaction)
        try:
            place = place_of(interaction)
            self._core.review_quota.take(place.key)
            await interaction.response.defer(ephemeral=True, thinking=True)
            known = await self._core.chats.get(place.key)
            language = known.language if known else language
            found = await self._core.paperboy.lookup(paper_id)
            review = await self._core.reviews.review(found, None, language)
            for message in render_review(review, language=language):
                await answer(interaction, message, ephemeral=True)
        except Exception as exc:  # a button has no command tree to catch for it
            await report_error(interaction, exc, language=language)

    async def digest(self, interaction: discord.Interaction[Any]) -> None:
        place, chat, note = await self._enter(interaction)
        require_manager(interaction, place)
        require_bot_can_post(interaction, place)
        # Building and posting digests takes longer than Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self._core.chats.digest_now(place.key)
        if result.no_listing:
            text = replies.no_listing_yet(chat.language)
        elif result.topics == 0:
            text = replies.no_active_topics(chat.language, SYNTAX)
        else:
            text = replies.digest_posted(
                chat.language,
                topics=result.topics,
                messages=result.messages_sent,
                queued=result.queued_for_later,
            )
        await answer(interaction, rich(text, note), ephemeral=True)

    # -- buttons ---------------------------------------------------------------------------

    async def show_details(self, interaction: discord.Interaction[Any], paper_id: str) -> None:
        """The Details button: the paper's details, shown only to whoever clicked."""
        language = language_of(interaction)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            try:
                known = await self._core.chats.get(place_of(interaction).key)
            except UserError:
                known = None
            language = known.language if known else language
            found, summary = await self._core.paperboy.paper(paper_id, language=language)
            details = render_paper_details(found, summary, language=language)
            await answer_with_figure(interaction, self._core, found, details, ephemeral=True)
        except Exception as exc:  # a button has no command tree to catch for it
            await report_error(interaction, exc, language=language)
