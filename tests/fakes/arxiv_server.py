"""A protocol-faithful fake of arXiv (query API + listing feeds) on 127.0.0.1.

Usage (builders are in `tests.fakes.arxiv_data`)::

    @pytest.fixture
    def fake() -> Iterator[FakeArxiv]:
        with FakeArxiv() as server:      # a background thread on 127.0.0.1, random port
            yield server

    async def test_something(fake: FakeArxiv) -> None:
        papers = make_papers(30, categories=("cs.CV",))
        fake.announce(date(2024, 9, 9), new=papers[:10], replaced=[next_version(papers[20])])
        fake.add_papers(papers)                       # everything the API can look up
        fake.inject(Fault.http(503), Fault.empty_page(start=100))
        async with ArxivSource(api_url=fake.api_url, rss_url=fake.rss_url,
                               delay_seconds=0, backoff_seconds=0.01) as source:
            listing = await source.fetch_listing("cs")
        assert len(fake.requests_to("/rss/")) == 2    # one 503, one retry

Settings-driven code gets the same URLs through ``ARXIV_API_URL`` / ``ARXIV_RSS_URL``.

Endpoints (real formats, see `tests.fakes.arxiv_data`):

* ``GET /api/query`` — ``id_list`` (new/old style, versioned or not; unknown ids are simply
  missing; a malformed id gives HTTP 400 and arXiv's error feed), ``search_query`` (fields
  ``cat ti au abs co jr all id submittedDate lastUpdatedDate``, ``cat:cs.*`` wildcards, quoted
  phrases, ``AND``/``OR``/``ANDNOT`` and parentheses, ``[YYYYMMDDHHMM TO YYYYMMDDHHMM]`` ranges,
  inclusive at minute resolution), ``start``, ``max_results`` (≤ 2000), ``sortBy``/``sortOrder``.
* ``GET /rss/<cats>`` and ``GET /atom/<cats>`` — the day's listing for ``cats`` (``cs``,
  ``cs.CV+cs.GR``...). Derived from `announce()` like arXiv does it: a new paper is ``new`` in
  feeds covering its primary category and ``cross`` in the others; replacements likewise
  ``replace`` / ``replace-cross``. `set_listing()` pins an exact listing for one group string.
  Unknown categories give HTTP 400 and arXiv's feed error document.

Listing feeds carry ``ETag`` (a hash of the body) and ``Last-Modified`` (when the served listing
last changed) and answer ``304 Not Modified`` to a request whose ``If-None-Match`` matches, or
without one, whose ``If-Modified-Since`` is not older, as a conditional-GET-aware server does.

Full text (``ARXIV_SITE_URL`` = `site_url`): ``GET /html/<id>v<n>`` serves a page registered with
`add_html` (build one with `tests.fakes.fulltext_data.latexml_page`), ``/html/<id>v<n>/<file>``
its figures (`add_figure`), ``GET /pdf/<id>v<n>`` PDF bytes (`add_pdf`, optionally without
``Content-Length``). Anything not registered answers 404, as arXiv does for a paper without an
HTML rendering.

Faults (`Fault`) are queued with `inject()` and served in order to the first matching request:
HTTP errors with ``Retry-After``, slow answers (for client timeouts), malformed XML, an HTML
page, an empty result page, a dropped connection. Every request is recorded (`requests`), with
`time.monotonic()` stamps: ``started`` when the handler got it and ``responded`` just before the
answer was written, so ``next.started - previous.responded`` is a lower bound of the client's
idle gap and spacing can be asserted without sleeping tricks.
"""

from __future__ import annotations

import enum
import hashlib
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from bot.config import ARCHIVES
from bot.models import AnnounceType, Listing, Paper
from tests.fakes.arxiv_data import (
    make_listing,
    render_api_error,
    render_api_feed,
    render_atom_listing,
    render_feed_error,
    render_rss_listing,
)

__all__ = ["CATEGORIES", "FakeArxiv", "Fault", "FaultKind", "RecordedRequest", "announcements_of"]

ATOM_TYPE = "application/atom+xml; charset=UTF-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
API_MAX_RESULTS = 2000
RSS_ITEM_CAP = 2000

