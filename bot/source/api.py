"""`ArxivSource`: the async facade over arXiv's query API and listing feeds.

The blocking work (the ``arxiv`` package, ``requests``) runs in worker threads via
`asyncio.to_thread`, one call per source at a time (later callers wait in asyncio, in order, not
in threads). Every request of a source goes through one `ArxivSession`, which shares the
process-wide `Throttle`, so concurrent tasks and sources are serialised and spaced as arXiv asks.
A cancelled call stops waiting at once, but its worker thread finishes the request in progress
(bounded by the timeout and the retries).

The ``arxiv`` package is used for what it is good at (building query URLs, parsing result pages,
retrying a page that comes back unexpectedly empty in the middle of a result set), with three
adjustments made here:

* its ``_session`` is our session and its own ``delay_seconds`` is 0: spacing is the throttle's
  job, across all clients, and sleeping twice would only slow us down;
* paging is overridden (`_PagingClient._results`) to stop on a short page (arXiv sometimes
  reports more ``totalResults`` than it can page through), and to treat an empty *first* page
  with ``totalResults > 0`` like an empty middle page (retried, then an error) instead of "no
  results";
* every response must be a well-formed Atom/RSS document before the package parses it (it parses
  with ``recover=True`` and would silently read a truncated page as fewer results).

Errors: people's mistakes become `InvalidArxivId` / `PaperNotFound`; everything else that goes
wrong talking to arXiv becomes `SourceUnavailable` with a one-line message (the original
exception is chained for the logs).
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar

import arxiv
import requests
from lxml import etree

from bot.config import parse_categories
from bot.errors import (
    ArxivUnreachable,
    InvalidArxivId,
    PaperboyError,
    PaperNotFound,
    SourceUnavailable,
)
from bot.models import Listing, Paper
from bot.source.http import (
    ArxivSession,
    BadResponse,
    Closing,
    RequestSpacing,
    RetriesExhausted,
    Throttle,
)
from bot.source.ids import EXAMPLES, ArxivId, parse_arxiv_id
from bot.source.rss import FeedError, parse_listing

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "LOOKUP_BATCH",
    "MAX_PAGE_SIZE",
    "ArxivSource",
    "FeedFetch",
    "build_search_query",
    "paper_from_result",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

LOOKUP_BATCH = 100  # ids per id_list request: keeps URLs short and pages small
MAX_PAGE_SIZE = 2000  # the API's own limit per request

ATOM_NS = "http://www.w3.org/2005/Atom"
# Archives whose papers carry the bare archive as category (no subject classes).
_ARCHIVES_WITHOUT_SUBJECTS = frozenset(
    {"gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph"}
)
# Archives that gained subject classes later: old papers still carry the bare archive.
_ARCHIVES_WITH_LEGACY_BARE = frozenset({"astro-ph", "cond-mat"})


def _require_feed(response: requests.Response) -> None:
    """Reject a 2xx body that is not a complete XML feed (the session then retries it)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(response.content, parser)
    except etree.XMLSyntaxError as exc:
        raise BadResponse(f"not well-formed XML: {exc}") from None
    name = etree.QName(root).localname
    if name not in {"feed", "rss"}:
        raise BadResponse(f"expected a feed, got a <{name}> document")


