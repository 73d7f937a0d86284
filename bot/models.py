"""Plain value objects shared by the core, storage and frontends.

Nothing here knows about SQL, HTTP or chat platforms: these are the nouns the rest of the code
passes around.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time


class AnnounceType(enum.StrEnum):
    """How a paper appeared in a daily listing (arXiv's own vocabulary)."""

    NEW = "new"
    CROSS = "cross"
    REPLACE = "replace"
    REPLACE_CROSS = "replace-cross"

    @property
    def is_candidate(self) -> bool:
        """New submissions and cross-lists are digest candidates; replacements only update."""
        return self in (AnnounceType.NEW, AnnounceType.CROSS)


@dataclass(frozen=True, slots=True)
class Paper:
    """One arXiv paper at one version.

    `id` never carries a version (``2409.03605``, ``hep-th/9901001``); `version` holds it.
    """

    id: str
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    primary_category: str | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    published: datetime | None = None  # v1 submission time (UTC)
    updated: datetime | None = None  # this version's submission time (UTC)

    @property
    def versioned_id(self) -> str:
        return f"{self.id}v{self.version}"


@dataclass(frozen=True, slots=True)
class Announcement:
    """A paper as it appeared in one daily listing."""

    paper: Paper
    type: AnnounceType
    listing_date: date  # the listing's date (US Eastern calendar), as arXiv's feeds date it


@dataclass(frozen=True, slots=True)
class FeedState:
    """What we know about one category group's feed, so downtime can be detected and backfilled."""

    group: str
    last_listing_date: date | None  # newest listing stored for the group
    last_fetch_at: datetime | None  # when the feed was last fetched successfully
    covered_from: date | None  # earliest listing date we hold complete data for
    # The feed's validators from its last answer, sent back to ask "has it changed?".
    etag: str | None = None
    last_modified: str | None = None
    # The date of the last feed seen, even an empty one: later than `last_listing_date` when
    # arXiv announced nothing that day (a weekend, a holiday).
    feed_date: date | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """One category group's daily listing, as fetched from the RSS/Atom feed."""

    group: str
    listing_date: date | None  # None when the feed carries no date (an empty weekend feed)
    announcements: tuple[Announcement, ...]
    truncated: bool = False  # the feed hit arXiv's item cap, so some papers may be missing


class LinkKind(enum.StrEnum):
    ABSTRACT = "abstract"
    PDF = "pdf"
    HTML = "html"
    CODE = "code"
    PROJECT = "project"
    DATA = "data"
    MODEL = "model"
    DEMO = "demo"
    DOI = "doi"
    OTHER = "other"  # a page we cannot tell the nature of: labelled by its host


@dataclass(frozen=True, slots=True)
class Link:
    """A link taken from metadata (never from LLM output)."""

    kind: LinkKind
    url: str
    label: str


class SummarySource(enum.StrEnum):
    LLM = "llm"
    EXTRACTIVE = "extractive"


@dataclass(frozen=True, slots=True)
class Summary:
    """A validated TL;DR and key takeaways for one paper version in one language."""

    tldr: str
    takeaways: tuple[str, ...]
    language: str
    source: SummarySource
    model: str | None = None  # None for extractive summaries
    # Why an extractive summary is not the model's (None for model summaries): see
    # `bot.summaries.summarizer` (no API key, or the model's answer failed and why).
    fallback_reason: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SummaryKey:
    """What a cached summary depends on: change any part and it is computed again."""

    paper_id: str
    version: int
    language: str
    prompt_version: str
    model: str


@dataclass(frozen=True, slots=True)
class CachedSummary:
    """A stored summary and when it was made (fallbacks under an LLM key are retried later)."""

    summary: Summary
    created_at: datetime


class UpdateNote(enum.StrEnum):
    NEW = "new"
    UPDATED = "updated"


@dataclass(frozen=True, slots=True)
class DigestEntry:
    paper: Paper
    kind: UpdateNote
    previous_version: int | None = None  # for UPDATED: the version delivered before


@dataclass(frozen=True, slots=True)
class Digest:
    """The papers of one topic for one audience, covering listings up to `through`."""

    id: int
    query: str
    audience: str
    through: date | None
    since: date | None
    created_at: datetime
    entries: tuple[DigestEntry, ...]
    total_matched: int  # before the cap; `len(entries)` after it
    summaries: dict[str, Summary] = field(default_factory=dict)  # by paper id

    @property
    def new_entries(self) -> tuple[DigestEntry, ...]:
        return tuple(e for e in self.entries if e.kind is UpdateNote.NEW)

    @property
    def updated_entries(self) -> tuple[DigestEntry, ...]:
        return tuple(e for e in self.entries if e.kind is UpdateNote.UPDATED)


class DetailLevel(enum.StrEnum):
    """How much of each paper a chat's digest shows."""

    TITLES = "titles"  # titles and links only
    TLDR = "tldr"  # plus the one-sentence TL;DR
    FULL = "full"  # plus the key takeaways


class ChatKind(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"  # groups and supergroups
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat that receives digests, with its settings. `key` is ``platform:id``."""

    key: str
    kind: ChatKind
    title: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    delivery_time: time | None = None  # local time; None: as soon as the listing is in
    detail: DetailLevel = DetailLevel.FULL
    max_papers: int = 10
    send_empty: bool = False  # also send a short note when a topic has no new papers
    paused: bool = False
    paused_reason: str | None = None  # e.g. "blocked": set by delivery, not by the user

    @property
    def platform(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def platform_id(self) -> str:
        return self.key.split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat's topic. `number` is its 1-based position in the chat's list, for commands."""

    id: int
    chat_key: str
    query: str
    created_at: datetime
    paused: bool = False
    number: int = 0
