"""Chats and their subscriptions: what every frontend's commands do, platform-free.

Frontends pass a chat key (``telegram:123``, ``discord:456``) and what the person typed, and
render the results or the `UserError`s raised here. The rules live here so that every platform
gets them alike: a chat is registered on first contact, and a chat that delivery suspended
(blocked, no access) is resumed when someone uses a command there; `/subscribe` looks at the
feeds first so its preview counts today's listing; `/digest` goes through the outbox; settings
are parsed by one vocabulary (`bot.chat_settings`). Who may change a chat (Telegram's
administrators, Discord's Manage Channels) is decided by the frontend, before it calls in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.chat_settings import apply_setting, parse_setting_name, parse_topic_number
from bot.cycle import DigestCycle, DigestNow
from bot.errors import UserError
from bot.models import Chat, ChatKind, Subscription
from bot.query import parse_query
from bot.service import Paperboy
from storage import Storage

MAX_SUBSCRIPTIONS = 25  # per chat: a digest per topic, so more would flood the chat
PREVIEW_DAYS = 7


class NoSuchSubscription(UserError):
    pass


class TooManySubscriptions(UserError):
    pass


class ChatPaused(UserError):
    pass


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat as a frontend knows it when a command arrives."""

    key: str
    kind: ChatKind
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Entered:
    chat: Chat
    resumed: bool  # delivery had suspended the chat; this command showed it is reachable


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    subscription: Subscription
    created: bool  # False: the chat already had this topic
    description: str  # how the query was understood
    recent_matches: int  # papers it would have matched in the recent listings
    recent_from: date | None  # the span of listings counted
    recent_to: date | None


@dataclass(frozen=True, slots=True)
class PauseResult:
    chat: Chat
    subscription: Subscription | None  # the topic paused or resumed; None: the whole chat


