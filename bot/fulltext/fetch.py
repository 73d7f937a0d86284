"""`FullTextSource`: fetch a paper's full text from arXiv, HTML first, then PDF, then abstract.

Requests go to ``ARXIV_SITE_URL`` (``https://arxiv.org`` by default; a mirror or a local test
server can stand in): ``GET {site}/html/{id}v{n}`` and ``GET {site}/pdf/{id}v{n}``, through an
`ArxivSession`, so they share the process-wide throttle (and, given the database's
`RequestSpacing`, the cross-process one) with the listing feeds and the query API, and are
retried like them. Bodies are streamed inside the throttle slot (a per-request
``response_check``), each under a size cap, so a download is one request in arXiv's eyes and no
other request overlaps it (across processes, the shared slot is held for at most twice the
timeout: a 20 MB PDF takes seconds on any usable link). What people are shown stays canonical
(`FullText.source_url` is ``https://arxiv.org/...``), whatever the site fetched from.

Order and fallbacks (each step that fails adds a `Note` the review can show):

1. HTML, unless the id is too old to have one (`bot.links.has_html_version`): a 404, a page
   that says the conversion failed, or a page with no article means "no HTML";
2. the PDF of the same version, read with `bot.fulltext.pdf` (first 60 pages);
3. the abstract from the metadata, as the last resort.

If arXiv does not answer at all (retries exhausted), no further request is made for that paper:
the abstract is used at once, with an `UNAVAILABLE` note.

**PDF size.** A PDF over `max_pdf_bytes` (20 MB) is *not read*: PDFium needs the whole file (a
PDF's index is at its end), so a truncated download is unreadable and "the first 20 MB" cannot be
honoured. The size is checked from ``Content-Length`` before any of the body is read (or, without
it, the download stops as soon as it passes the cap), and the review falls back to the abstract
with a note such as "the PDF is 38 MB, over the 20 MB limit, so it was not read". Such PDFs are
mostly scans and image-heavy papers whose HTML, tried first, is usually available anyway.

**Memory.** An HTML page is held in memory only while it is parsed (at most `max_html_bytes`);
a PDF is streamed to a temporary file, opened from disk by PDFium (which loads pages lazily)
and deleted as soon as its text is out. Fetches of one source are serialised, so at most one PDF
is ever being read per source, and PDFium itself runs under a process-wide lock.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Self, TypeVar

import requests

from bot.errors import ArxivUnreachable, SourceUnavailable
from bot.fulltext.html import HtmlUnusable, parse_html
from bot.fulltext.model import (
    FigureRef,
    FullText,
    Note,
    NoteKind,
    Section,
    SectionKind,
    TextSource,
)
from bot.fulltext.pdf import MAX_PAGES, PdfNoText, PdfUnreadable, extract_pdf
from bot.fulltext.text import links_in
from bot.links import has_html_version
from bot.models import Paper
from bot.source.http import (
    ArxivSession,
    BadResponse,
    Closing,
    RequestSpacing,
    RetriesExhausted,
)
from bot.summaries.sentences import clean_text

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "MAX_FIGURE_BYTES",
    "MAX_HTML_BYTES",
    "MAX_PDF_BYTES",
    "ContentTooLarge",
    "FullTextSource",
    "abstract_only",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_PDF_BYTES = 20_000_000
MAX_HTML_BYTES = 50_000_000  # LaTeXML pages with inline SVG figures reach a few MB; 50 is rare
MAX_FIGURE_BYTES = 10_000_000
_CHUNK = 256 * 1024


class ContentTooLarge(Exception):
    """A body over its cap. `size` is the declared or known size, None if only "over"."""

    def __init__(self, url: str, size: int | None, limit: int) -> None:
        self.url = url
        self.size = size
        self.limit = limit
        what = f"{size} bytes" if size is not None else "more"
        super().__init__(f"{url} is {what}, over the {limit}-byte limit")


class _Stop(Exception):
    """A fetch failed in a way that makes further requests for this paper pointless."""

    def __init__(self, note: Note) -> None:
        self.note = note
        super().__init__(str(note))


def _stream_into(sink: IO[bytes], limit: int) -> Callable[[requests.Response], None]:
    """A response check that reads the body into `sink` (inside the throttle slot), capped."""

    def check(response: requests.Response) -> None:
        try:
            declared = response.headers.get("Content-Length", "")
            expected = int(declared) if declared.isdigit() else None
            if expected is not None and expected > limit:
                raise ContentTooLarge(response.url, expected, limit)
            sink.seek(0)  # a retry starts over
            sink.truncate()
            size = 0
            try:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ContentTooLarge(response.url, None, limit)
                    sink.write(chunk)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                raise BadResponse(f"the download broke off after {size} bytes") from exc
            if expected is not None and size < expected:
                raise BadResponse(f"{size} of {expected} bytes arrived")
        finally:
            response.close()

    return check


def abstract_only(paper: Paper, notes: tuple[Note, ...] = ()) -> FullText:
    """The last resort: the abstract from the metadata, and the links it (or the comment) gives."""
    abstract = clean_text(paper.abstract)
    sections = (Section("Abstract", SectionKind.ABSTRACT, abstract),) if abstract else ()
    return FullText(
        paper_id=paper.id,
        version=paper.version,
        source=TextSource.ABSTRACT,
        sections=sections,
        links=links_in([paper.abstract, paper.comment or ""]),
        notes=notes,
    )


class FullTextSource(Closing):
    """Fetch `FullText` for papers, and figure images, from ``site_url`` (see the module doc).

    Give it the `ArxivSession` the rest of Paperboy uses (``ArxivSource.session``) so every
    arXiv request shares one client; without one it makes its own, which still shares the
    process-wide throttle. Use as an (async) context manager or call `close()`.
    """

    def __init__(
        self,
        *,
        site_url: str = "https://arxiv.org",
        session: ArxivSession | None = None,
        max_pages: int = MAX_PAGES,
        max_pdf_bytes: int = MAX_PDF_BYTES,
        max_html_bytes: int = MAX_HTML_BYTES,
        max_figure_bytes: int = MAX_FIGURE_BYTES,
        temp_dir: Path | None = None,
    ) -> None:
        if max_pages < 1 or min(max_pdf_bytes, max_html_bytes, max_figure_bytes) < 1:
            raise ValueError("page and byte limits must be positive")
        self.site_url = site_url.rstrip("/")
        self._own_session = session is None
        self._session = session if session is not None else ArxivSession()
        self.max_pages = max_pages
        self.max_pdf_bytes = max_pdf_bytes
        self.max_html_bytes = max_html_bytes
        self.max_figure_bytes = max_figure_bytes
        self.temp_dir = temp_dir
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        session: ArxivSession | None = None,
        spacing: RequestSpacing | None = None,
    ) -> Self:
        """The configured source: ``ARXIV_SITE_URL``, and `session` or one built like the
        query API's (delay, timeout, retries from the settings; `spacing` across processes)."""
        if session is None:
            session = ArxivSession(
                delay_seconds=settings.arxiv_delay_seconds,
                timeout_seconds=settings.arxiv_timeout_seconds,
                retries=settings.arxiv_retries,
                spacing=spacing,
            )
            source = cls(site_url=settings.arxiv_site_url, session=session)
            source._own_session = True
            return source
        return cls(site_url=settings.arxiv_site_url, session=session)

    @property
    def session(self) -> ArxivSession:
        return self._session

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def html_url(self, paper: Paper) -> str:
        return f"{self.site_url}/html/{paper.versioned_id}"

    def pdf_url(self, paper: Paper) -> str:
        return f"{self.site_url}/pdf/{paper.versioned_id}"

    def _gate(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Lock()
        return gate

    async def _run(self, fn: Callable[[], T]) -> T:
        # One fetch at a time per source (so one PDF at a time), queued in asyncio, not in
        # worker threads; the blocking work runs in a thread.
        async with self._gate():
            return await asyncio.to_thread(fn)

    # -- full text ---------------------------------------------------------------------------

    async def fetch(self, paper: Paper) -> FullText:
        """`paper`'s full text: HTML, else PDF, else the abstract. Never raises for arXiv's
        failures: they become notes on an abstract-only result."""
        return await self._run(lambda: self.fetch_blocking(paper))

    def fetch_blocking(self, paper: Paper) -> FullText:
        """`fetch` for threads and scripts (blocks; requests are throttled)."""
        notes: list[Note] = []
        try:
            fulltext = self._try_html(paper, notes) or self._try_pdf(paper, notes)
        except _Stop as stop:
            notes.append(stop.note)
            fulltext = None
        if fulltext is None:
            return abstract_only(paper, tuple(notes))
        if fulltext.abstract is None and paper.abstract.strip():
            abstract = Section("Abstract", SectionKind.ABSTRACT, clean_text(paper.abstract))
            fulltext = replace(fulltext, sections=(abstract, *fulltext.sections))
        return replace(fulltext, notes=(*notes, *fulltext.notes))

    def _get(self, url: str, sink: IO[bytes], limit: int) -> requests.Response:
        """GET `url` into `sink`; `_Stop` when arXiv does not answer, HTTPError for 4xx."""
        try:
            return self._session.request(
                "GET", url, stream=True, response_check=_stream_into(sink, limit)
            )
        except RetriesExhausted as exc:
            raise _Stop(Note(NoteKind.UNAVAILABLE, detail=str(exc))) from exc
        except requests.HTTPError:
            raise
        except requests.RequestException as exc:
            raise _Stop(Note(NoteKind.UNAVAILABLE, detail=type(exc).__name__)) from exc

    def _try_html(self, paper: Paper, notes: list[Note]) -> FullText | None:
        if not has_html_version(paper.id):
            notes.append(Note(NoteKind.NO_HTML))
            return None
        url = self.html_url(paper)
        body = io.BytesIO()
        try:
            response = self._get(url, body, self.max_html_bytes)
        except requests.HTTPError as exc:
            _close(exc)
            notes.append(Note(NoteKind.NO_HTML))
            return None
        except ContentTooLarge as exc:
            notes.append(Note(NoteKind.HTML_TOO_LARGE, size_bytes=exc.size, limit_bytes=exc.limit))
            return None
        try:
            return parse_html(
                body.getvalue(), paper_id=paper.id, version=paper.version, page_url=response.url
            )
        except HtmlUnusable as exc:
            log.info("no usable HTML for %s: %s", paper.versioned_id, exc)
            notes.append(Note(NoteKind.HTML_FAILED))
            return None
        finally:
            body.close()

    def _try_pdf(self, paper: Paper, notes: list[Note]) -> FullText | None:
        fd, name = tempfile.mkstemp(prefix="paperboy-", suffix=".pdf", dir=self.temp_dir)
        try:
            with os.fdopen(fd, "w+b") as sink:
                try:
                    self._get(self.pdf_url(paper), sink, self.max_pdf_bytes)
                except requests.HTTPError as exc:
                    _close(exc)
                    status = exc.response.status_code if exc.response is not None else "error"
                    raise _Stop(
                        Note(NoteKind.UNAVAILABLE, detail=f"HTTP {status} for the PDF")
                    ) from exc
                except ContentTooLarge as exc:
                    notes.append(
                        Note(NoteKind.PDF_TOO_LARGE, size_bytes=exc.size, limit_bytes=exc.limit)
                    )
                    return None
            try:
                return extract_pdf(
                    name, paper_id=paper.id, version=paper.version, max_pages=self.max_pages
                )
            except PdfNoText:
                notes.append(Note(NoteKind.PDF_NO_TEXT))
            except PdfUnreadable as exc:
                log.info("unreadable PDF for %s: %s", paper.versioned_id, exc)
                notes.append(Note(NoteKind.PDF_UNREADABLE))
            return None
        finally:
            os.unlink(name)

    async def download_pdf(self, paper: Paper, sink: IO[bytes]) -> None:
        """Stream `paper`'s PDF into `sink` (at most `max_pdf_bytes`: `ContentTooLarge`
        beyond), for rendering a page of it. Raises `SourceUnavailable` when arXiv does not
        deliver it (a 404 included)."""
        await self._run(lambda: self._download_blocking(self.pdf_url(paper), sink))

    def _download_blocking(self, url: str, sink: IO[bytes]) -> None:
        self._stream(url, sink, self.max_pdf_bytes, what=url)

    def _stream(self, url: str, sink: IO[bytes], limit: int, *, what: str) -> None:
        """GET `url` into `sink` (at most `limit` bytes), arXiv's failures as the core's."""
        try:
            self._session.request("GET", url, stream=True, response_check=_stream_into(sink, limit))
        except RetriesExhausted as exc:
            error = ArxivUnreachable if exc.unreachable else SourceUnavailable
            raise error(f"arXiv is not responding ({what}): {exc}") from exc
        except requests.HTTPError as exc:
            _close(exc)
            status = exc.response.status_code if exc.response is not None else "error"
            raise SourceUnavailable(f"arXiv answered HTTP {status} ({what})") from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(f"could not reach arXiv ({what})") from exc

    # -- figures -----------------------------------------------------------------------------

    async def fetch_figure(self, ref: FigureRef) -> bytes:
        """The image file of `ref` (at most `max_figure_bytes`: `ContentTooLarge` beyond).

        Raises `SourceUnavailable` when arXiv does not deliver it, `ValueError` for a URL that
        is not under ``site_url`` (the arXiv session only talks to arXiv).
        """
        if not ref.image_url.startswith(self.site_url + "/"):
            raise ValueError(f"{ref.image_url} is not under {self.site_url}")
        return await self._run(lambda: self._figure_blocking(ref.image_url))

    def _figure_blocking(self, url: str) -> bytes:
        body = io.BytesIO()
        self._stream(url, body, self.max_figure_bytes, what=f"figure {url}")
        return body.getvalue()


def _close(exc: requests.HTTPError) -> None:
    if exc.response is not None:
        exc.response.close()  # a streamed error answer still holds its connection
