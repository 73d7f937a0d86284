"""Realistic arXiv data for tests: `Paper` / `Listing` builders and arXiv's wire formats.

Builders (deterministic, no randomness):

* `make_paper(n)` — paper number `n` with a plausible title, abstract (with LaTeX and characters
  that need escaping), authors, categories and submission times;
* `make_papers(count, start=...)` — a run of papers submitted `step` apart;
* `next_version(paper)` — the same paper, one version later;
* `make_listing(group, date, new=..., cross=..., replace=..., replace_cross=...)`.

Renderers produce bytes exactly in arXiv's formats (compare `tests/fixtures/arxiv/api-*.xml`,
recorded from the real API, and the RSS/Atom feed specifications):

* `render_api_feed` / `render_api_error` — the query API's Atom (with ``opensearch:`` counts);
* `render_rss_listing` / `render_atom_listing` / `render_feed_error` — the listing feeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from bot.models import Announcement, AnnounceType, Listing, Paper

__all__ = [
    "DEFAULT_START",
    "make_listing",
    "make_paper",
    "make_papers",
    "next_version",
    "render_api_error",
    "render_api_feed",
    "render_atom_listing",
    "render_feed_error",
    "render_rss_listing",
]

EASTERN = ZoneInfo("America/New_York")
DEFAULT_START = datetime(2024, 9, 5, 14, 30, tzinfo=UTC)  # a Thursday, 10:30 ET
LICENSE = "http://creativecommons.org/licenses/by/4.0/"

_ADJECTIVES = ("Scalable", "Robust", "Efficient", "Sparse", "Diffusion-Based", "Self-Supervised")
_TOPICS = (
    "Talking-Head Synthesis",
    "Lip Synchronization",
    "Graph Neural Networks",
    "Neural Radiance Fields",
    "Speech Enhancement",
    "Bayesian Optimization",
    "Quantum Error Correction",
)
_SUFFIXES = ("in the Wild", "at Scale", "with Few Labels", "via Score Matching", "for Edge Devices")
_FIRST = ("Ana", "Wei", "Olusegun", "María José", "Jürgen", "Priya", "Kenji", "Élodie", "Sam")
_LAST = (
    "Silva",
    "Zhang",
    "Adeyemi",
    "García-López",
    "Müller",
    "Raman",
    "Tanaka",
    "Lefèvre",
    "O'Neil",
)


def make_paper(
    number: int = 1,
    *,
    id: str | None = None,  # mirrors Paper.id
    version: int = 1,
    title: str | None = None,
    abstract: str | None = None,
    authors: Sequence[str] | None = None,
    categories: Sequence[str] = ("cs.CV",),
    comment: str | None = None,
    journal_ref: str | None = None,
    doi: str | None = None,
    published: datetime | None = None,
    updated: datetime | None = None,
) -> Paper:
    """Paper number `number` (1-based), deterministic and plausible.

    The id defaults to ``YYMM.NNNNN`` from `published` and `number`; `updated` defaults to
    `published` for v1 and to a few days later per extra version.
    """
    published = published or DEFAULT_START + timedelta(minutes=7 * (number - 1))
    if updated is None:
        updated = published + timedelta(days=3 * (version - 1), hours=version - 1)
    pid = id or f"{published:%y%m}.{number:05d}"
    i = number - 1
    if title is None:
        title = (
            f"{_ADJECTIVES[i % len(_ADJECTIVES)]} {_TOPICS[i % len(_TOPICS)]} "
            f"{_SUFFIXES[i % len(_SUFFIXES)]} ({number})"
        )
    if abstract is None:
        abstract = (
            f"We study {_TOPICS[i % len(_TOPICS)].lower()} with a method that runs in "
            r"$\mathcal{O}(n \log n)$ time & memory, improving accuracy by 3% when $k < 10$. "
            f"Code is at https://github.com/example/paper-{number}."
        )
    if authors is None:
        count = 1 + number % 4
        authors = tuple(
            f"{_FIRST[(i + k) % len(_FIRST)]} {_LAST[(i * 3 + k) % len(_LAST)]}"
            for k in range(count)
        )
    return Paper(
        id=pid,
        version=version,
        title=title,
        abstract=abstract,
        authors=tuple(authors),
        categories=tuple(categories),
        primary_category=categories[0] if categories else None,
        comment=comment,
        journal_ref=journal_ref,
        doi=doi,
        published=published,
        updated=updated,
    )


def make_papers(
    count: int,
    *,
    start: datetime = DEFAULT_START,
    step: timedelta = timedelta(minutes=7),
    categories: Sequence[str] = ("cs.CV",),
    first_number: int = 1,
) -> list[Paper]:
    """`count` papers submitted `step` apart from `start`, numbered from `first_number`."""
    return [
        make_paper(
            first_number + k,
            published=start + k * step,
            categories=categories,
        )
        for k in range(count)
    ]


def next_version(paper: Paper, *, updated: datetime | None = None, **changes: object) -> Paper:
    """`paper` one version later (``updated`` defaults to three days after the previous one)."""
    base = paper.updated or paper.published or DEFAULT_START
    return replace(
        paper,
        version=paper.version + 1,
        updated=updated or base + timedelta(days=3),
        **changes,  # type: ignore[arg-type]
    )


def make_listing(
    group: str,
    listing_date: date | None,
    *,
    new: Iterable[Paper] = (),
    cross: Iterable[Paper] = (),
    replace: Iterable[Paper] = (),
    replace_cross: Iterable[Paper] = (),
    truncated: bool = False,
) -> Listing:
    """A `Listing` with announcements in arXiv's order: new, cross, replace, replace-cross."""
    when = listing_date or date.min
    announcements = [
        Announcement(paper=p, type=kind, listing_date=when)
        for kind, papers in (
            (AnnounceType.NEW, new),
            (AnnounceType.CROSS, cross),
            (AnnounceType.REPLACE, replace),
            (AnnounceType.REPLACE_CROSS, replace_cross),
        )
        for p in papers
    ]
    return Listing(
        group=group,
        listing_date=listing_date,
        announcements=tuple(announcements),
        truncated=truncated,
    )


