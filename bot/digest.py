"""Digests: which papers a topic's next digest holds, deduplicated across days and versions.

A digest belongs to an audience (the terminal, later a chat) and a topic, and covers the
listings after that audience's previous digest of the topic up to the newest stored listing.
Asking again before a new listing returns the same digest instead of an empty one. A paper is
delivered once per audience and topic: when it reappears as a new version it comes back only as
a compact "updated to vN" entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.errors import InvalidQuery
from bot.models import Digest, DigestEntry, Paper, UpdateNote
from bot.query import BatchMatcher, Query, parse_query
from bot.query.cache import PreparedPapers
from storage import Storage, StoredAnnouncement
from storage.interfaces import DigestKey, NewDigest

# Updates are one line each, but a topic that matches a flood of replacements still needs a cap.
MAX_UPDATED_ENTRIES = 20
# Topics parsed and compiled at once when a run matches in bulk: bounds the memory their
# queries, matcher and the window's `PaperBatch` take (a few KiB a topic), while each group
# costs one pass over the papers.
TOPICS_PER_MATCH = 8_000


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """One audience's topic whose latest digest is wanted."""

    audience: str
    query: Query
    # A subscription's topic is fixed when it is created, so a future change in how queries
    # are normalised cannot turn it into a new topic that re-delivers old papers.
    topic_id: int | None = None
    max_papers: int | None = None  # this audience's cap; the call's default otherwise


@dataclass(frozen=True, slots=True)
class DigestAsk:
    """A request as `DigestRun.build` takes it: the topic by id, its query parsed only if it
    has to be matched (a cycle's subscribers share a few popular topics, and parsing each
    subscription's query would cost more than matching it)."""

    audience: str
    topic_id: int
    text: str  # the query as the audience typed it
    max_papers: int | None = None
    query: Query | None = None  # parsed already, or parsed from `text` when needed


@dataclass(frozen=True, slots=True)
class _Window:
    """The listings after one date up to the newest: per paper id its newest listing date
    in the window and whether one of its announcements there is a digest candidate."""

    after: date
    papers: dict[str, tuple[date, bool]]
    order: tuple[str, ...]  # paper ids, oldest listing first


@dataclass(frozen=True, slots=True)
class _Matches:
    """A topic's matches among the papers listed after `after` (newest stored versions), in
    digest order for that window: title matches first, then newest listing, then by id."""

    after: date
    papers: tuple[str, ...]
    candidate: tuple[bool, ...]  # listed in the window as a new submission or cross-list
    in_title: int  # how many of `papers`, from the first, match on their title alone


class DigestBuilder:
    """Builds and records digests; one instance serves every audience and topic."""

    def __init__(self, storage: Storage, *, clock: Callable[[], datetime]) -> None:
        self._storage = storage
        self._clock = clock

    async def latest(self, query: Query, *, audience: str, max_papers: int) -> Digest:
        """The digest for the newest listing, building and recording it on first request."""
        [digest] = await self.latest_many([DigestRequest(audience, query)], max_papers=max_papers)
        return digest

    async def latest_many(
        self, requests: Sequence[DigestRequest], *, max_papers: int
    ) -> list[Digest]:
        """`latest` for many audiences and topics at once, in the order asked (see
        `DigestRun`: each distinct topic is matched once, whoever shares it)."""
        latest = await self._storage.papers.latest_listing_date()
        if latest is None:
            return [self._empty(r.query, r.audience, since=None, through=None) for r in requests]
        now = self._clock()
        asks = []
        for request in requests:
            query = request.query
            topic_id = request.topic_id or await self._storage.digests.topic_id(
                query.canonical, query.text, now=now
            )
            asks.append(
                DigestAsk(request.audience, topic_id, query.text, request.max_papers, query)
            )
        built = await self.run(latest).build(asks, max_papers=max_papers)
        return [digest for digest in built if digest is not None]  # all parsed already

    def run(self, latest: date) -> DigestRun:
        """A run of digests through the `latest` listing, sharing its matching state."""
        return DigestRun(self._storage, latest, clock=self._clock)

    async def preview(self, query: Query, *, since: date, max_papers: int) -> Digest:
        """Every match announced on or after `since`, recording nothing as delivered."""
        latest = await self._storage.papers.latest_listing_date()
        if latest is None:
            return self._empty(query, "preview", since=since, through=None)
        announcements = await self._storage.papers.announcements_between(
            since - timedelta(days=1), latest
        )
        ids, in_title = match_one(query, announcements, title_too=True)
        new, _ = split_entries(announcements, ids, {}, lambda paper: paper.id in in_title)
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
        candidates = [a for a in announcements if a.type.is_candidate]
        ids, _ = match_one(query, candidates, title_too=False)
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