def _collapse(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.year == 1:  # the arxiv package's "missing" is datetime.min
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def paper_from_result(result: Any) -> Paper:
    """Convert an ``arxiv.Result`` into a `Paper` (id without version, primary category first)."""
    parsed = parse_arxiv_id(result.get_short_id())
    primary = result.primary_category or None
    categories = tuple(dict.fromkeys(c for c in [primary, *result.categories] if c))
    return Paper(
        id=parsed.canonical,
        version=parsed.version or 1,
        title=_collapse(result.title),
        abstract=_collapse(result.summary),
        authors=tuple(_collapse(a.name) for a in result.authors if _collapse(a.name)),
        categories=categories,
        primary_category=primary or (categories[0] if categories else None),
        comment=_collapse(result.comment) or None,
        journal_ref=_collapse(result.journal_ref) or None,
        doi=_collapse(result.doi) or None,
        published=_utc(result.published),
        updated=_utc(result.updated),
    )


def _category_terms(category: str) -> list[str]:
    if "." in category or category in _ARCHIVES_WITHOUT_SUBJECTS:
        return [f"cat:{category}"]
    if category in _ARCHIVES_WITH_LEGACY_BARE:
        return [f"cat:{category}", f"cat:{category}.*"]
    return [f"cat:{category}.*"]


def _api_time(value: datetime, name: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y%m%d%H%M")


def build_search_query(
    categories: Sequence[str], submitted_from: datetime, submitted_to: datetime
) -> str:
    """The backfill query: any of `categories`, submitted in ``[from, to]`` (minutes, GMT).

    arXiv's date range is inclusive at minute resolution, so back-to-back windows share their
    boundary minute; callers deduplicate on the paper id.
    """
    cats = parse_categories(",".join(categories))  # validates; raises ValueError on typos
    start = _api_time(submitted_from, "submitted_from")
    end = _api_time(submitted_to, "submitted_to")
    if submitted_to < submitted_from:
        raise ValueError("submitted_to is before submitted_from")
    terms = [term for cat in cats for term in _category_terms(cat)]
    return f"({' OR '.join(terms)}) AND submittedDate:[{start} TO {end}]"


class _PagingClient(arxiv.Client):
    """``arxiv.Client`` whose paging stops on a short page and distrusts an empty first page.

    Overrides the private ``_results`` of arxiv 4.x (pinned in pyproject) and reuses its
    ``_format_url`` / ``_parse_feed``, the latter being where the package retries an
    unexpectedly empty page ``num_retries`` times before raising ``UnexpectedEmptyPageError``.
    """

    def _results(self, search: Any, offset: int = 0) -> Generator[Any, None, None]:
        url = self._format_url(search, offset, self.page_size)
        feed = self._parse_feed(url, first_page=True)
        total = feed.header.total_results
        if not feed.results:
            if total <= offset:
                return
            # arXiv claims results but sent none: retry like a middle page (raises if it stays
            # empty) rather than reporting "nothing found".
            feed = self._parse_feed(url, first_page=False)
        while True:
            yield from feed.results
            offset += len(feed.results)
            if offset >= total:
                return
            if len(feed.results) < self.page_size:
                log.warning(
                    "arXiv reported %d results but a page ended short at %d; stopping there",
                    total,
                    offset,
                )
                return
            url = self._format_url(search, offset, self.page_size)
            feed = self._parse_feed(url, first_page=False)


def _xml_of(response: requests.Response | None) -> etree._Element | None:
    """The parsed body of an error answer, if it is XML (safely: no entities, no network)."""
    if response is None:
        return None
    try:
        return etree.fromstring(
            response.content, etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None


def _error_feed_message(response: requests.Response | None) -> str | None:
    """The summary of arXiv's API error feed (one entry titled "Error"), if that is what it is."""
    root = _xml_of(response)
    if root is None:
        return None
    for entry in root.iter(f"{{{ATOM_NS}}}entry"):
        if (entry.findtext(f"{{{ATOM_NS}}}title") or "").strip().lower() == "error":
            return _collapse(entry.findtext(f"{{{ATOM_NS}}}summary")) or "unknown error"
    return None


def _rss_error_message(response: requests.Response | None) -> str | None:
    """The description of an RSS/Atom "Feed error for query" document, if it is one."""
    root = _xml_of(response)
    if root is None:
        return None
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname in {"description", "subtitle"}:
            return _collapse("".join(t for t in el.itertext() if isinstance(t, str))) or None
    return None
    try:
        root = etree.fromstring(
            response.content, etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname in {"description", "subtitle"}:
            return _collapse("".join(t for t in el.itertext() if isinstance(t, str))) or None
    return None


@dataclass(frozen=True, slots=True)
class FeedFetch:
    """A conditional look at a listing feed: `listing` is None when arXiv answered 304 (not
    modified); `etag` / `last_modified` are the validators to send next time."""

    listing: Listing | None
    etag: str | None
    last_modified: str | None


class ArxivSource(Closing):
    """Fetch listings, look papers up and run backfill searches against arXiv."""

    def __init__(
        self,
        *,
        api_url: str,
        rss_url: str,
        delay_seconds: float = 3.0,
        timeout_seconds: float = 30.0,
        retries: int = 4,
        page_size: int = MAX_PAGE_SIZE,
        backoff_seconds: float = 2.0,
        throttle: Throttle | None = None,
        spacing: RequestSpacing | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.api_url = api_url.rstrip("/")
        self.rss_url = rss_url.rstrip("/")
        self._session = ArxivSession(
            delay_seconds=delay_seconds,
            timeout_seconds=timeout_seconds,
            retries=retries,
            backoff_seconds=backoff_seconds,
            throttle=throttle,
            spacing=spacing,
            response_check=_require_feed,
        )
        # The arxiv package: our session, no sleeping of its own (the throttle spaces requests),
        # and num_retries only matters for empty pages (our session raises on everything else).
        self._client = _PagingClient(page_size=page_size, delay_seconds=0.0, num_retries=retries)
        self._client._session.close()
        self._client._session = self._session
        self._client.query_url_format = self.api_url + "?{}"
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, spacing: RequestSpacing | None = None) -> Self:
        """The configured source; `spacing` shares its request slots with other processes."""
        return cls(
            api_url=settings.arxiv_api_url,
            rss_url=settings.arxiv_rss_url,
            delay_seconds=settings.arxiv_delay_seconds,
            timeout_seconds=settings.arxiv_timeout_seconds,
            retries=settings.arxiv_retries,
            spacing=spacing,
        )

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far by this source (retries included)."""
        return self._session.request_count

    @property
    def session(self) -> ArxivSession:
        return self._session

    def close(self) -> None:
        self._session.close()

    def _gate(self) -> asyncio.Lock:
        # One lock per event loop (an asyncio.Lock must not cross loops, e.g. in tests).
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Lock()
        return gate

    async def _run(self, what: str, fn: Callable[[], T]) -> T:
        """Run blocking `fn` in a thread; turn transport failures into `SourceUnavailable`."""
        try:
            # Requests are serialised by the throttle anyway; queueing here instead of in
            # worker threads keeps a burst of calls from parking every thread of the default
            # executor, and serves callers in order.
            async with self._gate():
                return await asyncio.to_thread(fn)
        except PaperboyError:
            raise
        except RetriesExhausted as exc:
            error = ArxivUnreachable if exc.unreachable else SourceUnavailable
            raise error(f"arXiv is not responding ({what}): {exc}") from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "error"
            raise SourceUnavailable(f"arXiv answered HTTP {status} ({what})") from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(f"could not reach arXiv ({what})") from exc
        except arxiv.UnexpectedEmptyPageError as exc:
            raise SourceUnavailable(
                f"arXiv kept returning an empty page in the middle of the results ({what})"
            ) from exc
        except arxiv.ArxivError as exc:
            raise SourceUnavailable(f"arXiv request failed ({what}): {exc.message}") from exc

    # -- listings ----------------------------------------------------------------------------

    async def fetch_listing(self, group: str) -> Listing:
        """Today's listing feed of `group` (``cs``, ``stat.ML``, ``cs.CV+cs.GR``): one request."""
        fetched = await self.fetch_listing_if_changed(group)
        assert fetched.listing is not None  # unconditional: never 304
        return fetched.listing

    async def fetch_listing_if_changed(
        self, group: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FeedFetch:
        """`group`'s listing feed, asked conditionally with the validators of the last answer
        (``If-None-Match`` / ``If-Modified-Since``): a 304 costs arXiv nothing to build."""
        parse_categories(group.replace("+", ","))  # refuse typos before asking arXiv
        url = f"{self.rss_url}/{group}"
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        def fetch() -> FeedFetch:
            try:
                response = self._session.get(url, headers=headers)
            except requests.HTTPError as exc:
                detail = _rss_error_message(exc.response)
                if detail is None:
                    raise
                raise FeedError(f"arXiv refused the {group} feed: {detail}") from exc
            new_etag = response.headers.get("ETag") or etag
            new_modified = response.headers.get("Last-Modified") or last_modified
            if response.status_code == 304:
                return FeedFetch(None, new_etag, new_modified)
            return FeedFetch(parse_listing(response.content, group), new_etag, new_modified)

        return await self._run(f"listing {group}", fetch)

    # -- lookups -----------------------------------------------------------------------------

    def _lookup_batch(self, batch: list[ArxivId]) -> list[Paper]:
        search = arxiv.Search(id_list=[str(ArxivId(a.canonical, a.version)) for a in batch])
        search.max_results = None  # every result of this id_list, however it is paged
        try:
            return list(_papers(self._client.results(search)))
        except requests.HTTPError as exc:
            message = _error_feed_message(exc.response)
            if exc.response is not None and exc.response.status_code == 400 and message:
                raise InvalidArxivId(
                    f"arXiv rejected the identifier: {message}. Examples of accepted forms: "
                    f"{EXAMPLES}"
                ) from exc
            raise

    async def lookup(self, ids: Sequence[ArxivId | str]) -> dict[str, Paper]:
        """Metadata of `ids`, keyed by the requested id without version; unknown ids are absent.

        A versioned id returns that version. Strings are parsed first (`InvalidArxivId`).
        Requests carry at most `LOOKUP_BATCH` ids each.
        """
        wanted = list(
            dict.fromkeys(i if isinstance(i, ArxivId) else parse_arxiv_id(i) for i in ids)
        )
        if not wanted:
            return {}

        def run() -> dict[str, Paper]:
            found: dict[str, Paper] = {}
            for start in range(0, len(wanted), LOOKUP_BATCH):
                batch = wanted[start : start + LOOKUP_BATCH]
                by_canonical: dict[str, list[ArxivId]] = {}
                for aid in batch:
                    by_canonical.setdefault(aid.canonical, []).append(aid)
                for paper in self._lookup_batch(batch):
                    for aid in by_canonical.get(paper.id, []):
                        if aid.version is None or aid.version == paper.version:
                            found[aid.id] = paper
            return found

        return await self._run(f"lookup of {len(wanted)} id(s)", run)

    async def get_paper(self, id_text: str) -> Paper:
        """One paper by any accepted id form; `InvalidArxivId` / `PaperNotFound` otherwise."""
        aid = parse_arxiv_id(id_text)
        paper = (await self.lookup([aid])).get(aid.id)
        if paper is None and aid.version is not None:
            # Maybe only that version is missing: name the ones that exist.
            latest = (await self.lookup([ArxivId(aid.id)])).get(aid.id)
            if latest is not None:
                versions = "version v1" if latest.version == 1 else f"versions v1–v{latest.version}"
                raise PaperNotFound(
                    f"arXiv has {aid.id} in {versions}; v{aid.version} does not exist."
                )
        if paper is None:
            raise PaperNotFound(
                f"arXiv has no paper “{aid}”. Check the identifier "
                "(for example 2409.03605 or https://arxiv.org/abs/2409.03605)."
            )
        return paper

    # -- backfill ----------------------------------------------------------------------------

    async def search(
        self, categories: Sequence[str], submitted_from: datetime, submitted_to: datetime
    ) -> list[Paper]:
        """Every paper in `categories` submitted in ``[submitted_from, submitted_to]``.

        Sorted by submission date, oldest first; paged `page_size` at a time with no cap.
        """
        query = build_search_query(categories, submitted_from, submitted_to)
        search = arxiv.Search(
            query=query,
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Ascending,
        )

        def run() -> list[Paper]:
            return _dedupe(_papers(self._client.results(search)))

        return await self._run("backfill search", run)


def _papers(results: Iterable[Any]) -> Iterator[Paper]:
    for result in results:
        try:
            yield paper_from_result(result)
        except InvalidArxivId:
            # arXiv's own id in a form we do not know: not the user's mistake, so skip it.
            log.warning("skipping an API entry with an unreadable id: %s", result.entry_id)


def _dedupe(papers: Iterable[Paper]) -> list[Paper]:
    # A paper can sit on both sides of a page boundary if arXiv's ordering shifts while paging.
    seen: dict[str, Paper] = {}
    for paper in papers:
        seen.setdefault(paper.id, paper)
    return list(seen.values())
