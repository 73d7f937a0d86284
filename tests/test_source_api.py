"""`ArxivSource` driving the real ``arxiv`` and ``requests`` libraries against `FakeArxiv`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import arxiv
import pytest

from bot.config import load_settings
from bot.errors import InvalidArxivId, PaperNotFound, SourceUnavailable
from bot.models import AnnounceType, Paper
from bot.source import ArxivId, ArxivSource, FeedError
from bot.source.api import build_search_query, paper_from_result
from bot.source.http import Throttle
from tests.fakes.arxiv_data import (
    make_listing,
    make_paper,
    make_papers,
    next_version,
    render_api_feed,
)
from tests.fakes.arxiv_server import FakeArxiv, Fault, FaultKind, announcements_of

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
MONDAY = date(2024, 9, 9)


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


def make_source(fake: FakeArxiv, **overrides: Any) -> ArxivSource:
    options: dict[str, Any] = {
        "api_url": fake.api_url,
        "rss_url": fake.rss_url,
        "delay_seconds": 0.0,
        "timeout_seconds": 2.0,
        "retries": 2,
        "backoff_seconds": 0.01,
        "page_size": 100,
        "throttle": Throttle(),  # isolated from other tests' spacing
    }
    options.update(overrides)
    return ArxivSource(**options)


@pytest.fixture
async def source(fake: FakeArxiv) -> AsyncIterator[ArxivSource]:
    async with make_source(fake) as src:
        yield src


def span(papers: list[Paper]) -> tuple[datetime, datetime]:
    """The submission interval covering `papers`."""
    stamps = [p.published for p in papers if p.published is not None]
    return min(stamps), max(stamps)


# -- conversion from the package's Result, on real recorded responses ----------------------


def parse_sample(name: str) -> list[Paper]:
    feed = arxiv._feed.parse((FIXTURES / name).read_bytes())
    return [paper_from_result(r) for r in feed.results]


def test_conversion_of_real_api_responses() -> None:
    (old,) = parse_sample("api-astro-ph_0601001.xml")
    assert (old.id, old.version) == ("astro-ph/0601001", 1)
    assert old.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert old.abstract.startswith("We derive the frequencies")  # leading spaces collapsed
    assert old.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert old.journal_ref == "ActaAstron.56:1-50,2006"
    assert old.comment is not None and old.comment.startswith("62 pages")
    assert old.published == datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)
    assert old.updated == old.published and old.published.tzinfo is UTC

    papers = parse_sample("api-query-all-testing.xml")
    first = papers[0]
    assert (first.id, first.version) == ("2202.12139", 1)
    assert first.categories == ("cs.SE", "cs.LG") and first.primary_category == "cs.SE"
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert {p.version for p in papers} >= {1, 2}

    (quantum,) = parse_sample("api-oldstyle_id.xml")
    assert quantum.id == "quant-ph/0201082" and quantum.categories == ("quant-ph", "cs.PL")
    assert parse_sample("api-empty.xml") == []


def test_fake_renders_the_api_format_of_the_samples() -> None:
    # Round trip: real sample → Paper → the fake's renderer → same Paper, same element layout.
    from lxml import etree

    for name in ("api-astro-ph_0601001.xml", "api-query-all-testing.xml", "api-two_ids.xml"):
        sample = (FIXTURES / name).read_bytes()
        papers = parse_sample(name)
        rendered = render_api_feed(papers, total=len(papers), max_results=100)
        assert [paper_from_result(r) for r in arxiv._feed.parse(rendered).results] == papers

        def layout(doc: bytes) -> list[list[str]]:
            root = etree.fromstring(doc)
            return [
                [etree.QName(c).localname for c in entry if etree.QName(c).localname != "link"]
                for entry in root.iter("{http://www.w3.org/2005/Atom}entry")
            ]

        # Affiliations are not modelled; everything else appears in the same order.
        assert layout(rendered) == layout(sample.replace(b"arxiv:affiliation", b"x"))


# -- listings ------------------------------------------------------------------------------


async def test_fetch_listing_derives_feeds_like_arxiv(fake: FakeArxiv, source: ArxivSource) -> None:
    cv = make_paper(1, categories=("cs.CV", "cs.AI"))
    lg = make_paper(2, categories=("cs.LG", "cs.CV"))
    ml = make_paper(3, categories=("stat.ML", "cs.LG"))
    old = next_version(make_paper(4, categories=("eess.IV", "cs.CV")))
    fake.announce(MONDAY, new=[cv, lg, ml], replaced=[old])

    cs = await source.fetch_listing("cs")
    assert cs.listing_date == MONDAY
    assert announcements_of(cs) == [
        (cv.versioned_id, AnnounceType.NEW),
        (lg.versioned_id, AnnounceType.NEW),
        (ml.versioned_id, AnnounceType.CROSS),
        (old.versioned_id, AnnounceType.REPLACE_CROSS),
    ]
    combined = await source.fetch_listing("cs.CV+cs.GR")
    assert announcements_of(combined) == [
        (cv.versioned_id, AnnounceType.NEW),
        (lg.versioned_id, AnnounceType.CROSS),
        (old.versioned_id, AnnounceType.REPLACE_CROSS),
    ]
    stat = await source.fetch_listing("stat.ML")
    assert announcements_of(stat) == [(ml.versioned_id, AnnounceType.NEW)]
    assert stat.announcements[0].paper.authors == ml.authors
    assert [r.path for r in fake.requests] == ["/rss/cs", "/rss/cs.CV+cs.GR", "/rss/stat.ML"]
    assert source.request_count == 3


async def test_fetch_listing_from_the_atom_endpoint(fake: FakeArxiv) -> None:
    paper = make_paper(1)
    fake.set_listing(make_listing("cs.CV", MONDAY, new=[paper]))
    async with make_source(fake, rss_url=fake.atom_url) as src:
        listing = await src.fetch_listing("cs.CV")
    assert fake.requests[0].path == "/atom/cs.CV"
    assert announcements_of(listing) == [(paper.versioned_id, AnnounceType.NEW)]


async def test_empty_weekend_listing(fake: FakeArxiv, source: ArxivSource) -> None:
    fake.announce(date(2024, 9, 7))  # Saturday: a dated feed without items
    listing = await source.fetch_listing("cs")
    assert listing.announcements == () and listing.listing_date == date(2024, 9, 7)
    fake.announce(None)
    assert (await source.fetch_listing("cs")).listing_date is None


async def test_unknown_category(fake: FakeArxiv, source: ArxivSource) -> None:
    with pytest.raises(ValueError, match="not an arXiv category"):
        await source.fetch_listing("cs+bogus")
    assert fake.requests == []  # refused before asking arXiv
    with pytest.raises(FeedError, match=r"Invalid archive or category: cs\.XX"):
        await source.fetch_listing("cs.XX")  # well-formed but unknown to arXiv: HTTP 400


async def test_malformed_listing_is_retried_then_reported(
    fake: FakeArxiv, source: ArxivSource
) -> None:
    fake.announce(MONDAY, new=[make_paper(1)])
    fake.inject(Fault.malformed(path="/rss"))
    assert len((await source.fetch_listing("cs")).announcements) == 1
    fake.inject(*[Fault.html(path="/rss")] * 3)
    with pytest.raises(SourceUnavailable, match="expected a feed, got a <html> document"):
        await source.fetch_listing("cs")
    assert source.request_count == 5


# -- lookups -------------------------------------------------------------------------------


async def test_lookup_batches_ids(fake: FakeArxiv, source: ArxivSource) -> None:
    papers = make_papers(250)
    fake.add_papers(papers)
    found = await source.lookup([p.id for p in papers])
    assert found == {p.id: p for p in papers}
    batches = [r.query["id_list"].split(",") for r in fake.requests]
    assert [len(b) for b in batches] == [100, 100, 50]
    assert source.request_count == 3


async def test_lookup_versions_old_style_and_unknown(fake: FakeArxiv, source: ArxivSource) -> None:
    v1 = make_paper(1, doi="10.1000/abc", comment="12 pages", journal_ref="Nature 1 (2024)")
    v2 = next_version(v1, title="A Better Title")
    hep = make_paper(id="hep-th/9901001", categories=("hep-th",))
    geo = make_paper(id="math/0309136", categories=("math.GT",))
    fake.add_papers([v1, v2, hep, geo])

    found = await source.lookup(
        ["2409.00001v1", "hep-th/9901001", "math.GT/0309136v1", "2409.99999", "cond-mat/0101001"]
    )
    assert found == {"2409.00001": v1, "hep-th/9901001": hep, "math.GT/0309136": geo}
    assert found["2409.00001"].doi == "10.1000/abc" and found["2409.00001"].comment == "12 pages"
    latest = await source.lookup([ArxivId("2409.00001")])
    assert latest["2409.00001"].version == 2 and latest["2409.00001"].title == "A Better Title"
    assert fake.requests[0].query["id_list"] == (
        "2409.00001v1,hep-th/9901001,math/0309136v1,2409.99999,cond-mat/0101001"
    )
    assert await source.lookup([]) == {}


async def test_api_error_feed_becomes_invalid_id(fake: FakeArxiv, source: ArxivSource) -> None:
    with pytest.raises(InvalidArxivId, match="incorrect id format for abc"):
        await source.lookup([ArxivId("abc")])  # bypasses our own parser on purpose
    assert [r.status for r in fake.requests] == [400]  # a 400 is not retried


async def test_get_paper(fake: FakeArxiv, source: ArxivSource) -> None:
    paper = make_paper(7)
    fake.add_paper(paper)
    assert await source.get_paper(f"https://arxiv.org/abs/{paper.id}v1") == paper
    with pytest.raises(PaperNotFound, match=r"“2409\.99999”.*Check the identifier"):
        await source.get_paper("arXiv:2409.99999")
    with pytest.raises(InvalidArxivId, match="“not an id”"):
        await source.get_paper("not an id")
    assert len(fake.requests) == 2


# -- backfill search -------------------------------------------------------------------------


def test_search_query() -> None:
    start = datetime(2024, 9, 6, 18, tzinfo=UTC)
    end = datetime(2024, 9, 9, 14, tzinfo=datetime.now().astimezone().tzinfo or UTC)
    query = build_search_query(["cs", "stat.ML", "hep-th", "astro-ph"], start, start)
    assert query == (
        "(cat:cs.* OR cat:stat.ML OR cat:hep-th OR cat:astro-ph OR cat:astro-ph.*) "
        "AND submittedDate:[202409061800 TO 202409061800]"
    )
    assert build_search_query(["cs.CV"], start, end).endswith(
        f"[202409061800 TO {end.astimezone(UTC):%Y%m%d%H%M}]"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        build_search_query(["cs"], start.replace(tzinfo=None), start)
    with pytest.raises(ValueError, match="before"):
        build_search_query(["cs"], start, start - timedelta(minutes=1))
    with pytest.raises(ValueError, match="not an arXiv category"):
        build_search_query(["computer-science"], start, start)


async def test_search_pages_through_everything(fake: FakeArxiv, source: ArxivSource) -> None:
    start = datetime(2024, 9, 5, 18, tzinfo=UTC)
    wanted = make_papers(450, start=start, step=timedelta(minutes=5), categories=("cs.CV",))
    ml = make_papers(
        20, start=start, step=timedelta(hours=1), categories=("stat.ML",), first_number=1001
    )
    other = make_papers(30, start=start, categories=("math.AP",), first_number=2001)
    late = make_paper(3001, published=start + timedelta(days=5), categories=("cs.CV",))
    fake.add_papers([*other, *wanted, late, *ml])

    found = await source.search(["cs", "stat.ML"], start, start + timedelta(days=2))
    expected = sorted([*wanted, *ml], key=lambda p: (p.published or start, p.id))
    assert found == expected
    pages = fake.requests
    assert [r.query["start"] for r in pages] == ["0", "100", "200", "300", "400"]
    assert {r.query["max_results"] for r in pages} == {"100"}
    assert pages[0].query["sortBy"] == "submittedDate"
    assert pages[0].query["sortOrder"] == "ascending"
    assert pages[0].query["search_query"] == (
        "(cat:cs.* OR cat:stat.ML) AND submittedDate:[202409051800 TO 202409071800]"
    )


async def test_search_with_nothing_found(fake: FakeArxiv, source: ArxivSource) -> None:
    moment = datetime(2024, 9, 7, tzinfo=UTC)
    assert await source.search(["cs"], moment, moment) == []
    assert len(fake.requests) == 1


async def test_over_reported_total_stops_at_a_short_page(
    fake: FakeArxiv, source: ArxivSource, caplog: pytest.LogCaptureFixture
) -> None:
    papers = make_papers(250)
    fake.add_papers(papers)
    fake.total_results_padding = 5000  # arXiv claims more than it can page through
    found = await source.search(["cs"], *span(papers))
    assert found == papers
    assert len(fake.requests) == 3
    assert "ended short" in caplog.text


async def test_empty_middle_page_is_retried(fake: FakeArxiv, source: ArxivSource) -> None:
    papers = make_papers(250)
    fake.add_papers(papers)
    fake.inject(Fault.empty_page(start=100))
    found = await source.search(["cs"], *span(papers))
    assert found == papers
    starts = [(r.query["start"], r.fault) for r in fake.requests]
    assert starts == [
        ("0", None),
        ("100", FaultKind.EMPTY_PAGE),
        ("100", None),
        ("200", None),
    ]


async def test_persistent_empty_middle_page_is_an_error(
    fake: FakeArxiv, source: ArxivSource
) -> None:
    papers = make_papers(250)
    fake.add_papers(papers)
    fake.inject(*[Fault.empty_page(start=100)] * 3)  # retries=2: three tries in all
    with pytest.raises(SourceUnavailable, match="empty page in the middle"):
        await source.search(["cs"], *span(papers))
    assert len(fake.requests) == 4 and fake.pending_faults == []


async def test_empty_first_page_despite_results_is_retried(
    fake: FakeArxiv, source: ArxivSource
) -> None:
    papers = make_papers(30)
    fake.add_papers(papers)
    fake.inject(Fault.empty_page(start=0))
    found = await source.search(["cs"], *span(papers))
    assert found == papers and len(fake.requests) == 2


async def test_truncated_api_page_is_retried(fake: FakeArxiv, source: ArxivSource) -> None:
    # The arxiv package parses with recover=True and would read half a page as "fewer results".
    papers = make_papers(120)
    fake.add_papers(papers)
    fake.inject(Fault.malformed(path="/api"))
    found = await source.search(["cs"], *span(papers))
    assert found == papers
    assert [r.fault for r in fake.requests] == [FaultKind.MALFORMED, None, None]


async def test_outage_becomes_source_unavailable(fake: FakeArxiv, source: ArxivSource) -> None:
    fake.inject(*[Fault.http(503)] * 3)
    with pytest.raises(SourceUnavailable) as info:
        await source.get_paper("2409.00001")
    message = str(info.value)
    assert "HTTP 503" in message and "3 attempts" in message
    assert "\n" not in message and "Traceback" not in message
    assert source.request_count == 3


async def test_settings_and_concurrent_tasks(fake: FakeArxiv) -> None:
    settings = load_settings(
        ARXIV_API_URL=fake.api_url,
        ARXIV_RSS_URL=fake.rss_url,
        PAPERBOY_ARXIV_DELAY=0,
        PAPERBOY_ARXIV_RETRIES=1,
    )
    papers = make_papers(5)
    fake.add_papers(papers)
    fake.announce(MONDAY, new=papers[:2])
    with ArxivSource.from_settings(settings) as src:
        assert src.session.retries == 1 and src.session.timeout_seconds == 30.0
        results = await asyncio.gather(
            src.fetch_listing("cs"), *(src.get_paper(p.id) for p in papers)
        )
    assert results[1:] == papers
    assert len(fake.requests) == 6
