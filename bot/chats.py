"""Chats and their subscriptions: what `/subscribe`, `/list`, `/pause` and `/settings` do.

Platform-free: frontends pass a chat key (``telegram:123``) and the user's text, and render the
results or the `UserError`s raised here. Who may change a chat is decided by the frontend
(Telegram's administrators), before it calls in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.digest import DigestBuilder
from bot.errors import UserError
from bot.models import Chat, ChatKind, DetailLevel, Subscription
from bot.query import parse_query
from bot.service import normalize_language
from storage import Storage

MAX_SUBSCRIPTIONS = 25  # per chat: a digest per topic, so more would flood the chat
MAX_PAPERS_CHOICES = (3, 5, 10, 20, 30, 50)
PREVIEW_DAYS = 7


class NoSuchSubscription(UserError):
    pass


class TooManySubscriptions(UserError):
    pass


class InvalidSetting(UserError):
    pass


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    subscription: Subscription
    created: bool  # False: the chat already had this topic
    description: str  # how the query was understood
    recent_matches: int  # papers it would have matched in the recent listings
    recent_from: date | None  # the span of listings counted
    recent_to: date | None


_TZ_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "beijing": "Asia/Shanghai",
    "shanghai": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "hong kong": "Asia/Hong_Kong",
    "taipei": "Asia/Taipei",
    "tokyo": "Asia/Tokyo",
    "seoul": "Asia/Seoul",
    "singapore": "Asia/Singapore",
    "india": "Asia/Kolkata",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "moscow": "Europe/Moscow",
    "new york": "America/New_York",
    "eastern": "America/New_York",
    "boston": "America/New_York",
    "chicago": "America/Chicago",
    "denver": "America/Denver",
    "los angeles": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "sydney": "Australia/Sydney",
}
_OFFSET_RE = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?$", re.I)


def parse_timezone(text: str) -> str:
    """``Europe/Berlin``, ``berlin``, ``UTC+8``, ``-5`` → an IANA zone name."""
    raw = " ".join(text.strip().split())
    if not raw:
        raise InvalidSetting("Give a time zone, for example Europe/Berlin, Asia/Shanghai or UTC+8.")
    alias = _TZ_ALIASES.get(raw.lower())
    if alias:
        return alias
    m = _OFFSET_RE.match(raw)
    if m:
        hours = int(m.group(2))
        if hours > 14:
            raise InvalidSetting(f"UTC{m.group(1)}{hours} is not a time zone offset.")
        if hours == 0:
            return "UTC"
        # The Etc/ zones have inverted signs: UTC+8 is Etc/GMT-8.
        return f"Etc/GMT{'-' if m.group(1) == '+' else '+'}{hours}"
    candidates = {name.lower(): name for name in available_timezones()}
    name = candidates.get(raw.lower().replace(" ", "_"))
    if name is None:
        shown = raw[:40]
        raise InvalidSetting(
            f"I don't know the time zone “{shown}”. Use a name like Europe/Berlin, "
            "America/New_York, Asia/Shanghai, or an offset like UTC+8."
        )
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:  # pragma: no cover - listed zones load
        raise InvalidSetting(f"The time zone {name} is not available here.") from None
    return name


_TIME_RE = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$", re.I)


def parse_delivery_time(text: str) -> time | None:
    """``08:30``, ``8``, ``8pm``, ``20.15`` → a time; ``auto`` → None (right after the listing)."""
    raw = text.strip().lower()
    if raw in {"auto", "asap", "default", "listing", "自动"}:
        return None
    m = _TIME_RE.match(raw)
    if m:
        hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
        if half and 1 <= hour <= 12:
            hour = hour % 12 + (12 if half == "pm" else 0)
        elif half:
            hour = 24  # "13pm" is no time
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise InvalidSetting(
        f"“{text.strip()[:20]}” is not a time. Use HH:MM in 24-hour form, for example 08:30, "
        "or 'auto' for right after arXiv's announcement."
    )


def parse_detail(text: str) -> DetailLevel:
    raw = text.strip().lower()
    aliases = {
        "titles": DetailLevel.TITLES,
        "title": DetailLevel.TITLES,
        "tldr": DetailLevel.TLDR,
        "tl;dr": DetailLevel.TLDR,
        "full": DetailLevel.FULL,
        "takeaways": DetailLevel.FULL,
    }
    if raw not in aliases:
        raise InvalidSetting("Detail is one of: titles, tldr, full (TL;DR and takeaways).")
    return aliases[raw]


def parse_max_papers(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= max(MAX_PAPERS_CHOICES):
        raise InvalidSetting(f"Papers per digest is a number from 1 to {max(MAX_PAPERS_CHOICES)}.")
    return value


def parse_language(text: str) -> str:
    """``zh``, ``Chinese``, ``中文`` → ``zh``; anything else is an `InvalidLanguage`."""
    return normalize_language(text)


class ChatService:
    """Subscriptions and settings of chats, on top of storage and the digest builder."""

    def __init__(
        self,
        storage: Storage,
        digests: DigestBuilder,
        *,
        default_language: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._storage = storage
        self._digests = digests
        self._default_language = default_language
        self._clock = clock

    async def chat(self, key: str, kind: ChatKind, title: str | None = None) -> Chat:
        """The chat with this key, registered on first contact with default settings."""
        return await self._storage.ensure_chat(
            key, kind, title, now=self._clock(), language=self._default_language
        )

    async def get(self, key: str) -> Chat | None:
        return await self._storage.get_chat(key)

    async def subscriptions(self, chat_key: str) -> list[Subscription]:
        return await self._storage.list_subscriptions(chat_key)

    async def subscribe(self, chat: Chat, query_text: str, *, by: str | None) -> SubscribeResult:
        query = parse_query(query_text)  # InvalidQuery explains what is wrong, and where
        existing = await self._storage.list_subscriptions(chat.key)
        now = self._clock()
        topic_id = await self._storage.topic_id(query.canonical, query.text, now=now)
        if len(existing) >= MAX_SUBSCRIPTIONS and topic_id not in {
            await self._storage.subscription_topic(s.id) for s in existing
        }:
            raise TooManySubscriptions(
                f"This chat already follows {len(existing)} topics, the most I keep per chat. "
                "Remove one with /unsubscribe first."
            )
        subscription, created = await self._storage.add_subscription(
            chat.key, topic_id, query.text, created_by=by, now=now
        )
        count, first, last = await self._digests.count_recent(query, days=PREVIEW_DAYS)
        return SubscribeResult(subscription, created, query.describe(), count, first, last)

    async def _by_number(self, chat_key: str, number: int) -> Subscription:
        subs = await self._storage.list_subscriptions(chat_key)
        for sub in subs:
            if sub.number == number:
                return sub
        if not subs:
            raise NoSuchSubscription("This chat has no topics yet. Add one with /subscribe.")
        raise NoSuchSubscription(
            f"There is no topic number {number}; this chat has {len(subs)} "
            f"(1–{len(subs)}). See /list."
        )

    async def unsubscribe(self, chat_key: str, number: int) -> Subscription:
        sub = await self._by_number(chat_key, number)
        await self._storage.delete_subscription(sub.id)
        return sub

    async def unsubscribe_id(self, chat_key: str, subscription_id: int) -> Subscription:
        """Unsubscribe by id (a button press); the id must belong to this chat."""
        for sub in await self._storage.list_subscriptions(chat_key):
            if sub.id == subscription_id:
                await self._storage.delete_subscription(sub.id)
                return sub
        raise NoSuchSubscription("That topic was already removed.")

    async def set_paused(self, chat_key: str, paused: bool, number: int | None = None) -> Chat:
        """Pause or resume a whole chat, or one of its topics by number."""
        if number is not None:
            sub = await self._by_number(chat_key, number)
            await self._storage.set_subscription_paused(sub.id, paused)
            chat = await self._storage.get_chat(chat_key)
            assert chat is not None
            return chat
        return await self._storage.update_chat(
            chat_key, now=self._clock(), paused=paused, paused_reason=None
        )

    async def update(self, chat_key: str, **changes: object) -> Chat:
        """Change settings; values are already parsed (see the parse_* helpers)."""
        return await self._storage.update_chat(chat_key, now=self._clock(), **changes)

    async def suspend(self, chat_key: str, reason: str) -> None:
        """Stop delivering to a chat the platform says we cannot reach (blocked, kicked)."""
        await self._storage.update_chat(
            chat_key, now=self._clock(), paused=True, paused_reason=reason
        )


def next_delivery_hint(chat: Chat) -> str:
    """``at 08:30 Europe/Berlin`` or ``right after arXiv's announcement``."""
    if chat.delivery_time is None:
        return "right after arXiv's announcement"
    return f"at {chat.delivery_time.strftime('%H:%M')} ({chat.timezone})"


def recent_span(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return "the recent listings"
    if first == last:
        return f"the listing of {last.isoformat()}"
    return f"the listings of {first.isoformat()} – {last.isoformat()}"
