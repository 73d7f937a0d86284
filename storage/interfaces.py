"""What the core needs from storage, as typed interfaces (Protocols) and their values.

`PaperStore` (papers, announcements, feed state), `DigestStore` (topics and digests),
`ChatStore` (chats, their settings and subscriptions), `Outbox` (deliveries of digests to
chats), `SummaryStore` (the summary cache), `ReviewStore` (the review cache), `UsageStore`
(LLM tokens spent per UTC day) and `StatsStore` (counts of all of it, for `paperboy stats`).
`storage.Storage` provides one of each on a shared SQLite
connection; tests/test_storage_contract.py is the contract every backend passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from bot.models import (
    AnnounceType,
    CachedSummary,
    Chat,
    ChatKind,
    Digest,
    DigestEntry,
    FeedState,
    Paper,
    Subscription,
    SummaryKey,
)

if TYPE_CHECKING:  # reviews pull in the full-text package, which storage does not need to load
    from bot.reviews.model import CachedReview, ReviewKey

__all__ = [
    "ChatStore",
    "DailyUsage",
    "DeliveryCounts",
    "DeliveryTask",
    "DigestKey",
    "DigestStore",
    "NewDigest",
    "OriginCounts",
    "Outbox",
    "OutboxCounts",
    "PaperStore",
    "PlatformCounts",
    "ReviewStore",
    "Stats",
    "StatsStore",
    "StoredAnnouncement",
    "SummaryStore",
    "UsageStore",
    "UsageTotals",
]


@dataclass(frozen=True, slots=True)
class StoredAnnouncement:
    """A paper (at its newest stored version) and one of its listing announcements."""

    paper: Paper
    version: int  # the version the listing announced
    type: AnnounceType
    listing_date: date


# An audience (a chat key, or "cli") and a topic id: whose digests of what.
DigestKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class NewDigest:
    """A digest to record (`DigestStore.save_digests`)."""

    audience: str
    topic_id: int
    since: date | None
    through: date | None
    entries: Sequence[DigestEntry]
    total_matched: int


@dataclass(frozen=True, slots=True)
class DeliveryTask:
    """One digest to send to one chat, and how far sending got."""

    id: int
    chat_key: str
    subscription_id: int | None
    digest_id: int
    parts_sent: int
    attempts: int


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """How many outbox rows are in each status."""

    pending: int
    sent: int
    skipped: int
    failed: int


class PaperStore(Protocol):
    """Papers at their newest version, the listings that announced them, and feed state."""

    async def upsert_papers(
        self, papers: Iterable[Paper], *, now: datetime, enriched: bool = False
    ) -> None:
        """Store papers by id; older versions and feed data never overwrite newer or API data."""
        ...

    async def get_papers(self, ids: Sequence[str]) -> dict[str, Paper]:
        """The stored papers among `ids` (unknown ids are absent)."""
        ...

    async def get_paper(self, paper_id: str) -> Paper | None:
        """One stored paper, or None."""
        ...

    async def unenriched_ids(self, since: date) -> list[str]:
        """Ids announced on or after `since` whose newest version lacks full API metadata."""
        ...

    async def known_versions(self, ids: Sequence[str]) -> dict[str, int]:
        """The newest stored version of each known id among `ids`."""
        ...

    async def record_announcements(
        self,
        announcements: Iterable[tuple[str, int, date, AnnounceType]],
        *,
        group: str,
        source: str,
    ) -> int:
        """Record (id, version, listing date, type) events; returns how many were new."""
        ...

    async def feed_state(self, group: str) -> FeedState | None:
        """The saved state of a feed group, or None before its first fetch."""
        ...

    async def save_feed_state(self, state: FeedState) -> None:
        """Insert or replace a feed group's state."""
        ...

    async def latest_listing_date(self) -> date | None:
        """The newest listing date of any announcement, or None when nothing is stored."""
        ...

    async def announcements_between(
        self, after: date | None, through: date
    ) -> list[StoredAnnouncement]:
        """One announcement per paper version with `after < date <= through`, oldest first."""
        ...