# What arXiv's API accepts as an id *format* (it answers "incorrect id format" otherwise).
# Deliberately looser than bot.source.ids: the real API accepts e.g. 0808.05394 and finds nothing.
_API_ID_RE = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Za-z-]+)?/\d{7})(?:v\d+)?$")
# arXiv's category taxonomy: what the listing service accepts besides whole archives.
_SUBJECTS = {
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA "
    "NE NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA "
    "RT SG SP ST",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
    "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
CATEGORIES = frozenset(ARCHIVES) | frozenset(
    f"{archive}.{subject}"
    for archive, subjects in _SUBJECTS.items()
    for subject in subjects.split()
)


class FaultKind(enum.Enum):
    STATUS = "status"  # an HTTP error status (with optional Retry-After)
    SLOW = "slow"  # wait `delay` seconds, then answer normally (the client may have given up)
    MALFORMED = "malformed"  # 200 with the real body cut in half: not well-formed XML
    HTML = "html"  # 200 with an HTML page, as a captive portal or broken proxy would send
    EMPTY_PAGE = "empty_page"  # 200, a valid API page with the right counts but no entries
    RESET = "reset"  # close the connection without answering (TCP RST)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it. ``query`` holds the last value of each parameter.

    ``started``/``responded`` are `time.monotonic()` stamps: when the handler got the request and
    just before it wrote the answer (or dropped the connection).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    started: float
    responded: float
    status: int | None  # None when the connection was dropped
    fault: FaultKind | None


@dataclass(frozen=True)
class Fault:
    """A misbehaviour served once to the first request whose path starts with `path`.

    `when` can narrow it further, e.g. ``lambda q: q.get("start") == "100"`` (it receives the
    request's query parameters).
    """

    kind: FaultKind
    path: str = "/"
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    when: Callable[[dict[str, str]], bool] | None = None

    @classmethod
    def http(
        cls, status: int = 503, *, retry_after: str | float | None = None, path: str = "/"
    ) -> Fault:
        ra = None if retry_after is None else str(retry_after)
        return cls(FaultKind.STATUS, path=path, status=status, retry_after=ra)

    @classmethod
    def slow(cls, delay: float, *, path: str = "/") -> Fault:
        return cls(FaultKind.SLOW, path=path, delay=delay)

    @classmethod
    def malformed(cls, *, path: str = "/") -> Fault:
        return cls(FaultKind.MALFORMED, path=path)

    @classmethod
    def html(cls, *, path: str = "/") -> Fault:
        return cls(FaultKind.HTML, path=path)

    @classmethod
    def empty_page(cls, *, start: int | None = None, path: str = "/api/query") -> Fault:
        """An empty API page; with `start`, only for the page starting there."""
        when = None if start is None else (lambda q: q.get("start", "0") == str(start))
        return cls(FaultKind.EMPTY_PAGE, path=path, when=when)

    @classmethod
    def reset(cls, *, path: str = "/") -> Fault:
        return cls(FaultKind.RESET, path=path)

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return path.startswith(self.path) and (self.when is None or self.when(query))


# -- search_query evaluation ---------------------------------------------------------------

Predicate = Callable[[Paper], bool]

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<range>\w+:\[[^\]]*\])|(?P<phrase>\w+:\"[^\"]*\")"
    r"|(?P<word>[^\s()]+))"
)


class QueryError(ValueError):
    pass


def _parse_stamp(text: str) -> datetime:
    # By length: strptime alone would read "202409071853" as 18:05:03 with %H%M%S.
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    try:
        return datetime.strptime(text, formats[len(text)]).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        raise QueryError(f"bad date {text!r}") from None


def _field_text(paper: Paper, name: str) -> str:
    parts = {
        "ti": [paper.title],
        "au": list(paper.authors),
        "abs": [paper.abstract],
        "co": [paper.comment or ""],
        "jr": [paper.journal_ref or ""],
        "id": [paper.id],
    }
    if name == "all":
        return " ".join(
            [paper.title, paper.abstract, *paper.authors, paper.comment or "", paper.id]
        ).lower()
    if name not in parts:
        raise QueryError(f"unknown field {name!r}")
    return " ".join(parts[name]).lower()


