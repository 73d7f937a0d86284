"""Digests: which papers a topic's next digest holds, deduplicated across days and versions.

A digest belongs to an audience (the terminal, later a chat) and a topic, and covers the
listings after that audience's previous digest of the topic up to the newest stored listing.
Asking again before a new listing returns the same digest instead of an empty one. A paper is
delivered once per audience and topic: when it reappears as a new version it comes back only as
a compact "updated to vN" entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.models import Digest, DigestEntry, Paper, UpdateNote
from bot.query import PreparedPaper, Query, TopicIndex, prepare
from storage import Storage, StoredAnnouncement

# Updates are one line each, but a topic that matches a flood of replacements still needs a cap.
MAX_UPDATED_ENTRIES = 20


class PreparedPapers:
    """Tokenised papers, kept across digests: every topic of a cycle sees the same papers, and
    tokenising is the expensive part of matching. Bounded; a new version is a new entry."""

    def __init__(self, limit: int = 5_000) -> None:
        self._limit = limit
        self._cache: dict[tuple[str, int], tuple[PreparedPaper, PreparedPaper]] = {}

    def get(self, paper: Paper) -> tuple[PreparedPaper, PreparedPaper]:
        """The paper prepared whole, and its title alone (title matches are listed first)."""
        key = (paper.id, paper.version)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            hit = (prepare(paper), prepare(dataclasses.replace(paper, abstract="")))
            self._cache[key] = hit
        return hit


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """One audience's topic whose latest digest is wanted."""

    audience: str
    query: Query
    # A subscription's topic is fixed when it is created, so a future change in how queries
    # are normalised cannot turn it into a new topic that re-delivers old papers.
    topic_id: int | None = None
    max_papers: int | None = None  # this audience's cap; the call's default otherwise


@dataclass(slots=True)
class _Pending:
    position: int
    request: DigestRequest
    topic_id: int
    after: date  # the window is the listings after this date, up to the latest