# -- the query API --------------------------------------------------------------------------

_API_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
)


def _attr(value: str) -> str:
    """`value` escaped for a double-quoted XML attribute."""
    return escape(value, {'"': "&quot;"})


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_entry(paper: Paper) -> str:
    vid = paper.versioned_id
    published = paper.published or DEFAULT_START
    updated = paper.updated or published
    primary = paper.primary_category or (paper.categories[0] if paper.categories else "cs.CV")
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(paper.title)}</title>",
        f"    <updated>{_iso_z(updated)}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"'
        ' title="pdf"/>',
        f"    <summary>{escape(paper.abstract)}</summary>",
    ]
    lines += [
        f'    <category term="{_attr(c)}" scheme="http://arxiv.org/schemas/atom"/>'
        for c in paper.categories
    ]
    lines.append(f"    <published>{_iso_z(published)}</published>")
    if paper.comment:
        lines.append(f"    <arxiv:comment>{escape(paper.comment)}</arxiv:comment>")
    lines.append(f'    <arxiv:primary_category term="{_attr(primary)}"/>')
    if paper.journal_ref:
        lines.append(f"    <arxiv:journal_ref>{escape(paper.journal_ref)}</arxiv:journal_ref>")
    for name in paper.authors:
        lines += ["    <author>", f"      <name>{escape(name)}</name>", "    </author>"]
    if paper.doi:
        lines.append(f"    <arxiv:doi>{escape(paper.doi)}</arxiv:doi>")
        lines.append(
            f'    <link rel="related" href="{_attr("https://doi.org/" + paper.doi)}" title="doi"/>'
        )
    lines.append("  </entry>")
    return "\n".join(lines) + "\n"