def _term(token: str) -> Predicate:
    name, _, value = token.partition(":")
    if not value:
        name, value = "all", token
    if name in {"submittedDate", "lastUpdatedDate"}:
        m = re.fullmatch(r"\[(\d+)\s+TO\s+(\d+)\]", value)
        if not m:
            raise QueryError(f"bad range {value!r}")
        low, high = _parse_stamp(m.group(1)), _parse_stamp(m.group(2))

        def in_range(p: Paper) -> bool:
            stamp = p.published if name == "submittedDate" else p.updated
            if stamp is None:
                return False
            minute = stamp.astimezone(UTC).replace(second=0, microsecond=0)
            return low <= minute <= high

        return in_range
    if name == "cat":
        wanted = value.lower()
        if wanted.endswith(".*"):
            prefix = wanted[:-1]
            return lambda p: any(c.lower().startswith(prefix) for c in p.categories)
        return lambda p: any(c.lower() == wanted for c in p.categories)
    needle = value.strip('"').lower()
    words = [needle] if value.startswith('"') else needle.split()
    return lambda p: all(w in _field_text(p, name) for w in words)


def parse_search_query(text: str) -> Predicate:
    """Compile an API ``search_query`` into a predicate (OR < AND/ANDNOT < parentheses)."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        tok = m.group("lp") or m.group("rp") or m.group("range") or m.group("phrase")
        tok = tok or m.group("word")
        if tok:
            tokens.append(tok)
    if not tokens:
        raise QueryError("empty query")
    index = 0

    def peek() -> str | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> str:
        nonlocal index
        if index >= len(tokens):
            raise QueryError("unexpected end of query")
        index += 1
        return tokens[index - 1]

    def unary() -> Predicate:
        tok = take()
        if tok == "(":
            inner = or_expr()
            if take() != ")":
                raise QueryError("missing )")
            return inner
        if tok in {")", "AND", "OR", "ANDNOT"}:
            raise QueryError(f"unexpected {tok}")
        return _term(tok)

    def and_expr() -> Predicate:
        left = unary()
        while peek() in {"AND", "ANDNOT"}:
            op = take()
            right = unary()
            left = _combine(left, right, negate=op == "ANDNOT")
        return left

    def or_expr() -> Predicate:
        left = and_expr()
        while peek() == "OR":
            take()
            right = and_expr()
            left = _either(left, right)
        return left

    result = or_expr()
    if index != len(tokens):
        raise QueryError(f"unexpected {tokens[index]}")
    return result


def _combine(a: Predicate, b: Predicate, *, negate: bool) -> Predicate:
    if negate:
        return lambda p: a(p) and not b(p)
    return lambda p: a(p) and b(p)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda p: a(p) or b(p)


# -- the server ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined on close, so no handler outlives the test
    block_on_close = True
    fake: FakeArxiv

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that timed out and hung up is part of the tests, not an error.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at shutdown

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class _Day:
    listing_date: date | None
    new: list[Paper] = field(default_factory=list)
    replaced: list[Paper] = field(default_factory=list)


class FakeArxiv:
    """In-memory arXiv on a random loopback port. Start with ``with`` or `start()`/`stop()`."""

    def __init__(self, papers: Iterable[Paper] = ()) -> None:
        self._lock = threading.Lock()
        self._papers: dict[str, dict[int, Paper]] = {}
        self._day = _Day(listing_date=None)
        self._listings: dict[str, Listing] = {}
        # Full-text files by path (/html/<id>v<n>, its figures, /pdf/<id>v<n>):
        # (body, content type, whether to send Content-Length).
        self._files: dict[str, tuple[bytes, str, bool]] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        #: Added to the API's totalResults for searches, to mimic arXiv over-reporting.
        self.total_results_padding = 0
        #: The listing feeds' item cap (arXiv: 2000).
        self.rss_item_cap = RSS_ITEM_CAP
        #: Unix time of the last change to what the feeds serve (their Last-Modified).
        self.feeds_changed_at = int(time.time())
        self.add_papers(papers)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes slow handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeArxiv is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """Pass as ``api_url`` / ``ARXIV_API_URL``."""
        return f"{self.base_url}/api/query"

    @property
    def rss_url(self) -> str:
        """Pass as ``rss_url`` / ``ARXIV_RSS_URL`` (RSS 2.0 feeds)."""
        return f"{self.base_url}/rss"

    @property
    def atom_url(self) -> str:
        """The Atom variant of the listing feeds."""
        return f"{self.base_url}/atom"

    @property
    def site_url(self) -> str:
        """Pass as ``ARXIV_SITE_URL``: full text is served at ``/html/…`` and ``/pdf/…``."""
        return self.base_url

    # -- state ------------------------------------------------------------------------------

    def add_papers(self, papers: Iterable[Paper]) -> None:
        """Store papers (any versions; a lookup without version returns the highest)."""
        with self._lock:
            for paper in papers:
                self._papers.setdefault(paper.id, {})[paper.version] = paper

    def add_paper(self, paper: Paper) -> None:
        self.add_papers([paper])

    def papers(self) -> list[Paper]:
        """The latest version of every stored paper."""
        with self._lock:
            return [versions[max(versions)] for versions in self._papers.values()]

    def announce(
        self,
        listing_date: date | None,
        *,
        new: Iterable[Paper] = (),
        replaced: Iterable[Paper] = (),
    ) -> None:
        """Set today's announcements (and store the papers). Feeds are derived from this.

        ``announce(None)`` (or a date with nothing) gives empty feeds, like a weekend; a None
        date also drops the ``pubDate``.
        """
        new, replaced = list(new), list(replaced)
        self.add_papers([*new, *replaced])
        with self._lock:
            self._day = _Day(listing_date, new, replaced)
            self._feeds_changed()

    def set_listing(self, listing: Listing) -> None:
        """Serve exactly `listing` for requests of ``listing.group`` (and store its papers)."""
        self.add_papers(a.paper for a in listing.announcements)
        with self._lock:
            self._listings[listing.group] = listing
            self._feeds_changed()

    def clear_listings(self) -> None:
        with self._lock:
            self._listings.clear()
            self._day = _Day(listing_date=None)
            self._feeds_changed()

    def _feeds_changed(self) -> None:
        # Strictly later than before, at HTTP dates' one-second resolution.
        self.feeds_changed_at = max(int(time.time()), self.feeds_changed_at + 1)

    # -- full text ----------------------------------------------------------------------------

    def add_html(self, vid: str, page: str | bytes) -> None:
        """Serve `page` at ``/html/<vid>`` (and ``/html/<vid>/``); other ids answer 404, as
        arXiv does for a paper without an HTML rendering."""
        body = page.encode() if isinstance(page, str) else page
        with self._lock:
            self._files[f"/html/{vid}"] = (body, "text/html; charset=utf-8", True)

    def add_figure(self, vid: str, name: str, data: bytes, content_type: str = "image/png") -> None:
        """Serve an image next to the page: ``/html/<vid>/<name>`` (``x1.png``)."""
        with self._lock:
            self._files[f"/html/{vid}/{name}"] = (data, content_type, True)

    def add_pdf(self, vid: str, data: bytes, *, content_length: bool = True) -> None:
        """Serve `data` at ``/pdf/<vid>``; without `content_length` the size is not announced
        (the body ends when the connection closes)."""
        with self._lock:
            self._files[f"/pdf/{vid}"] = (data, "application/pdf", content_length)

    def _file(self, path: str) -> tuple[bytes, str, bool] | None:
        with self._lock:
            return self._files.get(path) or self._files.get(path.rstrip("/"))

    # -- faults and records -----------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each is served once, in order, to the first matching request."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- request handling -------------------------------------------------------------------

    def _take_fault(self, path: str, query: dict[str, str]) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(path, query):
                    return self._faults.pop(i)
        return None

    def _handle(self, handler: _Handler) -> None:
        started = time.monotonic()
        parts = urlsplit(handler.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        fault = self._take_fault(path, query)
        kind = fault.kind if fault else None

        def record(status: int | None) -> None:
            with self._lock:
                self._requests.append(
                    RecordedRequest(
                        method=handler.command,
                        path=path,
                        query=query,
                        headers=dict(handler.headers.items()),
                        started=started,
                        responded=time.monotonic(),
                        status=status,
                        fault=kind,
                    )
                )

        if fault is not None and fault.kind is FaultKind.RESET:
            record(None)
            # SO_LINGER 0: closing sends RST instead of FIN, like a dropped connection.
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            return
        if fault is not None and fault.kind is FaultKind.STATUS:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
            record(fault.status)
            self._send(handler, fault.status, body, "text/html; charset=utf-8", headers)
            return
        if fault is not None and fault.kind is FaultKind.SLOW:
            self._stopping.wait(fault.delay)
        if fault is not None and fault.kind is FaultKind.HTML:
            record(200)
            body = b"<!DOCTYPE html><html><body>Please log in to the Wi-Fi</body></html>"
            self._send(handler, 200, body, "text/html; charset=utf-8")
            return

        if path == "/api/query":
            status, body, ctype = self._api(query, empty=kind is FaultKind.EMPTY_PAGE)
        elif path.startswith(("/rss/", "/atom/")):
            fmt, _, group = path[1:].partition("/")
            status, body, ctype = self._feed(group, atom=fmt == "atom")
            if status == 200:
                validators = self._validators(body)
                if self._not_modified(handler, validators):
                    record(304)
                    self._send(handler, 304, b"", ctype, validators)
                    return
                if kind is FaultKind.MALFORMED:
                    body = body[: max(1, len(body) // 2)]
                record(status)
                self._send(handler, status, body, ctype, validators)
                return
        elif path.startswith(("/html/", "/pdf/")) and (served := self._file(path)) is not None:
            body, ctype, announce = served
            if kind is FaultKind.MALFORMED:
                body = body[: max(1, len(body) // 2)]
            record(200)
            self._send(handler, 200, body, ctype, content_length=announce)
            return
        else:
            status, body, ctype = 404, b"<html><body>Not Found</body></html>", "text/html"
        if kind is FaultKind.MALFORMED:
            body = body[: max(1, len(body) // 2)]
        record(status)
        self._send(handler, status, body, ctype)

    def _validators(self, body: bytes) -> dict[str, str]:
        return {
            "ETag": f'"{hashlib.sha1(body).hexdigest()[:16]}"',
            "Last-Modified": formatdate(self.feeds_changed_at, usegmt=True),
        }

    @staticmethod
    def _not_modified(handler: _Handler, validators: dict[str, str]) -> bool:
        match = handler.headers.get("If-None-Match")
        if match is not None:
            return validators["ETag"] in [m.strip() for m in match.split(",")] or match == "*"
        since = handler.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            since_dt = parsedate_to_datetime(since)
            modified = parsedate_to_datetime(validators["Last-Modified"])
        except (TypeError, ValueError):
            return False
        return modified <= since_dt

    @staticmethod
    def _send(
        handler: _Handler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        *,
        content_length: bool = True,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if content_length:
            handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    # -- the query API ----------------------------------------------------------------------

    def _lookup(self, raw: str) -> Paper | None:
        m = re.fullmatch(r"(?P<id>.+?)(?:v(?P<v>\d+))?", raw)
        assert m is not None
        pid = m.group("id")
        if "/" in pid:  # math.GT/0309136 is filed as math/0309136
            archive, number = pid.split("/", 1)
            pid = f"{archive.split('.', 1)[0]}/{number}"
        with self._lock:
            versions = self._papers.get(pid)
            if not versions:
                return None
            if m.group("v"):
                return versions.get(int(m.group("v")))
            return versions[max(versions)]

    def _api(self, q: dict[str, str], *, empty: bool) -> tuple[int, bytes, str]:
        def error(message: str) -> tuple[int, bytes, str]:
            return 400, render_api_error(message), ATOM_TYPE

        try:
            start = int(q.get("start", "0") or "0")
        except ValueError:
            return error("start must be an integer")
        try:
            max_results = int(q.get("max_results", "10") or "10")
        except ValueError:
            return error("max_results must be an integer")
        if start < 0:
            return error("start must be non-negative")
        if max_results < 0:
            return error("max_results must be non-negative")
        max_results = min(max_results, API_MAX_RESULTS)

        search_query = q.get("search_query", "")
        id_text = q.get("id_list", "")
        ids = [i.strip() for i in id_text.split(",") if i.strip()]
        predicate: Predicate | None = None
        if search_query.strip():
            try:
                predicate = parse_search_query(search_query)
            except QueryError as exc:
                return error(f"malformed query: {exc}")

        padding = 0
        if ids:
            for raw in ids:
                if not _API_ID_RE.match(raw):
                    return error(f"incorrect id format for {raw}")
            found = [p for p in (self._lookup(i) for i in ids) if p is not None]
            results = list({(p.id, p.version): p for p in found}.values())
            if predicate is not None:
                results = [p for p in results if predicate(p)]
        elif predicate is not None:
            results = [p for p in self.papers() if predicate(p)]
            padding = self.total_results_padding
        else:
            results = []

        sort_by = q.get("sortBy", "relevance")
        descending = q.get("sortOrder", "descending") == "descending"
        if sort_by in {"submittedDate", "lastUpdatedDate"}:
            attr = "published" if sort_by == "submittedDate" else "updated"
            floor = datetime.min.replace(tzinfo=UTC)
            results.sort(key=lambda p: (getattr(p, attr) or floor, p.id), reverse=descending)
        # "relevance": id_list order for id lookups, storage order otherwise.

        total = len(results) + padding
        page: Sequence[Paper] = [] if empty else results[start : start + max_results]
        body = render_api_feed(
            page,
            total=total,
            start=start,
            max_results=max_results,
            search_query=search_query,
            id_list=id_text,
        )
        return 200, body, ATOM_TYPE

    # -- the listing feeds ------------------------------------------------------------------

    def _feed(self, group: str, *, atom: bool) -> tuple[int, bytes, str]:
        ctype = ATOM_TYPE if atom else RSS_TYPE
        tokens = group.split("+")
        for token in tokens:
            if token not in CATEGORIES:
                body = render_feed_error(
                    group,
                    f"Invalid archive or category: {token}",
                    atom=atom,
                    base_url=self.base_url,
                )
                return 400, body, ctype
        with self._lock:
            listing = self._listings.get(group)
            day = self._day
        if listing is None:
            listing = self._derive(group, tokens, day)
        if len(listing.announcements) > self.rss_item_cap:
            listing = Listing(
                group=listing.group,
                listing_date=listing.listing_date,
                announcements=listing.announcements[: self.rss_item_cap],
            )
        render = render_atom_listing if atom else render_rss_listing
        return 200, render(listing, base_url=self.base_url), ctype

    @staticmethod
    def _derive(group: str, tokens: Sequence[str], day: _Day) -> Listing:
        def covered(category: str | None) -> bool:
            return category is not None and any(
                category == t or category.startswith(t + ".") for t in tokens
            )

        buckets: dict[AnnounceType, list[Paper]] = {t: [] for t in AnnounceType}
        for papers, own, other in (
            (day.new, AnnounceType.NEW, AnnounceType.CROSS),
            (day.replaced, AnnounceType.REPLACE, AnnounceType.REPLACE_CROSS),
        ):
            for paper in papers:
                primary = paper.primary_category or (paper.categories or (None,))[0]
                if covered(primary):
                    buckets[own].append(paper)
                elif any(covered(c) for c in paper.categories):
                    buckets[other].append(paper)
        if day.listing_date is None:
            return Listing(group=group, listing_date=None, announcements=())
        return make_listing(
            group,
            day.listing_date,
            new=buckets[AnnounceType.NEW],
            cross=buckets[AnnounceType.CROSS],
            replace=buckets[AnnounceType.REPLACE],
            replace_cross=buckets[AnnounceType.REPLACE_CROSS],
        )


def announcements_of(listing: Listing) -> list[tuple[str, AnnounceType]]:
    """``(versioned id, type)`` pairs of a listing: handy in assertions."""
    return [(a.paper.versioned_id, a.type) for a in listing.announcements]