class DigestRun:
    """Digests through one listing (`latest`), built a batch at a time with shared state.

    What every batch shares is kept for the run: each window's announcements (loaded once per
    window start), one `Paper` per id, one entry object per paper and note, and each distinct
    topic's matches, computed once however many audiences share the topic. A caller that
    knows its topics up front (`DigestCycle.plan`) passes them to `expect` and then
    `match_expected`, which matches them in groups of `TOPICS_PER_MATCH` (their queries and
    matcher live only while their group is matched); a topic `build` meets unmatched is matched
    then. Each group is matched by a `BatchMatcher` against its window's papers as one
    `PaperBatch`, released once the group's matches are kept. Matches are paper ids, which the
    run's papers already hold, so what the run keeps per topic is a tuple of references.
    """

    def __init__(self, storage: Storage, latest: date, *, clock: Callable[[], datetime]) -> None:
        self.latest = latest
        self._storage = storage
        self._clock = clock
        self._windows: dict[date, _Window] = {}
        self._papers: dict[str, Paper] = {}
        self._matches: dict[int, _Matches] = {}
        self._invalid: set[int] = set()  # topics whose stored query no longer parses
        self._expected: dict[int, tuple[str, date]] = {}  # topic -> (query text, after)
        self._entries: dict[tuple[str, int | None], DigestEntry] = {}

    def _after(self, through: date | None) -> date:
        # A topic's first digest covers the newest listing only, not the whole history.
        return through if through is not None else self.latest - timedelta(days=1)

    async def expect(self, asks: Sequence[DigestAsk]) -> None:
        """Note topics `build` will be asked for, to match them together in `match_expected`."""
        throughs = await self._storage.digests.last_throughs(
            [(a.audience, a.topic_id) for a in asks]
        )
        for ask in asks:
            through = throughs.get((ask.audience, ask.topic_id))
            if through == self.latest:
                continue  # built already: nothing to match
            after = self._after(through)
            known = self._expected.get(ask.topic_id)
            if known is None or after < known[1]:
                self._expected[ask.topic_id] = (known[0] if known else ask.text, after)

    async def match_expected(self) -> None:
        """Match every topic noted by `expect` (a no-op when there are none)."""
        expected, self._expected = self._expected, {}
        await self._match({t: (text, None, after) for t, (text, after) in expected.items()})

    async def build(self, asks: Sequence[DigestAsk], *, max_papers: int) -> list[Digest | None]:
        """The digest of each ask through `latest`, in order, built and recorded in one
        transaction where not built yet; None where the topic's query no longer parses.
        An (audience, topic) asked twice gets the same digest."""
        digests = self._storage.digests
        now = self._clock()
        first: dict[DigestKey, DigestAsk] = {}
        for ask in asks:
            first.setdefault((ask.audience, ask.topic_id), ask)
        throughs = await digests.last_throughs(list(first))
        done: dict[DigestKey, Digest | None] = dict(
            await digests.find_digests(
                [k for k in first if throughs.get(k) == self.latest], self.latest
            )
        )  # asked again before a new listing: the same digest
        pending = [(key, ask, self._after(throughs.get(key))) for key, ask in first.items()]
        pending = [p for p in pending if p[0] not in done]
        await self._match_missing(pending)
        for key, ask, _ in pending:
            if ask.topic_id in self._invalid:
                done[key] = None
        pending = [p for p in pending if p[0] not in done]

        ranked: dict[tuple[int, date], _Ranked] = {}
        for _, ask, after in pending:
            if (ask.topic_id, after) not in ranked:
                ranked[ask.topic_id, after] = await self._rank(ask.topic_id, after)
        delivered = await digests.delivered_versions_many(
            [
                (key, ranked[ask.topic_id, after].ids)
                for key, ask, after in pending
                if key in throughs  # without an earlier digest, nothing was delivered
            ]
        )
        texts = await digests.topic_texts(list({ask.topic_id for _, ask, _ in pending}))
        built: list[NewDigest] = []
        for key, ask, after in pending:
            new, updated = self._select(ranked[ask.topic_id, after], delivered.get(key))
            built.append(
                NewDigest(
                    audience=ask.audience,
                    topic_id=ask.topic_id,
                    since=after + timedelta(days=1),
                    through=self.latest,
                    entries=(
                        *new[: ask.max_papers or max_papers],
                        *updated[:MAX_UPDATED_ENTRIES],
                    ),
                    total_matched=len(new),
                )
            )
        ids = await digests.save_digests(built, now=now)
        created = now.astimezone(UTC)  # as the stored timestamp reads back
        for new_digest, digest_id in zip(built, ids, strict=True):
            if digest_id is None:
                continue  # built meanwhile by someone else: theirs is read below
            done[new_digest.audience, new_digest.topic_id] = Digest(
                id=digest_id,
                query=texts.get(
                    new_digest.topic_id, first[new_digest.audience, new_digest.topic_id].text
                ),
                audience=new_digest.audience,
                since=new_digest.since,
                through=new_digest.through,
                created_at=created,
                entries=tuple(new_digest.entries),
                total_matched=new_digest.total_matched,
            )
        lost = [k for k in first if k not in done]
        if lost:
            done.update(await digests.find_digests(lost, self.latest))
        return [done[ask.audience, ask.topic_id] for ask in asks]

    async def _match_missing(self, pending: Sequence[tuple[DigestKey, DigestAsk, date]]) -> None:
        """Match the topics of `pending` not matched yet (or not as far back)."""
        missing: dict[int, tuple[str, Query | None, date]] = {}
        for _, ask, after in pending:
            matches = self._matches.get(ask.topic_id)
            if ask.topic_id in self._invalid or (matches is not None and matches.after <= after):
                continue
            known = missing.get(ask.topic_id)
            if known is None or after < known[2]:
                missing[ask.topic_id] = (ask.text, ask.query, after)
        await self._match(missing)

    async def _match(self, topics: dict[int, tuple[str, Query | None, date]]) -> None:
        """Match topics (query text, parsed query if at hand, window start) against their
        windows' papers, in groups of `TOPICS_PER_MATCH` sharing a window start or near."""
        # Newest window first, so most groups only look at the newest listing.
        todo = sorted(topics.items(), key=lambda item: (item[1][2], item[0]), reverse=True)
        for start in range(0, len(todo), TOPICS_PER_MATCH):
            group = todo[start : start + TOPICS_PER_MATCH]
            after = group[-1][1][2]  # the earliest start in the group
            window = await self._window(after)
            queries: dict[int, Query] = {}
            for topic_id, (text, query, _) in group:
                try:
                    queries[topic_id] = query or parse_query(text)
                except InvalidQuery:
                    self._invalid.add(topic_id)
            if not queries:
                continue
            order = window.order
            matcher = BatchMatcher(queries)
            batch = matcher.prepare([self._papers[paper_id] for paper_id in order])
            found = matcher.match(batch)
            in_title = matcher.match(batch, title_only=True)
            del batch, matcher  # only the matches outlive the group
            for topic_id in queries:
                hits = found.get(topic_id, ())
                titled = {order[i] for i in in_title.get(topic_id, ()) if i in hits}
                papers = [order[i] for i in hits]
                self._matches[topic_id] = _order(window, papers, titled)

    async def _window(self, after: date) -> _Window:
        window = self._windows.get(after)
        if window is None:
            papers: dict[str, tuple[date, bool]] = {}
            for ann in await self._storage.papers.announcements_between(after, self.latest):
                paper = self._papers.setdefault(ann.paper.id, ann.paper)
                newest, candidate = papers.get(paper.id, (ann.listing_date, False))
                papers[paper.id] = (
                    max(newest, ann.listing_date),
                    candidate or ann.type.is_candidate,
                )
            window = self._windows[after] = _Window(after, papers, tuple(papers))
        return window

    async def _rank(self, topic_id: int, after: date) -> _Ranked:
        """The topic's matches listed after `after`, in digest order."""
        matches = self._matches[topic_id]
        if matches.after != after:  # matched over a wider window: order this one's papers
            titled = set(matches.papers[: matches.in_title])
            matches = _order(await self._window(after), matches.papers, titled)
        fresh = tuple(
            self._entry(paper_id)
            for paper_id, candidate in zip(matches.papers, matches.candidate, strict=True)
            if candidate
        )
        return _Ranked(matches.papers, matches.candidate, fresh)

    def _select(
        self, ranked: _Ranked, delivered: dict[str, int] | None
    ) -> tuple[Sequence[DigestEntry], list[DigestEntry]]:
        """New entries in order, and update notes for papers this audience already had."""
        if not delivered:
            return ranked.fresh, []
        new: list[DigestEntry] = []
        updated: list[DigestEntry] = []
        for paper_id, candidate in zip(ranked.ids, ranked.candidate, strict=True):
            sent = delivered.get(paper_id)
            if sent is None:
                if candidate:
                    new.append(self._entry(paper_id))
            elif self._papers[paper_id].version > sent:
                updated.append(self._entry(paper_id, sent))
        updated.sort(key=lambda e: e.paper.id)
        return new, updated

    def _entry(self, paper_id: str, previous: int | None = None) -> DigestEntry:
        """The run's one entry object for a paper as new (or as updated from `previous`)."""
        entry = self._entries.get((paper_id, previous))
        if entry is None:
            paper = self._papers[paper_id]
            if previous is None:
                entry = DigestEntry(paper, UpdateNote.NEW)
            else:
                entry = DigestEntry(paper, UpdateNote.UPDATED, previous_version=previous)
            self._entries[paper_id, previous] = entry
        return entry


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A topic's matches in one window, in digest order, and its new entries when the
    audience had none of them before."""

    ids: tuple[str, ...]
    candidate: tuple[bool, ...]  # listed there as a new submission or cross-list
    fresh: tuple[DigestEntry, ...]


def _order(window: _Window, papers: Sequence[str], in_title: set[str]) -> _Matches:
    """`papers` (those in `in_title` match on their title alone) that are listed in
    `window`, in digest order: title matches first, then newest listing first, then by id."""
    rows = []
    for paper_id in papers:
        listed = window.papers.get(paper_id)
        if listed is not None:
            newest, candidate = listed
            rows.append((paper_id not in in_title, -newest.toordinal(), paper_id, candidate))
    rows.sort()
    return _Matches(
        window.after,
        tuple(row[2] for row in rows),
        tuple(row[3] for row in rows),
        sum(1 for row in rows if not row[0]),
    )


def match_one(
    query: Query, announcements: Sequence[StoredAnnouncement], *, title_too: bool
) -> tuple[set[str], set[str]]:
    """The ids of the announced papers `query` matches, and (with `title_too`) of those it
    matches on their title alone, by one `BatchMatcher` pass over the papers."""
    papers = list({a.paper.id: a.paper for a in announcements}.values())
    matcher = BatchMatcher({0: query})
    batch = matcher.prepare(papers)
    found = matcher.match(batch).get(0, set())
    ids = {papers[i].id for i in found}
    if not title_too or not found:
        return ids, set()
    titled = matcher.match(batch, title_only=True).get(0, set())
    return ids, {papers[i].id for i in titled & found}


def select_entries(
    query: Query,
    announcements: Sequence[StoredAnnouncement],
    matched: set[str],
    delivered: dict[str, int],
    prepared: PreparedPapers,
) -> tuple[list[DigestEntry], list[DigestEntry]]:
    """Split the window's matching papers (`matched` ids) into new entries, ordered, and
    update notes for papers this audience already had (one query at a time, each paper
    prepared whole: the straightforward definition the batched paths are tested against)."""
    return split_entries(
        announcements,
        matched,
        delivered,
        lambda paper: query.matches_text(prepared.get(paper)[1]),
    )


def split_entries(
    announcements: Sequence[StoredAnnouncement],
    matched: set[str],
    delivered: dict[str, int],
    in_title: Callable[[Paper], bool],
) -> tuple[list[DigestEntry], list[DigestEntry]]:
    """`select_entries`, with `in_title` saying whether a matching paper matches on its title
    alone (those come first)."""
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
            # Title matches first, then newest listing first, then by id for a stable order.
            rank = (0 if in_title(paper) else 1, _desc(newest_listing), paper.id)
            new.append((rank, DigestEntry(paper, UpdateNote.NEW)))
    new.sort(key=lambda item: item[0])
    updated.sort(key=lambda e: e.paper.id)
    return [entry for _, entry in new], updated


def _desc(day: date) -> str:
    # Sort key that puts later dates first inside an ascending tuple sort.
    return f"{10**8 - day.toordinal():09d}"
