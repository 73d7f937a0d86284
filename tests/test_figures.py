"""The first figure of a paper: from HTML or a PDF page, fitted per platform, cached on disk."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot.figures import Figures, shorten_caption
from bot.fulltext import DISCORD_IMAGE, TELEGRAM_PHOTO, FullTextSource
from bot.models import Paper
from bot.source.http import ArxivSession, Throttle
from storage.files import FigureFiles
from tests.fakes.arxiv_server import FakeArxiv, Fault
from tests.fakes.fulltext_data import latexml_page, make_pdf, png_bytes

PAPER = Paper("2409.03605", 1, "Talking Heads from a Single Photo", "We animate a portrait.")
VID = PAPER.versioned_id


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@functools.cache
def pdf(**options: object) -> bytes:
    return make_pdf(**options)  # type: ignore[arg-type]


def pdf_with_figure_on_page_2() -> bytes:
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.set_font("Helvetica", size=10)
    doc.add_page()
    doc.multi_cell(0, 5, "A page of text only. " * 40)
    doc.add_page()
    doc.image(io.BytesIO(png_bytes(300, 200)), x=20, y=20, w=120)
    return bytes(doc.output())


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


def figures(fake: FakeArxiv, tmp_path: Path, **limits: int) -> Figures:
    session = ArxivSession(
        delay_seconds=0, timeout_seconds=2, retries=1, backoff_seconds=0.01, throttle=Throttle()
    )
    source = FullTextSource(site_url=fake.site_url, session=session, temp_dir=tmp_path, **limits)
    return Figures(FigureFiles(tmp_path / "figures"), lambda: source)


def serve_html(fake: FakeArxiv, first: bytes) -> None:
    fake.add_html(VID, latexml_page(VID))
    fake.add_figure(VID, "x1.png", first)
    fake.add_figure(VID, "x2.png", png_bytes(64, 48))


async def test_the_html_figure_fits_each_platform(fake: FakeArxiv, tmp_path: Path) -> None:
    serve_html(fake, png_bytes(3000, 1500))
    figure = await figures(fake, tmp_path).first_figure(PAPER)
    assert figure is not None
    assert (figure.index, figure.page) == (1, None)
    assert figure.caption.startswith("Figure 1")
    telegram = await figure.for_platform(TELEGRAM_PHOTO)
    discord = await figure.for_platform(DISCORD_IMAGE)
    assert telegram is not None and discord is not None
    assert telegram.filename == "figure1.png"
    assert size_of(telegram.data) == (2560, 1280)  # Telegram's sides are kept to 2560
    assert size_of(discord.data) == (3000, 1500)  # within Discord's limits: as delivered
    assert (tmp_path / "figures" / VID / "meta.json").exists()


async def test_a_huge_figure_is_downscaled_within_every_limit(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    serve_html(fake, png_bytes(7000, 2900))
    figure = await figures(fake, tmp_path).first_figure(PAPER)
    assert figure is not None
    for limits in (TELEGRAM_PHOTO, DISCORD_IMAGE):
        image = await figure.for_platform(limits)
        assert image is not None
        w, h = size_of(image.data)
        assert max(w, h) <= limits.max_side and len(image.data) <= limits.max_bytes
        assert abs(w / h - 7000 / 2900) < 0.02
    assert size_of((await figure.for_platform(TELEGRAM_PHOTO)).data)[0] == 2560  # type: ignore[union-attr]


async def test_an_oversized_figure_is_refused_and_gives_no_figure(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    serve_html(fake, png_bytes(400, 400, noise=True))
    assert await figures(fake, tmp_path, max_figure_bytes=100_000).first_figure(PAPER) is None
    assert not (tmp_path / "figures" / VID).exists()


async def test_a_slow_figure_is_not_waited_for_but_lands_in_the_cache(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    serve_html(fake, png_bytes(640, 480))
    fake.inject(Fault.slow(0.6, path=f"/html/{VID}/x1.png"))
    service = figures(fake, tmp_path)
    started = time.monotonic()
    assert await service.first_figure(PAPER, wait=0.2) is None
    assert time.monotonic() - started < 0.5
    figure = await service.first_figure(PAPER)  # joins the fetch still running
    assert figure is not None and figure.index == 1
    assert len(fake.requests_to(f"/html/{VID}/x1.png")) == 1


async def test_without_html_the_pdf_page_with_the_figure_is_rendered(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    fake.add_pdf(VID, pdf_with_figure_on_page_2())
    figure = await figures(fake, tmp_path).first_figure(PAPER)
    assert figure is not None
    assert (figure.page, figure.caption) == (2, "")
    telegram = await figure.for_platform(TELEGRAM_PHOTO)
    assert telegram is not None
    w, h = size_of(telegram.data)
    assert abs(w - 1240) <= 1 and abs(h - 1754) <= 1  # A4 at 150 dpi, within Telegram's limits
    assert os.listdir(tmp_path) == ["figures"]  # the downloaded PDF is gone


async def test_a_pdf_without_figures_shows_its_first_page(fake: FakeArxiv, tmp_path: Path) -> None:
    fake.add_pdf(VID, pdf(pages=2))
    figure = await figures(fake, tmp_path).first_figure(PAPER)
    assert figure is not None and figure.page == 1


async def test_an_image_only_pdf_still_renders(fake: FakeArxiv, tmp_path: Path) -> None:
    fake.add_pdf(VID, pdf(pages=2, image_only=True))
    figure = await figures(fake, tmp_path).first_figure(PAPER)
    assert figure is not None and figure.page == 1
    image = await figure.for_platform(DISCORD_IMAGE)
    assert image is not None and abs(size_of(image.data)[1] - 1754) <= 1


async def test_no_html_and_no_pdf_gives_no_figure_and_no_retry_storm(
    fake: FakeArxiv, tmp_path: Path
) -> None:
    service = figures(fake, tmp_path)
    assert await service.first_figure(PAPER) is None
    asked = len(fake.requests)
    assert [r.path for r in fake.requests] == [f"/html/{VID}", f"/pdf/{VID}"]
    assert await service.first_figure(PAPER) is None
    assert len(fake.requests) == asked  # remembered for a while, not asked again at once


async def test_the_disk_cache_answers_without_arxiv(fake: FakeArxiv, tmp_path: Path) -> None:
    serve_html(fake, png_bytes(800, 600))
    first = await figures(fake, tmp_path).first_figure(PAPER)
    assert first is not None
    asked = len(fake.requests)
    again = await figures(fake, tmp_path).first_figure(PAPER)  # a new process, same disk
    assert again is not None and again.caption == first.caption
    assert await again.for_platform(TELEGRAM_PHOTO) is not None
    assert len(fake.requests) == asked


async def test_a_full_text_passed_in_is_not_fetched_again(fake: FakeArxiv, tmp_path: Path) -> None:
    serve_html(fake, png_bytes(800, 600))
    service = figures(fake, tmp_path)
    full = await service.source.fetch(PAPER)
    assert await service.first_figure(PAPER, fulltext=full) is not None
    assert len(fake.requests_to(f"/html/{VID}")) == 2  # the page once, the figure once
    assert await service.fulltext(PAPER) is full


async def test_concurrent_requests_share_one_fetch(fake: FakeArxiv, tmp_path: Path) -> None:
    serve_html(fake, png_bytes(800, 600))
    fake.inject(Fault.slow(0.2, path=f"/html/{VID}"))
    service = figures(fake, tmp_path)
    found = await asyncio.gather(*(service.first_figure(PAPER) for _ in range(4)))
    assert all(f is not None and f.index == 1 for f in found)
    assert sorted(r.path for r in fake.requests) == [f"/html/{VID}", f"/html/{VID}/x1.png"]


async def test_the_cache_is_pruned_oldest_first(tmp_path: Path) -> None:
    files = FigureFiles(tmp_path, max_bytes=35_000)
    for i, vid in enumerate(["2401.00001v1", "2401.00002v1", "2401.00003v1"]):
        await files.save(vid, "source.png", b"x" * 10_000)
        await files.save_meta(vid, {"index": 1})
        os.utime(tmp_path / vid, (1000 + i, 1000 + i))
    assert await files.meta("2401.00001v1") is not None  # read: now the most recent
    await files.save("2401.00004v1", "source.png", b"x" * 10_000)
    names = sorted(os.listdir(tmp_path))
    assert names == ["2401.00001v1", "2401.00003v1", "2401.00004v1"]
    with pytest.raises(ValueError):
        files.folder("../etc")
    assert files.folder("hep-th/9901001v1").name == "hep-th_9901001v1"


def test_captions_are_shortened_for_telegram() -> None:
    long = "Figure 1: " + "word " * 400 + "😀" * 10
    short = shorten_caption(long, 1024)
    assert len(short.encode("utf-16-le")) // 2 <= 1024 and short.endswith("…")
    assert short.startswith("Figure 1: word")
    assert shorten_caption("Figure 1:  a   b", 1024) == "Figure 1: a b"
