"""Fetching full text from a fake arXiv: HTML, then PDF, then abstract, with every fault noted."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import SourceUnavailable
from bot.fulltext import (
    ContentTooLarge,
    FigureRef,
    FullTextSource,
    NoteKind,
    SectionKind,
    TextSource,
)
from bot.models import LinkKind, Paper
from bot.source.http import ArxivSession, Throttle
from tests.fakes.arxiv_server import FakeArxiv, Fault
from tests.fakes.fulltext_data import FAILED_PAGE, latexml_page, make_pdf, png_bytes

PAPER = Paper(
    "2409.03605",
    1,
    "Talking Heads from a Single Photo",
    "We animate a single portrait photo from speech. Code: https://github.com/annlee/talker",
    comment="Project page: https://annlee.github.io/talker",
)
VID = PAPER.versioned_id


@functools.cache
def pdf(**options: object) -> bytes:
    return make_pdf(**options)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def source(fake: FakeArxiv, tmp_path: Path) -> Iterator[FullTextSource]:
    session = ArxivSession(
        delay_seconds=0, timeout_seconds=2, retries=1, backoff_seconds=0.01, throttle=Throttle()
    )
    with FullTextSource(site_url=fake.site_url, session=session, temp_dir=tmp_path) as src:
        yield src
    session.close()


async def test_html_first_with_sections_figures_and_canonical_links(
    fake: FakeArxiv, source: FullTextSource
) -> None:
    fake.add_html(VID, latexml_page(VID))
    fake.add_pdf(VID, pdf())
    full = await source.fetch(PAPER)
    assert full.source is TextSource.HTML and full.notes == ()
    assert [r.path for r in fake.requests] == [f"/html/{VID}"]  # the PDF is not needed
    assert full.figures[0].image_url == f"{fake.site_url}/html/{VID}/x1.png"
    # Shown to people: arXiv's canonical URLs, not the mirror fetched from.
    assert full.source_url == f"https://arxiv.org/html/{VID}"
    assert all("127.0.0.1" not in link.url for link in full.links)
    assert full.affiliations == ("University of Somewhere", "Example Research Lab")


async def test_no_html_404_falls_back_to_the_pdf(fake: FakeArxiv, source: FullTextSource) -> None:
    fake.add_pdf(VID, pdf())
    full = await source.fetch(PAPER)
    assert full.source is TextSource.PDF
    assert [n.kind for n in full.notes] == [NoteKind.NO_HTML]
    assert [(r.path, r.status) for r in fake.requests] == [
        (f"/html/{VID}", 404),
        (f"/pdf/{VID}", 200),
    ]
    assert full.sections_of(SectionKind.METHOD)
    assert full.source_url == f"https://arxiv.org/pdf/{VID}"
    assert {link.kind for link in full.links} >= {LinkKind.CODE}


async def test_a_failed_conversion_page_falls_back_to_the_pdf(
    fake: FakeArxiv, source: FullTextSource
) -> None:
    fake.add_html(VID, FAILED_PAGE)
    fake.add_pdf(VID, pdf())
    full = await source.fetch(PAPER)
    assert full.source is TextSource.PDF
    assert [str(n) for n in full.notes] == ["arXiv's HTML conversion of this paper failed"]


async def test_old_ids_do_not_ask_for_html(fake: FakeArxiv, source: FullTextSource) -> None:
    old = Paper("hep-th/9901001", 1, "Old", "An old abstract.")
    fake.add_pdf("hep-th/9901001v1", pdf())
    full = await source.fetch(old)
    assert full.source is TextSource.PDF
    assert [r.path for r in fake.requests] == ["/pdf/hep-th/9901001v1"]


async def test_image_only_pdf_without_html_falls_back_to_the_abstract(
    fake: FakeArxiv, source: FullTextSource, tmp_path: Path
) -> None:
    fake.add_pdf(VID, pdf(pages=2, image_only=True))
    full = await source.fetch(PAPER)
    assert full.source is TextSource.ABSTRACT
    assert [n.kind for n in full.notes] == [NoteKind.NO_HTML, NoteKind.PDF_NO_TEXT]
    assert full.abstract == PAPER.abstract
    assert [link.kind for link in full.links] == [LinkKind.CODE, LinkKind.PROJECT]
    assert full.source_url == "https://arxiv.org/abs/2409.03605"
    assert os.listdir(tmp_path) == []  # the temporary PDF is gone


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "streamed"])
async def test_an_oversize_pdf_is_not_read_and_the_note_says_why(
    fake: FakeArxiv, tmp_path: Path, announced: bool
) -> None:
    session = ArxivSession(delay_seconds=0, retries=0, throttle=Throttle())
    source = FullTextSource(
        site_url=fake.site_url, session=session, max_pdf_bytes=200_000, temp_dir=tmp_path
    )
    fake.add_pdf(VID, pdf() + b"%" * 500_000, content_length=announced)
    full = await source.fetch(PAPER)
    session.close()
    assert full.source is TextSource.ABSTRACT
    note = full.notes[-1]
    assert note.kind is NoteKind.PDF_TOO_LARGE and note.limit_bytes == 200_000
    if announced:
        assert note.size_bytes == len(pdf()) + 500_000
        assert str(note) == "the PDF is 0.5 MB, over the 0.2 MB limit, so it was not read"
    else:
        assert note.size_bytes is None
        assert str(note) == "the PDF is over the 0.2 MB limit, so it was not read"
    assert os.listdir(tmp_path) == []


async def test_a_slow_server_within_the_timeout_is_waited_for(
    fake: FakeArxiv, source: FullTextSource
) -> None:
    fake.add_pdf(VID, pdf())
    fake.inject(Fault.slow(0.3, path="/pdf/"))
    full = await source.fetch(PAPER)
    assert full.source is TextSource.PDF
    assert len(fake.requests_to("/pdf/")) == 1


async def test_a_server_slower_than_the_timeout_is_retried(
    fake: FakeArxiv, source: FullTextSource
) -> None:
    fake.add_html(VID, latexml_page(VID))
    fake.inject(Fault.slow(2.5, path="/html/"))
    source.session.timeout_seconds = 0.5
    full = await source.fetch(PAPER)
    assert full.source is TextSource.HTML
    assert source.session.request_count == 2  # the slow answer was given up on, then retried


async def test_arxiv_down_gives_the_abstract_without_more_requests(
    fake: FakeArxiv, source: FullTextSource
) -> None:
    fake.inject(Fault.http(503, path="/html/"), Fault.http(503, path="/html/"))
    full = await source.fetch(PAPER)
    assert full.source is TextSource.ABSTRACT
    assert [n.kind for n in full.notes] == [NoteKind.UNAVAILABLE]
    assert "HTTP 503" in str(full.notes[0])
    assert fake.requests_to("/pdf/") == []


async def test_a_damaged_pdf_falls_back_to_the_abstract(
    fake: FakeArxiv, source: FullTextSource
) -> None:
    fake.add_pdf(VID, pdf())
    fake.inject(Fault.malformed(path="/pdf/"))  # half the file: its index is missing
    full = await source.fetch(PAPER)
    assert full.source is TextSource.ABSTRACT
    assert [str(n) for n in full.notes][-1] == "the PDF could not be read"


async def test_a_dropped_connection_is_retried(fake: FakeArxiv, source: FullTextSource) -> None:
    fake.add_pdf(VID, pdf())
    fake.inject(Fault.reset(path="/pdf/"))
    full = await source.fetch(PAPER)
    assert full.source is TextSource.PDF
    assert len(fake.requests_to("/pdf/")) == 2


async def test_figures_are_fetched_under_the_site_with_a_size_cap(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    session = ArxivSession(delay_seconds=0, retries=0, throttle=Throttle())
    source = FullTextSource(site_url=fake.site_url, session=session, max_figure_bytes=100_000)
    fake.add_html(VID, latexml_page(VID))
    small, large = png_bytes(64, 48), png_bytes(400, 400, noise=True)
    fake.add_figure(VID, "x1.png", small)
    fake.add_figure(VID, "x2.png", large)
    full = await source.fetch(PAPER)
    assert await source.fetch_figure(full.figures[0]) == small
    with pytest.raises(ContentTooLarge):
        await source.fetch_figure(full.figures[1])
    with pytest.raises(SourceUnavailable):
        await source.fetch_figure(FigureRef(3, f"{fake.site_url}/html/{VID}/x9.png", ""))
    with pytest.raises(ValueError, match="not under"):
        await source.fetch_figure(FigureRef(1, "https://example.org/x1.png", ""))
    session.close()


async def test_settings_choose_the_site(fake: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().arxiv_site_url == "https://arxiv.org"
    monkeypatch.setenv("ARXIV_SITE_URL", fake.site_url + "/")
    monkeypatch.setenv("PAPERBOY_ARXIV_DELAY", "0")
    settings = load_settings()
    fake.add_html(VID, latexml_page(VID))
    with FullTextSource.from_settings(settings) as source:
        assert source.site_url == fake.site_url
        full = await source.fetch(PAPER)
    assert full.source is TextSource.HTML
    assert fake.requests[0].headers["User-Agent"].startswith("Paperboy/")
