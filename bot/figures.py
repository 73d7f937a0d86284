"""`Figures`: a paper's first figure, ready to upload to each platform, cached on disk.

Where the figure comes from (issue 8 §3):

1. arXiv's HTML rendering: the first ``figure.ltx_figure`` (`FullText.figures[0]`), its image
   fetched through the shared, polite arXiv session (`FullTextSource.fetch_figure`, at most
   10 MB) and its caption ("Figure 1: …");
2. without HTML (a 404, a failed conversion, an id too old to have one): the PDF, downloaded
   again and rendered with PDFium at 150 dpi — the first page holding an image object that is
   not a logo, else the first page (`bot.fulltext.pdf.render_figure_page`). A scanned PDF
   without text renders like any other;
3. otherwise (no PDF, arXiv down, a PDF over 20 MB, a figure over 10 MB or not an image): no
   figure, and callers send their card without one.

The full text is fetched once per paper version: `Figures.fulltext` keeps the last 32 in
memory (reviews can share it), and a caller that already has one passes it in. Images are
kept on disk (`storage.files.FigureFiles`, ``figures/`` next to the database) as delivered,
and each platform's fitted copy (`bot.fulltext.figures.fit_image`: Telegram's photo limits,
Discord's attachment limit) is made on first use and cached beside it, so a second request for
the same paper makes no arXiv request, and no image stays in memory beyond the call that needs
it. A paper whose HTML has no figure is remembered on disk as such; a fetch that failed is
remembered in memory for `retry_after`, then tried again. Concurrent requests for one paper
share one fetch.

Nothing here knows a chat platform: frontends ask `Figure.for_platform(limits)` for bytes and a
file name, and render `Figure.caption`/`Figure.page` their own way.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bot.errors import SourceUnavailable
from bot.models import Paper
from storage.files import FigureFiles

if TYPE_CHECKING:
    from bot.fulltext.fetch import FullTextSource
    from bot.fulltext.figures import PhotoLimits
    from bot.fulltext.model import FullText

__all__ = ["Figure", "FigureImage", "Figures", "shorten_caption"]

log = logging.getLogger(__name__)

T = TypeVar("T")

FULLTEXT_CACHE = 32  # full texts kept in memory (a few hundred KB each at most)
RETRY_AFTER = timedelta(minutes=10)
_SOURCE = "source"
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF8", "gif"))


def _extension(data: bytes) -> str:
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "img"


def shorten_caption(text: str, limit: int) -> str:
    """`text` with collapsed spaces, cut at a word boundary with "…" to at most `limit`
    characters (UTF-16 code units, as Telegram counts them)."""
    text = " ".join(text.split())

    def size(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    if size(text) <= limit:
        return text
    cut = text
    while cut and size(cut) > limit - 1:
        cut = cut[: max(0, min(len(cut) - 1, limit - 1))]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


@dataclass(frozen=True, slots=True)
class FigureImage:
    """An image ready to upload: within one platform's limits, named ``figure1.png``/``.jpg``."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class Figure:
    """A paper version's first figure, its files on disk.

    `caption` is the paper's ("Figure 1: …"), empty for a rendered PDF page; `page` is the PDF
    page shown when there was no HTML (None for an HTML figure).
    """

    paper_id: str
    version: int
    index: int
    caption: str
    page: int | None = None
    files: FigureFiles | None = field(default=None, repr=False, compare=False)

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}"

    def short_caption(self, limit: int) -> str:
        return shorten_caption(self.caption, limit)

    async def for_platform(self, limits: PhotoLimits) -> FigureImage | None:
        """The figure within `limits` (fitted once, then read from the cache), or None when it
        cannot be made to fit (too narrow a strip for Telegram, an unreadable image)."""
        from bot.fulltext.figures import FigureUnusable, fit_image

        if self.files is None:
            return None
        key = "fit-" + hashlib.sha1(repr(limits).encode(), usedforsecurity=False).hexdigest()[:12]
        cached = await self.files.find(self.versioned_id, key)
        if cached is None:
            source = await self.files.find(self.versioned_id, _SOURCE)
            if source is None:
                return None  # pruned meanwhile: the next request fetches it again
            try:
                fitted = await asyncio.to_thread(fit_image, source[1], limits)
            except FigureUnusable as exc:
                log.info("figure of %s does not fit %s: %s", self.versioned_id, limits, exc)
                return None
            del source
            name = f"{key}.{_extension(fitted)}"
            await self.files.save(self.versioned_id, name, fitted)
            cached = (name, fitted)
        name, data = cached
        return FigureImage(data, f"figure{self.index}.{name.rsplit('.', 1)[-1]}")