class DigestStore(Protocol):
    """Topics (canonical queries) and the digests built for each audience and topic."""

    async def topic_id(self, canonical: str, text: str, *, now: datetime) -> int:
        """The id of the topic with this canonical query, created on first use."""
        ...

    async def delivered_versions(
        self, audience: str, topic_id: int, paper_ids: Sequence[str]
    ) -> dict[str, int]:
        """Per paper already in this audience's digests of the topic, the newest version in one."""
        ...

    async def last_digest_through(self, audience: str, topic_id: int) -> date | None:
        """The last listing date covered by this audience's digests of the topic."""
        ...

    async def find_digest(self, audience: str, topic_id: int, through: date) -> Digest | None:
        """The audience's digest of the topic through that listing date, if built."""
        ...

    async def get_digest(self, digest_id: int) -> Digest | None:
        """A digest by id, with its entries in order."""
        ...

    async def save_digest(
        self,
        *,
        audience: str,
        topic_id: int,
        since: date | None,
        through: date | None,
        entries: Sequence[DigestEntry],
        total_matched: int,
        now: datetime,
    ) -> Digest:
        """Record a digest and its entries atomically; returns it as stored."""
        ...

    async def last_throughs(self, keys: Sequence[DigestKey]) -> dict[DigestKey, date]:
        """`last_digest_through` for many keys at once (keys without a digest are absent)."""
        ...

    async def find_digests(
        self, keys: Sequence[DigestKey], through: date
    ) -> dict[DigestKey, Digest]:
        """`find_digest` for many keys at once (keys without that digest are absent)."""
        ...

    async def topic_texts(self, topic_ids: Sequence[int]) -> dict[int, str]:
        """Each known topic's query as first typed, by id."""
        ...

    async def delivered_versions_many(
        self, wanted: Sequence[tuple[DigestKey, Sequence[str]]]
    ) -> dict[DigestKey, dict[str, int]]:
        """`delivered_versions` for many keys, each with its paper ids (empty results absent)."""
        ...

    async def save_digests(
        self, digests: Sequence[NewDigest], *, now: datetime
    ) -> list[int | None]:
        """Record digests and their entries in one transaction; ids in order, None for one
        whose (audience, topic, through) already exists (it is left as it was)."""
        ...


class ChatStore(Protocol):
    """Chats with their settings and pause state, and their subscriptions."""

    async def get_chat(self, key: str) -> Chat | None:
        """The chat with this key, or None."""
        ...

    async def ensure_chat(
        self, key: str, kind: ChatKind, title: str | None, *, now: datetime, language: str
    ) -> Chat:
        """The chat, created with `language` on first sight; kind and title follow the platform."""
        ...

    async def save_settings(self, chat: Chat, *, now: datetime) -> Chat:
        """Write `chat`'s settings (language…send_empty); the stored chat; KeyError if none."""
        ...

    async def set_paused(
        self, key: str, paused: bool, *, reason: str | None, now: datetime
    ) -> Chat:
        """Pause (reason None: by a person; text: suspended by delivery) or unpause a chat."""
        ...

    async def resume_suspended(self, keys: Sequence[str], *, now: datetime) -> list[str]:
        """Unpause those of `keys` suspended by delivery (not paused by a person); returns them."""
        ...

    async def suspended_chats(self, prefix: str) -> list[str]:
        """Keys starting with `prefix` of chats suspended by delivery, sorted."""
        ...

    async def move_chat(self, old_key: str, new_key: str) -> None:
        """Give a chat a new key, keeping (or merging) its subscriptions and delivered digests."""
        ...

    async def list_subscriptions(self, chat_key: str) -> list[Subscription]:
        """The chat's subscriptions in the order added, numbered from 1."""
        ...

    async def add_subscription(
        self, chat_key: str, topic_id: int, query: str, *, created_by: str | None, now: datetime
    ) -> tuple[Subscription, bool]:
        """Subscribe a chat to a topic; returns the subscription and whether it is new."""
        ...

    async def delete_subscription(self, subscription_id: int) -> None:
        """Remove a subscription (no error if it is gone)."""
        ...

    async def set_subscription_paused(self, subscription_id: int, paused: bool) -> None:
        """Pause or resume one subscription."""
        ...

    async def subscription_topic(self, subscription_id: int) -> int | None:
        """The topic id of a subscription, or None if it does not exist."""
        ...

    async def undelivered_subscriptions(
        self, listing_date: date, *, after: str | None = None, limit: int | None = None
    ) -> list[tuple[Chat, Subscription, int]]:
        """Active subscriptions of active chats with no delivery yet for that listing's digest,
        by chat key and id; paged if asked: those of the next `limit` chats after key `after`."""
        ...


