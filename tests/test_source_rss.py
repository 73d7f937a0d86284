"""Listing feeds: RSS 2.0 and Atom in arXiv's real format, empty days, broken documents."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.errors import SourceUnavailable
from bot.models import AnnounceType
from bot.source.rss import FeedError, parse_listing
from tests.fakes.arxiv_data import (
    make_listing,
    make_paper,
    make_papers,
    render_atom_listing,
    render_feed_error,
    render_rss_listing,
)

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
LISTING_DATE = date(2024, 9, 9)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_rss_listing_of_mixed_announcements() -> None:
    listing = parse_listing(fixture("rss-cs.CV-2024-09-09.xml"), "cs.CV")

    assert listing.group == "cs.CV"
    assert listing.listing_date == LISTING_DATE
    assert not listing.truncated
    assert [(a.paper.versioned_id, a.type) for a in listing.announcements] == [
        ("2409.03605v1", AnnounceType.NEW),
        ("2409.03610v1", AnnounceType.NEW),
        ("2409.03622v1", AnnounceType.NEW),
        ("2409.03631v1", AnnounceType.NEW),
        ("2409.03001v1", AnnounceType.CROSS),
        ("2409.02877v1", AnnounceType.CROSS),
        ("2407.01234v3", AnnounceType.REPLACE),
        ("2311.11111v2", AnnounceType.REPLACE),
        ("2405.05555v2", AnnounceType.REPLACE_CROSS),
        ("cs/0112017v3", AnnounceType.REPLACE_CROSS),
    ]
    assert all(a.listing_date == LISTING_DATE for a in listing.announcements)

    first = listing.announcements[0].paper
    assert first.id == "2409.03605" and first.version == 1
    # Whitespace collapsed, LaTeX untouched, entities decoded, prefix stripped.
    assert first.title == "LipSync-$\\ell_1$: Audio-Driven Talking Heads with Sparse Motion Priors"
    assert first.abstract.startswith("We present LipSync-$\\ell_1$, a method")
    assert "HDTF & VoxCeleb2" in first.abstract and "$T < 4$ s" in first.abstract
    assert "\n" not in first.abstract and "Announce Type" not in first.abstract
    assert first.authors == ("Mei Lin", "Jonas Müller", "Priya Raman")  # TeX accent decoded
    assert first.categories == ("cs.CV", "cs.AI", "cs.SD")
    assert first.primary_category == "cs.CV"
    assert first.published is None and first.doi is None

    by_id = {a.paper.id: a.paper for a in listing.announcements}
    # Affiliations in parentheses (with commas) are dropped; " and " separates too.
    assert by_id["2409.03622"].authors == ("Alice Smith", "Bob Jones", "Wei Zhang", "Kenji Tanaka")
    assert by_id["2409.03631"].title == (
        "Rethinking Data Augmentation for Self-Supervised Video Representation Learning"
    )
    assert by_id["2409.03001"].primary_category == "cs.LG"
    replaced = by_id["2407.01234"]
    assert replaced.doi == "10.1109/TPAMI.2024.1234567"
    assert replaced.journal_ref == "IEEE TPAMI 46(12), 2024, pp. 1-14"
    assert by_id["2405.05555"].doi == "10.15607/RSS.2024.XX.001"
    assert by_id["cs/0112017"].version == 3


def test_atom_listing() -> None:
    listing = parse_listing(fixture("atom-cs.CV-2024-09-09.xml"), "cs.CV")
    assert listing.listing_date == LISTING_DATE
    assert [a.type for a in listing.announcements] == [
        AnnounceType.NEW,
        AnnounceType.CROSS,
        AnnounceType.REPLACE,
        AnnounceType.REPLACE_CROSS,
    ]
    rss_listing = parse_listing(fixture("rss-cs.CV-2024-09-09.xml"), "cs.CV")
    rss = {a.paper.id: a.paper for a in rss_listing.announcements}
    for ann in listing.announcements:  # same papers, same data, whichever format
        assert ann.paper == rss[ann.paper.id]


def test_namespace_prefixes_do_not_matter() -> None:
    content = (
        fixture("rss-cs.CV-2024-09-09.xml")
        .replace(b"xmlns:arxiv=", b"xmlns:ax=")
        .replace(b"arxiv:announce_type", b"ax:announce_type")
        .replace(b"arxiv:DOI", b"ax:DOI")
        .replace(b"arxiv:journal_reference", b"ax:journal_reference")
        .replace(b"xmlns:dc=", b"xmlns:purl=")
        .replace(b"dc:creator", b"purl:creator")
        .replace(b"dc:rights", b"purl:rights")
    )
    assert b"arxiv:announce_type" not in content
    assert parse_listing(content, "cs.CV") == parse_listing(
        fixture("rss-cs.CV-2024-09-09.xml"), "cs.CV"
    )


def test_announce_type_is_case_insensitive_and_falls_back_to_the_description() -> None:
    content = fixture("rss-cs.CV-2024-09-09.xml")
    shouting = content.replace(b">replace-cross</arxiv:", b">Replace-Cross</arxiv:")
    types = [a.type for a in parse_listing(shouting, "cs.CV").announcements]
    assert types.count(AnnounceType.REPLACE_CROSS) == 2
    # Without the element, the "Announce Type:" of the description decides.
    stripped = content.replace(b"<arxiv:announce_type>cross</arxiv:announce_type>", b"")
    types = [a.type for a in parse_listing(stripped, "cs.CV").announcements]
    assert types.count(AnnounceType.CROSS) == 2


def test_unknown_announce_type_skips_only_that_item() -> None:
    content = fixture("rss-cs.CV-2024-09-09.xml").replace(
        b"<arxiv:announce_type>new</arxiv:announce_type>",
        b"<arxiv:announce_type>surprise</arxiv:announce_type>",
        1,
    )
    listing = parse_listing(content, "cs.CV")
    assert len(listing.announcements) == 9
    assert "2409.03605" not in {a.paper.id for a in listing.announcements}


def test_empty_weekend_feed_is_a_normal_empty_listing() -> None:
    listing = parse_listing(fixture("rss-cs-weekend-empty.xml"), "cs")
    assert listing.announcements == ()
    assert listing.listing_date == date(2024, 9, 7)
    assert not listing.truncated

    undated = fixture("rss-cs-weekend-empty.xml").replace(
        b"    <pubDate>Sat, 07 Sep 2024 00:00:00 -0400</pubDate>\n", b""
    )
    undated = undated.replace(
        b"    <lastBuildDate>Sat, 07 Sep 2024 04:30:45 +0000</lastBuildDate>\n", b""
    )
    listing = parse_listing(undated, "cs")
    assert listing.listing_date is None and listing.announcements == ()


def test_empty_atom_feed_takes_its_date_from_updated() -> None:
    content = render_atom_listing(make_listing("stat.ML", LISTING_DATE))
    listing = parse_listing(content, "stat.ML")
    assert listing.listing_date == LISTING_DATE and listing.announcements == ()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<rss><channel><item><title>cut", "not well-formed XML"),
        (b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "HTML"),
        (b"<?xml version='1.0'?><rss version='2.0'></rss>", "without a <channel>"),
        (b'<feed xmlns="http://example.org/not-atom"/>', "got a <feed> document"),
    ],
)
def test_broken_documents_raise_feed_error(content: bytes, problem: str) -> None:
    with pytest.raises(FeedError, match=problem) as info:
        parse_listing(content, "cs")
    assert isinstance(info.value, SourceUnavailable)
    assert "cs" in str(info.value)


def test_truncated_real_fixture_is_a_feed_error() -> None:
    content = fixture("rss-cs.CV-2024-09-09.xml")
    with pytest.raises(FeedError, match="not well-formed"):
        parse_listing(content[: len(content) // 2], "cs.CV")


def test_error_feed_is_reported() -> None:
    with pytest.raises(FeedError, match=r"Invalid archive or category: cs\.XX"):
        parse_listing(render_feed_error("cs.XX", "Invalid archive or category: cs.XX"), "cs.XX")


def test_items_without_a_date_in_an_undated_feed_are_an_error() -> None:
    content = fixture("rss-cs.CV-2024-09-09.xml")
    for tag in (b"pubDate", b"lastBuildDate"):
        while b"<" + tag + b">" in content:
            start = content.index(b"<" + tag + b">")
            end = content.index(b"</" + tag + b">", start) + len(tag) + 3
            content = content[:start] + content[end:]
    with pytest.raises(FeedError, match="no date"):
        parse_listing(content, "cs.CV")


def test_feed_at_the_item_cap_is_marked_truncated() -> None:
    papers = make_papers(2000, categories=("cs.LG",))
    listing = make_listing("cs", LISTING_DATE, new=papers)
    parsed = parse_listing(render_rss_listing(listing), "cs")
    assert len(parsed.announcements) == 2000
    assert parsed.truncated

    smaller = make_listing("cs", LISTING_DATE, new=papers[:1999])
    assert not parse_listing(render_rss_listing(smaller), "cs").truncated


def test_rendered_feeds_round_trip() -> None:
    # The fake server's renderers and the parser agree on every field the feeds carry.
    new = make_paper(1, categories=("cs.CV", "cs.GR"), doi="10.1000/xyz", journal_ref="J. 1 (2024)")
    cross = make_paper(2, categories=("eess.IV", "cs.CV"))
    listing = make_listing("cs.CV+cs.GR", LISTING_DATE, new=[new], cross=[cross])
    for render in (render_rss_listing, render_atom_listing):
        parsed = parse_listing(render(listing), "cs.CV+cs.GR")
        assert parsed.listing_date == LISTING_DATE
        got = parsed.announcements[0].paper
        assert (got.id, got.version, got.title, got.abstract, got.authors) == (
            new.id,
            new.version,
            new.title,
            new.abstract,
            new.authors,
        )
        assert (got.categories, got.doi, got.journal_ref) == (
            new.categories,
            new.doi,
            new.journal_ref,
        )
        assert parsed.announcements[1].type is AnnounceType.CROSS