class Figures:
    """First figures of papers (see the module docstring).

    `source` builds the `FullTextSource` on first use (it loads the HTML and PDF readers),
    `files` is the disk cache. Call `aclose()` on exit to stop fetches still running.
    """

    def __init__(
        self,
        files: FigureFiles,
        source: Callable[[], FullTextSource],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry_after: timedelta = RETRY_AFTER,
        fulltext_cache: int = FULLTEXT_CACHE,
    ) -> None:
        self.files = files
        self._make_source = source
        self._source: FullTextSource | None = None
        self._clock = clock
        self._retry_after = retry_after
        self._texts: OrderedDict[str, FullText] = OrderedDict()
        self._text_cap = fulltext_cache
        self._failed: dict[str, datetime] = {}
        self._inflight: dict[str, asyncio.Task[Any]] = {}

    @property
    def source(self) -> FullTextSource:
        if self._source is None:
            self._source = self._make_source()
        return self._source

    async def aclose(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _shared(self, key: str, make: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """One task per key: concurrent callers await the same fetch."""
        task = self._inflight.get(key)
        if task is None:

            async def run() -> T:
                return await make()

            task = asyncio.create_task(run(), name=f"paperboy-{key}")
            self._inflight[key] = task

            def forget(done: asyncio.Task[Any]) -> None:
                if self._inflight.get(key) is done:
                    del self._inflight[key]

            task.add_done_callback(forget)
        return asyncio.shield(task)

    # -- full text ---------------------------------------------------------------------------

    async def fulltext(self, paper: Paper) -> FullText:
        """`paper`'s full text, from memory when it was read recently."""
        vid = paper.versioned_id
        cached = self._texts.get(vid)
        if cached is not None:
            self._texts.move_to_end(vid)
            return cached
        full: FullText = await self._shared(f"text:{vid}", lambda: self.source.fetch(paper))
        self._remember(full)
        return full

    def _remember(self, full: FullText) -> None:
        self._texts[full.versioned_id] = full
        self._texts.move_to_end(full.versioned_id)
        while len(self._texts) > self._text_cap:
            self._texts.popitem(last=False)

    # -- figures -----------------------------------------------------------------------------

    async def first_figure(
        self, paper: Paper, *, fulltext: FullText | None = None, wait: float | None = None
    ) -> Figure | None:
        """`paper`'s first figure, or None (see the module docstring). Never raises for
        arXiv's or the image's faults. With `wait`, gives up after that many seconds (the fetch
        goes on in the background and fills the cache for the next request)."""
        vid = paper.versioned_id
        try:
            found = await self._cached(paper)
            if found is not None:
                return found if isinstance(found, Figure) else None
            failed = self._failed.get(vid)
            if failed is not None and self._clock() < failed + self._retry_after:
                return None
            if fulltext is not None:
                self._remember(fulltext)
            shared = self._shared(f"figure:{vid}", lambda: self._produce(paper))
            return await asyncio.wait_for(shared, wait)
        except TimeoutError:
            log.info("the figure of %s is still on its way after %ss: sent without it", vid, wait)
            return None
        except Exception:
            log.warning("could not get the figure of %s", vid, exc_info=True)
            return None

    async def _cached(self, paper: Paper) -> Figure | bool | None:
        """The cached figure, False when the paper is known to have none, None if unknown."""
        meta = await self.files.meta(paper.versioned_id)
        if meta is None:
            return None
        if not meta.get("index"):
            return False
        return Figure(
            paper.id,
            paper.version,
            int(meta["index"]),
            str(meta.get("caption") or ""),
            meta.get("page"),
            self.files,
        )

    async def _produce(self, paper: Paper) -> Figure | None:
        from bot.fulltext.fetch import ContentTooLarge
        from bot.fulltext.model import NoteKind, TextSource

        vid = paper.versioned_id
        full = await self.fulltext(paper)
        if full.figures:
            ref = full.figures[0]
            try:
                data = await self.source.fetch_figure(ref)
            except (ContentTooLarge, SourceUnavailable, ValueError) as exc:
                return self._failure(vid, f"figure {ref.image_url}: {exc}")
            if _extension(data) == "img":
                return self._failure(vid, f"{ref.image_url} is not an image we can read")
            return await self._store(paper, data, index=ref.index, caption=ref.caption)
        kinds = {note.kind for note in full.notes}
        if full.source is TextSource.HTML:
            await self.files.save_meta(vid, {"index": 0})  # a paper without figures
            return None
        if kinds & {NoteKind.UNAVAILABLE, NoteKind.PDF_TOO_LARGE, NoteKind.PDF_UNREADABLE}:
            return self._failure(vid, "; ".join(str(n) for n in full.notes))
        return await self._render_pdf(paper)

    async def _render_pdf(self, paper: Paper) -> Figure | None:
        from bot.fulltext.fetch import ContentTooLarge
        from bot.fulltext.pdf import PdfUnreadable, render_figure_page

        vid = paper.versioned_id
        source = self.source
        fd, name = tempfile.mkstemp(prefix="paperboy-", suffix=".pdf", dir=source.temp_dir)
        try:
            with os.fdopen(fd, "w+b") as sink:
                try:
                    await source.download_pdf(paper, sink)
                except (ContentTooLarge, SourceUnavailable) as exc:
                    return self._failure(vid, f"PDF: {exc}")
            try:
                page, png = await asyncio.to_thread(render_figure_page, name)
            except PdfUnreadable as exc:
                return self._failure(vid, f"PDF unreadable: {exc}")
        finally:
            os.unlink(name)
        return await self._store(paper, png, index=1, caption="", page=page)

    async def _store(
        self, paper: Paper, data: bytes, *, index: int, caption: str, page: int | None = None
    ) -> Figure:
        vid = paper.versioned_id
        await self.files.save(vid, f"{_SOURCE}.{_extension(data)}", data)
        await self.files.save_meta(vid, {"index": index, "caption": caption, "page": page})
        self._failed.pop(vid, None)
        return Figure(paper.id, paper.version, index, caption, page, self.files)

    def _failure(self, vid: str, why: str) -> Figure | None:
        log.info("no figure for %s: %s", vid, why)
        now = self._clock()
        if len(self._failed) > 1000:  # forget failures old enough to be retried anyway
            self._failed = {k: t for k, t in self._failed.items() if now < t + self._retry_after}
        self._failed[vid] = now
        return None