def render_api_feed(
    entries: Sequence[Paper],
    *,
    total: int,
    start: int = 0,
    max_results: int = 10,
    search_query: str = "",
    id_list: str = "",
    now: datetime | None = None,
) -> bytes:
    """One page of API results, as ``export.arxiv.org/api/query`` answers it."""
    now = now or datetime.now(UTC)
    key = f"{search_query}|{id_list}|{start}|{max_results}".encode()
    feed_id = hashlib.sha1(key).hexdigest()[:27]  # an opaque id, not security
    q = _attr(search_query)
    ids = _attr(id_list)
    head = (
        _API_HEAD
        + f"  <id>https://arxiv.org/api/{feed_id}</id>\n"
        + f"  <title>arXiv Query: search_query={q}&amp;id_list={ids}&amp;start={start}"
        f"&amp;max_results={max_results}</title>\n"
        + f"  <updated>{_iso_z(now)}</updated>\n"
        + f'  <link href="https://arxiv.org/api/query?search_query={q}'
        f"&amp;start={start}&amp;max_results={max_results}&amp;id_list={ids}"
        '" type="application/atom+xml"/>\n'
        + f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>\n"
        + f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        + f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    )
    return (head + "".join(_api_entry(p) for p in entries) + "</feed>\n").encode()


def render_api_error(message: str, *, now: datetime | None = None) -> bytes:
    """The API's error document (served with HTTP 400), e.g. "incorrect id format for abc"."""
    now = now or datetime.now(UTC)
    anchor = _attr("https://arxiv.org/api/errors#" + message.replace(" ", "_"))
    return (
        _API_HEAD
        + "  <id>https://arxiv.org/</id>\n"
        + "  <title>arXiv Search Results</title>\n"
        + f"  <updated>{_iso_z(now)}</updated>\n"
        + "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        + "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        + "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        + "  <entry>\n"
        + f"    <id>{anchor}</id>\n"
        + "    <title>Error</title>\n"
        + f"    <updated>{_iso_z(now)}</updated>\n"
        + f'    <link href="{anchor}" rel="alternate" type="text/html"/>\n'
        + f"    <summary>{escape(message)}</summary>\n"
        + "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        + "  </entry>\n</feed>\n"
    ).encode()


# -- the listing feeds ----------------------------------------------------------------------


def _midnight(listing_date: date) -> datetime:
    return datetime.combine(listing_date, time(0), tzinfo=EASTERN)


def _description(ann: Announcement) -> str:
    # Exactly arXiv's layout, including the space before the newline.
    return (
        f"arXiv:{ann.paper.versioned_id} Announce Type: {ann.type.value} \n"
        f"Abstract: {ann.paper.abstract}"
    )


def _feed_title(group: str) -> tuple[str, str]:
    cats = ", ".join(group.split("+"))
    return f"{cats} updates on arXiv.org", f"{cats} updates on the arXiv.org e-print archive."


def _extras(paper: Paper, indent: str, *, atom: bool) -> list[str]:
    lines = [f"{indent}<dc:rights>{LICENSE}</dc:rights>"]
    doi = f"{indent}<arxiv:DOI>{escape(paper.doi)}</arxiv:DOI>" if paper.doi else None
    jref = (
        f"{indent}<arxiv:journal_reference>{escape(paper.journal_ref)}</arxiv:journal_reference>"
        if paper.journal_ref
        else None
    )
    # arXiv's serializer writes these two in a different order in RSS and Atom.
    lines += [x for x in ((jref, doi) if atom else (doi, jref)) if x]
    lines.append(f"{indent}<dc:creator>{escape(', '.join(paper.authors))}</dc:creator>")
    return lines