class DigestBuilder:
    """Builds and records digests; one instance serves every audience and topic."""

    def __init__(self, storage: Storage, *, clock: Callable[[], datetime]) -> None:
        self._storage = storage
        self._clock = clock
        self._prepared = PreparedPapers()

    async def latest(self, query: Query, *, audience: str, max_papers: int) -> Digest:
        """The digest for the newest listing, building and recording it on first request."""
        [digest] = await self.latest_many([DigestRequest(audience, query)], max_papers=max_papers)
        return digest

    async def latest_many(
        self, requests: Sequence[DigestRequest], *, max_papers: int
    ) -> list[Digest]:
        """`latest` for many audiences and topics at once, in the order asked.

        The window's papers are loaded and tokenised once and matched against all topics
        through a `TopicIndex`, so a cycle costs one pass over the papers, not one per topic.
        """
        now = self._clock()
        latest = await self._storage.papers.latest_listing_date()
        if latest is None:
            return [self._empty(r.query, r.audience, since=None, through=None) for r in requests]
        done: dict[int, Digest] = {}
        pending: list[_Pending] = []
        for position, request in enumerate(requests):
            query = request.query
            topic_id = request.topic_id or await self._storage.digests.topic_id(
                query.canonical, query.text, now=now
            )
            existing = await self._storage.digests.find_digest(request.audience, topic_id, latest)
            if existing is not None:
                done[position] = existing  # asked again before a new listing: the same digest
                continue
            previous = await self._storage.digests.last_digest_through(request.audience, topic_id)
            # A topic's first digest covers the newest listing only, not the whole history.
            after = previous if previous is not None else latest - timedelta(days=1)
            pending.append(_Pending(position, request, topic_id, after))
        if pending:
            announcements = await self._storage.papers.announcements_between(
                min(p.after for p in pending), latest
            )
            index: TopicIndex[int] = TopicIndex()
            for p in pending:
                index.add(p.position, p.request.query)
            matched = self._match(index, announcements)
            for p in pending:
                window = [a for a in announcements if a.listing_date > p.after]
                ids = matched.get(p.position, set())
                delivered = await self._storage.digests.delivered_versions(
                    p.request.audience, p.topic_id, sorted(ids)
                )
                new, updated = select_entries(
                    p.request.query, window, ids, delivered, self._prepared
                )
                done[p.position] = await self._storage.digests.save_digest(
                    audience=p.request.audience,
                    topic_id=p.topic_id,
                    since=p.after + timedelta(days=1),
                    through=latest,
                    entries=[
                        *new[: p.request.max_papers or max_papers],
                        *updated[:MAX_UPDATED_ENTRIES],
                    ],
                    total_matched=len(new),
                    now=self._clock(),
                )
        return [done[i] for i in range(len(requests))]

    def _match(
        self, index: TopicIndex[int], announcements: Sequence[StoredAnnouncement]
    ) -> dict[int, set[str]]:
        """Topic position -> ids of the papers (newest stored version) it matches."""
        matched: dict[int, set[str]] = {}
        seen: set[str] = set()
        for ann in announcements:
            if ann.paper.id in seen:
                continue
            seen.add(ann.paper.id)
            whole, _ = self._prepared.get(ann.paper)
            for position in index.match(whole):
                matched.setdefault(position, set()).add(ann.paper.id)
        return matched

    async def preview(self, query: Query, *, since: date, max_papers: int) -> Digest:
        """Every match announced on or after `since`, recording nothing as delivered."""
        latest = await self._storage.papers.latest_listing_date()
        if latest is None:
            return self._empty(query, "preview", since=since, through=None)
        announcements = await self._storage.papers.announcements_between(
            since - timedelta(days=1), latest
        )
        ids = {
            a.paper.id for a in announcements if query.matches_text(self._prepared.get(a.paper)[0])
        }
        new, _ = select_entries(query, announcements, ids, {}, self._prepared)
        return Digest(
            id=0,
            query=query.text,
            audience="preview",
            since=since,
            through=latest,
            created_at=self._clock(),
            entries=tuple(new[:max_papers]),
            total_matched=len(new),
        )

    async def count_recent(
        self, query: Query, *, days: int
    ) -> tuple[int, date | None, date | None]:
        """How many papers the query matches in the listings of the last `days` days (a
        preview for /subscribe), and the first and last listing dates counted."""
        latest = await self._storage.papers.latest_listing_date()
        if latest is None:
            return 0, None, None
        announcements = await self._storage.papers.announcements_between(
            latest - timedelta(days=days), latest
        )
        ids = {
            a.paper.id
            for a in announcements
            if a.type.is_candidate and query.matches_text(self._prepared.get(a.paper)[0])
        }
        dates = [a.listing_date for a in announcements]
        return len(ids), min(dates, default=None), max(dates, default=None)

    def _empty(
        self, query: Query, audience: str, *, since: date | None, through: date | None
    ) -> Digest:
        return Digest(
            id=0,
            query=query.text,
            audience=audience,
            since=since,
            through=through,
            created_at=self._clock(),
            entries=(),
            total_matched=0,
        )


def select_entries(
    query: Query,
    announcements: Sequence[StoredAnnouncement],
    matched: set[str],
    delivered: dict[str, int],
    prepared: PreparedPapers,
) -> tuple[list[DigestEntry], list[DigestEntry]]:
    """Split the window's matching papers (`matched` ids) into new entries, ordered, and
    update notes for papers this audience already had."""
    by_paper: dict[str, list[StoredAnnouncement]] = {}
    for ann in announcements:
        if ann.paper.id in matched:
            by_paper.setdefault(ann.paper.id, []).append(ann)

    new: list[tuple[tuple[int, str, str], DigestEntry]] = []
    updated: list[DigestEntry] = []
    for paper_id, anns in by_paper.items():
        paper = anns[0].paper  # the newest stored version, whatever the listing announced
        sent = delivered.get(paper_id)
        if sent is not None:
            if paper.version > sent:
                updated.append(DigestEntry(paper, UpdateNote.UPDATED, previous_version=sent))
        elif any(a.type.is_candidate for a in anns):
            newest_listing = max(a.listing_date for a in anns)
            _, title_only = prepared.get(paper)
            # Title matches first, then newest listing first, then by id for a stable order.
            rank = (0 if query.matches_text(title_only) else 1, _desc(newest_listing), paper.id)
            new.append((rank, DigestEntry(paper, UpdateNote.NEW)))
    new.sort(key=lambda item: item[0])
    updated.sort(key=lambda e: e.paper.id)
    return [entry for _, entry in new], updated


def _desc(day: date) -> str:
    # Sort key that puts later dates first inside an ascending tuple sort.
    return f"{10**8 - day.toordinal():09d}"