class Outbox(Protocol):
    """Deliveries of digests to chats, with their progress: exactly-once across restarts."""

    async def enqueue_delivery(
        self,
        chat_key: str,
        subscription_id: int | None,
        digest_id: int,
        *,
        now: datetime,
        status: str = "pending",
    ) -> bool:
        """Queue a digest for a chat once ("pending" or "skipped"); False if it was."""
        ...

    async def enqueue_deliveries(
        self, rows: Sequence[tuple[str, int | None, int, str]], *, now: datetime
    ) -> list[bool]:
        """`enqueue_delivery` for many (chat key, subscription id, digest id, status) rows in
        one transaction; whether each was added."""
        ...

    async def request_delivery(
        self, chat_key: str, subscription_id: int | None, digest_id: int, *, now: datetime
    ) -> int:
        """Deliver this digest to this chat now: hurry its pending row or add a new copy; its id."""
        ...

    async def due_deliveries(
        self, now: datetime, chat_key: str | None = None
    ) -> list[DeliveryTask]:
        """Pending deliveries due by `now` to unpaused chats (optionally one chat), oldest first."""
        ...

    async def mark_part_sent(
        self, delivery_id: int, parts_sent: int, *, finished: bool, now: datetime
    ) -> None:
        """Record `parts_sent` messages out (and if that was all): the restart point."""
        ...

    async def retry_delivery_later(
        self, delivery_id: int, *, attempts: int, at: datetime, error: str
    ) -> None:
        """Keep a delivery pending until `at`, recording the attempt count and the error."""
        ...

    async def fail_delivery(self, delivery_id: int, *, error: str, now: datetime) -> None:
        """Give up on a delivery for good, recording why."""
        ...

    async def delivery_counts(self) -> DeliveryCounts:
        """How many deliveries are in each status."""
        ...


class SummaryStore(Protocol):
    """The summary cache, keyed on paper version, language, prompt version and model."""

    async def get_summaries(self, keys: Sequence[SummaryKey]) -> dict[SummaryKey, CachedSummary]:
        """The cached entries among `keys` (missing keys are simply absent)."""
        ...

    async def put_summary(self, key: SummaryKey, cached: CachedSummary) -> None:
        """Insert or replace the entry for `key`."""
        ...


class ReviewStore(Protocol):
    """The review cache, keyed like summaries (paper version, language, prompt, model)."""

    async def get_review(self, key: ReviewKey) -> CachedReview | None:
        """The cached review for `key`, or None (also for an entry this version cannot read)."""
        ...

    async def put_review(self, key: ReviewKey, cached: CachedReview) -> None:
        """Insert or replace the entry for `key`."""
        ...


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """LLM tokens reported by the server on one UTC day, and the number of calls."""

    day: date
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageStore(Protocol):
    """LLM token usage per UTC day, shared by every process on the database."""

    async def add_usage(
        self, day: date, *, prompt_tokens: int, completion_tokens: int
    ) -> DailyUsage:
        """Add one call's tokens to `day`'s totals (atomically); returns the new totals."""
        ...

    async def usage_on(self, day: date) -> DailyUsage:
        """`day`'s totals (zeros for a day without calls)."""
        ...


@dataclass(frozen=True, slots=True)
class OriginCounts:
    """Cached summaries or reviews, by who wrote them: the LLM, or extracted from the paper."""

    llm: int = 0
    extractive: int = 0

    @property
    def total(self) -> int:
        return self.llm + self.extractive


@dataclass(frozen=True, slots=True)
class PlatformCounts:
    """One chat platform's chats (by pause state) and what they follow."""

    platform: str  # the chat keys' prefix: telegram, discord
    chats: int = 0
    paused: int = 0  # chats paused by a person (/pause)
    suspended: int = 0  # chats paused by delivery (access lost), resumed when it comes back
    subscriptions: int = 0
    topics: int = 0  # distinct topics the platform's chats follow


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """LLM tokens and calls over the UTC days `since`..`through` (both included)."""

    since: date
    through: date
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """Outbox rows by status, pending ones split by the state of the chat they are for."""

    sent: int = 0
    queued: int = 0  # pending, for chats not paused: will go out
    paused: int = 0  # pending, for chats paused by a person: kept until /resume
    suspended: int = 0  # pending, for chats suspended by delivery: kept until access is back
    skipped: int = 0  # empty digests nobody asked for
    failed: int = 0  # given up for good

    @property
    def pending(self) -> int:
        return self.queued + self.paused + self.suspended


@dataclass(frozen=True, slots=True)
class Stats:
    """What the database holds, counted from its rows (`paperboy stats`)."""

    today: date  # the UTC day "today" refers to
    papers: int  # every paper stored: announced in a listing (matched or not) or looked up
    papers_announced: int  # of those, the papers some stored listing announced
    announcement_days: int  # distinct listing dates with at least one announcement stored
    first_listing: date | None
    last_listing: date | None
    topics: int  # every topic stored (command-line digests included)
    topics_followed: int  # distinct topics with a chat subscription, on any platform
    platforms: tuple[PlatformCounts, ...]  # platforms that have chats, by name
    summaries: OriginCounts
    reviews: OriginCounts
    llm_today: UsageTotals
    llm_last_7_days: UsageTotals  # today and the 6 days before
    deliveries: OutboxCounts


class StatsStore(Protocol):
    """Counts over every table, in a few set-based statements (no row is loaded)."""

    async def counts(self, today: date) -> Stats:
        """The database's figures; LLM usage for the UTC day `today` and the 7 days to it."""
        ...