def render_rss_listing(
    listing: Listing, *, base_url: str = "http://rss.arxiv.org", built: datetime | None = None
) -> bytes:
    """The RSS 2.0 feed ``rss.arxiv.org/rss/<group>`` for `listing`."""
    title, description = _feed_title(listing.group)
    link = f"{base_url}/rss/{listing.group}"
    if built is None and listing.listing_date:
        built = _midnight(listing.listing_date) + timedelta(minutes=40, seconds=11)
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">',
        "  <channel>",
        f"    <title>{escape(title)}</title>",
        f"    <link>{escape(link)}</link>",
        f"    <description>{escape(description)}</description>",
        f'    <atom:link href="{_attr(link)}" rel="self" type="application/rss+xml"/>',
        "    <docs>http://www.rssboard.org/rss-specification</docs>",
        "    <language>en-us</language>",
    ]
    if built is not None:  # an undated listing gets no dates at all
        lines.append(f"    <lastBuildDate>{format_datetime(built.astimezone(UTC))}</lastBuildDate>")
    lines.append("    <managingEditor>rss-help@arxiv.org</managingEditor>")
    if listing.listing_date:
        lines.append(f"    <pubDate>{format_datetime(_midnight(listing.listing_date))}</pubDate>")
    lines += ["    <skipDays>", "      <day>Sunday</day>", "      <day>Saturday</day>"]
    lines.append("    </skipDays>")
    for ann in listing.announcements:
        p = ann.paper
        lines += [
            "    <item>",
            f"      <title>{escape(p.title)}</title>",
            f"      <link>https://arxiv.org/abs/{p.id}</link>",
            f"      <description>{escape(_description(ann))}</description>",
            f'      <guid isPermaLink="false">oai:arXiv.org:{p.versioned_id}</guid>',
        ]
        lines += [f"      <category>{escape(c)}</category>" for c in p.categories]
        lines += [
            f"      <pubDate>{format_datetime(_midnight(ann.listing_date))}</pubDate>",
            f"      <arxiv:announce_type>{ann.type.value}</arxiv:announce_type>",
        ]
        lines += _extras(p, "      ", atom=False)
        lines.append("    </item>")
    lines += ["  </channel>", "</rss>", ""]
    return "\n".join(lines).encode()


def render_atom_listing(
    listing: Listing, *, base_url: str = "http://rss.arxiv.org", built: datetime | None = None
) -> bytes:
    """The Atom 1.0 feed ``rss.arxiv.org/atom/<group>`` for `listing`."""
    title, description = _feed_title(listing.group)
    link = f"{base_url}/atom/{listing.group}"
    if built is None:
        built = (
            _midnight(listing.listing_date) + timedelta(minutes=9, seconds=30, microseconds=941605)
            if listing.listing_date
            else datetime(2024, 9, 7, 4, 9, 30, tzinfo=UTC)
        )
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xml:lang="en-us">',
        f"  <id>{escape(link)}</id>",
        f"  <title>{escape(title)}</title>",
        f"  <updated>{built.astimezone(UTC).isoformat()}</updated>",
        f'  <link href="{_attr(link)}" rel="self" type="application/atom+xml"/>',
        f"  <subtitle>{escape(description)}</subtitle>",
    ]
    for ann in listing.announcements:
        p = ann.paper
        stamp = _midnight(ann.listing_date).isoformat()
        lines += [
            "  <entry>",
            f"    <id>oai:arXiv.org:{p.versioned_id}</id>",
            f"    <title>{escape(p.title)}</title>",
            f"    <updated>{stamp}</updated>",
            f'    <link href="https://arxiv.org/abs/{p.id}" rel="alternate" type="text/html"/>',
            f"    <summary>{escape(_description(ann))}</summary>",
        ]
        lines += [f'    <category term="{_attr(c)}"/>' for c in p.categories]
        lines += [
            f"    <published>{stamp}</published>",
            f"    <arxiv:announce_type>{ann.type.value}</arxiv:announce_type>",
        ]
        lines += _extras(p, "    ", atom=True)
        lines.append("  </entry>")
    lines += ["</feed>", ""]
    return "\n".join(lines).encode()


def render_feed_error(
    query: str, message: str, *, atom: bool = False, base_url: str = "http://rss.arxiv.org"
) -> bytes:
    """The listing service's error feed (HTTP 400), e.g. for an unknown category."""
    link = f"{base_url}/{'atom' if atom else 'rss'}/{query}"
    title = f"Feed error for query: {link}"
    if atom:
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">\n'
            f"  <id>{escape(link)}</id>\n  <title>{escape(title)}</title>\n"
            f"  <subtitle>{escape(message)}</subtitle>\n</feed>\n"
        ).encode()
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">\n  <channel>\n'
        f"    <title>{escape(title)}</title>\n    <link>{escape(link)}</link>\n"
        f"    <description>{escape(message)}</description>\n"
        "    <language>en-us</language>\n"
        "    <managingEditor>rss-help.arxiv.org</managingEditor>\n"
        "  </channel>\n</rss>\n"
    ).encode()