class ChatService:
    """Subscriptions and settings of chats, on top of storage, the digests and the cycle."""

    def __init__(
        self,
        storage: Storage,
        paperboy: Paperboy,
        cycle: DigestCycle,
        *,
        default_language: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._storage = storage
        self._paperboy = paperboy
        self._cycle = cycle
        self._default_language = default_language
        self._clock = clock

    async def enter(self, ref: ChatRef) -> Entered:
        """Call when a command arrives: the chat, registered on first contact with default
        settings. A chat that delivery suspended is resumed, since someone just reached the bot
        from it (a user who unblocked it, a channel that gave access back)."""
        store = self._storage.chats
        now = self._clock()
        chat = await store.ensure_chat(
            ref.key, ref.kind, ref.title, now=now, language=self._default_language
        )
        if not (chat.paused and chat.paused_reason):
            return Entered(chat, resumed=False)
        resumed = await store.resume_suspended([ref.key], now=now)
        chat = await store.get_chat(ref.key) or chat
        return Entered(chat, resumed=bool(resumed))

    async def get(self, key: str) -> Chat | None:
        return await self._storage.chats.get_chat(key)

    async def subscriptions(self, chat_key: str) -> list[Subscription]:
        return await self._storage.chats.list_subscriptions(chat_key)

    async def subscribe(self, chat: Chat, query_text: str, *, by: str | None) -> SubscribeResult:
        """Follow a topic. The query is parsed first (`InvalidQuery` says what is wrong, and
        where); the preview counts stored listings, brought up to date first (a no-op when
        they are current)."""
        query = parse_query(query_text)
        store = self._storage.chats
        existing = await store.list_subscriptions(chat.key)
        now = self._clock()
        topic_id = await self._storage.digests.topic_id(query.canonical, query.text, now=now)
        if len(existing) >= MAX_SUBSCRIPTIONS and topic_id not in {
            await store.subscription_topic(s.id) for s in existing
        }:
            raise TooManySubscriptions(
                f"This chat already follows {len(existing)} topics, the most I keep per chat. "
                "Remove one with /unsubscribe first."
            )
        subscription, created = await store.add_subscription(
            chat.key, topic_id, query.text, created_by=by, now=now
        )
        if not created:
            return SubscribeResult(subscription, False, query.describe(), 0, None, None)
        with contextlib.suppress(Exception):  # the preview is a courtesy; the topic is stored
            await self._paperboy.refresh()
        count, first, last = await self._paperboy.digests.count_recent(query, days=PREVIEW_DAYS)
        return SubscribeResult(subscription, True, query.describe(), count, first, last)

    async def _by_number(self, chat_key: str, number_text: str) -> Subscription:
        number = parse_topic_number(number_text)
        subs = await self._storage.chats.list_subscriptions(chat_key)
        for sub in subs:
            if sub.number == number:
                return sub
        if not subs:
            raise NoSuchSubscription("This chat has no topics yet. Add one with /subscribe.")
        raise NoSuchSubscription(
            f"There is no topic number {number}; this chat has {len(subs)} "
            f"(1–{len(subs)}). See /list."
        )

    async def unsubscribe(self, chat_key: str, number: str) -> Subscription:
        """Remove a topic by its number as typed (``3``, ``#3``, ``３``)."""
        sub = await self._by_number(chat_key, number)
        await self._storage.chats.delete_subscription(sub.id)
        return sub

    async def unsubscribe_id(self, chat_key: str, subscription_id: int) -> Subscription:
        """Unsubscribe by id (a button press); the id must belong to this chat."""
        for sub in await self._storage.chats.list_subscriptions(chat_key):
            if sub.id == subscription_id:
                await self._storage.chats.delete_subscription(sub.id)
                return sub
        raise NoSuchSubscription("That topic was already removed.")

    async def set_paused(
        self, chat_key: str, paused: bool, number: str | None = None
    ) -> PauseResult:
        """Pause or resume a whole chat, or one of its topics by number."""
        store = self._storage.chats
        if number is not None and number.strip():
            sub = await self._by_number(chat_key, number)
            await store.set_subscription_paused(sub.id, paused)
            chat = await store.get_chat(chat_key)
            if chat is None:
                raise KeyError(chat_key)
            return PauseResult(chat, sub)
        chat = await store.set_paused(chat_key, paused, reason=None, now=self._clock())
        return PauseResult(chat, None)

    async def change_setting(self, chat_key: str, name: str, value: str) -> Chat:
        """Change one setting, named and valued as people type them (`InvalidSetting`)."""
        chat = await self._storage.chats.get_chat(chat_key)
        if chat is None:
            raise KeyError(chat_key)
        changed = apply_setting(chat, parse_setting_name(name), value)
        return await self._storage.chats.save_settings(changed, now=self._clock())

    async def digest_now(self, chat_key: str) -> DigestNow:
        """The chat's latest digest of every active topic, delivered now through the outbox."""
        chat = await self._storage.chats.get_chat(chat_key)
        if chat is None:
            raise KeyError(chat_key)
        if chat.paused:
            raise ChatPaused("Digests are paused here. /resume turns them on again.")
        subs = [s for s in await self._storage.chats.list_subscriptions(chat_key) if not s.paused]
        if not subs:
            return DigestNow(topics=0)
        return await self._cycle.deliver_now(chat, subs)

    async def regained_access(self, keys: Sequence[str]) -> list[str]:
        """The platform says the bot may post in these chats again: resume those delivery had
        suspended (not those a person paused). Returns the keys resumed."""
        if not keys:
            return []
        return await self._storage.chats.resume_suspended(keys, now=self._clock())

    async def suspended(self, platform: str) -> list[str]:
        """Keys of `platform`'s chats that delivery suspended."""
        return await self._storage.chats.suspended_chats(f"{platform}:")

    async def suspend(self, chat_key: str, reason: str) -> None:
        """Stop delivering to a chat the platform says we cannot reach (blocked, kicked)."""
        await self._storage.chats.set_paused(chat_key, True, reason=reason, now=self._clock())
