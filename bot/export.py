"""Daily exports: one topic's post for one arXiv listing day, for a static-site blog
(`paperboy export`; the Markdown is written by `handlers.terminal.blog`).

What a post holds, and why it never changes once written:

- **One listing.** The post of day D is the papers of arXiv's listing dated D (new submissions
  and cross-lists, as digests take them) that match the topic. A day that is not stored yet is
  backfilled first; days that are never exported are not folded into another day's post (export
  them by date: each day is its own post).
- **Once per topic.** Exports are digests of their own audience (`AUDIENCE`), so the digest's
  rules decide: a paper already in an earlier-written post of the topic is not shown again, and
  a new version of it comes back as an "updated to vN" line. Which post keeps a paper is the one
  written first (exporting days in date order, that is the earliest day).
- **Frozen.** The selection is recorded as that audience's digest through D when the post is
  first built; exporting the day again re-reads it, so later days, later exports and later
  backfills do not change it. Each paper is shown at the version the day's listing announced
  (a paper updated since is read back at that version from arXiv), and its summary, review and
  figure are cached per version, so writing the post again gives the same bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.digest import MAX_UPDATED_ENTRIES, match_one, split_entries
from bot.errors import SourceUnavailable, UserError
from bot.figures import Figure, FigureImage
from bot.fulltext.figures import PhotoLimits
from bot.models import Digest, DigestEntry, Paper
from bot.query import Query, parse_query
from bot.query.nodes import Category, Prefix, Terms, positive_leaves
from bot.service import normalize_language
from bot.source.calendar import EASTERN, current_listing_date, is_listing_day
from bot.source.ids import ArxivId
from storage.interfaces import NewDigest, StoredAnnouncement

if TYPE_CHECKING:
    from bot.core import Core
    from bot.reviews.model import Review

__all__ = [
    "AUDIENCE",
    "WEB_IMAGE",
    "DayExport",
    "NoListing",
    "export_day",
    "figure_name",
    "query_tags",
    "slugify",
]

# Exports are digests of this audience: what it "received" is what the posts show.
AUDIENCE = "export"
# Figures for the web: a side of 2048 px is sharp on any screen; 5 MiB keeps pages light.
WEB_IMAGE = PhotoLimits(max_bytes=5 * 1024 * 1024, max_side=2048)
_SLUG_MAX = 60
# How many listing days back an error message looks for the nearest earlier stored listing.
_LOOK_BACK = 10


class NoListing(UserError):
    """The day asked for has no arXiv listing (future, weekend, holiday)."""


@dataclass(frozen=True)
class ExportedFigure:
    """A paper's first figure as the post shows it: fitted for the web."""

    figure: Figure
    image: FigureImage
    filename: str  # fig-<paper id>-<n>.<ext>, inside the post's folder


@dataclass(frozen=True)
class DayExport:
    """One topic's post for one listing day, with everything the Markdown needs."""

    day: date
    query: Query
    slug: str
    language: str
    digest: Digest  # entries at the versions the day's listing announced, summaries filled in
    figures: dict[str, ExportedFigure] = field(default_factory=dict)  # by paper id
    reviews: dict[str, Review] = field(default_factory=dict)  # by paper id (with `--full`)

    @property
    def basename(self) -> str:
        """``2026-11-20-talking-head``: the post's file name without ``.md``, and its folder."""
        return f"{self.day.isoformat()}-{self.slug}"


def slugify(text: str) -> str:
    """A stable ASCII slug of a query text: ``"lip sync" OR -survey`` -> ``lip-sync-or-not-survey``.

    Accents are dropped; a query with no ASCII letters gets ``topic-<hash>``."""
    words = []
    for token in text.split():
        if token.startswith("-") and len(token) > 1:
            words.append("not")
        words.append(token)
    flat = unicodedata.normalize("NFKD", " ".join(words))
    flat = flat.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", flat).strip("-")
    if len(slug) > _SLUG_MAX:
        cut = slug[:_SLUG_MAX]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[_SLUG_MAX // 2 :] else cut
        slug = slug.strip("-")
    if not re.search(r"[a-z]", slug):
        digest = hashlib.sha1(text.strip().encode(), usedforsecurity=False).hexdigest()[:8]
        slug = f"topic-{digest}" if not slug else f"{slug}-{digest}"
    return slug


def query_tags(query: Query) -> list[str]:
    """The query's terms and categories that can make it match, as typed, in order, once each
    (``talk*`` gives ``talk``; ``cat:cs.*`` gives ``cs``)."""
    tags: dict[str, str] = {}
    for leaf in positive_leaves(query.root):
        if isinstance(leaf, Terms):
            tag = leaf.display or " ".join(leaf.tokens)
        elif isinstance(leaf, Prefix):
            tag = leaf.prefix
        elif isinstance(leaf, Category):
            tag = leaf.value.removesuffix(".*")
        else:  # pragma: no cover - every leaf type is handled above
            continue
        tag = " ".join(tag.strip("\"'").split())
        if tag:
            tags.setdefault(tag.casefold(), tag)
    return list(tags.values())


def figure_name(paper_id: str, index: int, filename: str) -> str:
    """``fig-2611.00001-1.png`` (old-style ids: ``fig-hep-th-9901001-1.png``)."""
    ext = filename.rsplit(".", 1)[-1] if "." in filename else "png"
    return f"fig-{paper_id.replace('/', '-')}-{index}.{ext}"


async def export_day(
    core: Core,
    query_text: str,
    day: date,
    *,
    language: str | None = None,
    full: bool = False,
    max_papers: int | None = None,
) -> DayExport:
    """The post of `query_text` for the listing of `day`, built (and recorded) on first
    request, read back afterwards. Raises `InvalidQuery`, `NoListing` (a future day, a
    weekend, a holiday) and `SourceUnavailable` (the day is not stored and arXiv is down)."""
    query = parse_query(query_text)
    app = core.paperboy
    lang = normalize_language(language or core.settings.language)
    now = core.clock()
    today = now.astimezone(EASTERN).date()
    if day > today:
        latest = current_listing_date(now)
        raise NoListing(
            f"--date {day.isoformat()} is in the future: arXiv has not announced that listing "
            f"yet. The latest listing is {latest.isoformat()}."
        )
    if not is_listing_day(day):
        earlier = await _earlier_listing(core, day)
        raise NoListing(
            f"arXiv announces nothing on {day.strftime('%A')} {day.isoformat()} (listings are "
            f"dated Monday to Friday); the nearest earlier listing is {earlier.isoformat()}."
        )
    report = await app.refresh(since=day)
    papers = core.storage.papers
    listed = await papers.announcements_between(day - timedelta(days=1), day)
    if not listed:
        if report.failed:
            reason = next(iter(report.failed.values()))
            raise SourceUnavailable(f"the listing of {day.isoformat()} is not stored ({reason})")
        earlier = await _earlier_listing(core, day)
        raise NoListing(
            f"arXiv announced nothing on {day.isoformat()} (a holiday?); the nearest earlier "
            f"listing is {earlier.isoformat()}."
        )
    # Each paper as the day's listing announced it (the store keeps only the newest version).
    announced: dict[str, int] = {}
    for ann in listed:
        announced[ann.paper.id] = max(announced.get(ann.paper.id, 0), ann.version)
    listed = [
        StoredAnnouncement(replace(a.paper, version=announced[a.paper.id]), a.version, a.type,
                           a.listing_date)
        for a in listed
    ]  # fmt: skip

    digests = core.storage.digests
    topic_id = await digests.topic_id(query.canonical, query.text, now=now)
    digest = await digests.find_digest(AUDIENCE, topic_id, day)
    if digest is None:
        cap = max_papers or core.settings.digest_max_papers
        matched, in_title = match_one(query, listed, title_too=True)
        delivered = await digests.delivered_versions(AUDIENCE, topic_id, sorted(matched))
        new, updated = split_entries(listed, matched, delivered, lambda p: p.id in in_title)
        [saved] = await digests.save_digests(
            [
                NewDigest(
                    audience=AUDIENCE,
                    topic_id=topic_id,
                    since=day,
                    through=day,
                    entries=(*new[:cap], *updated[:MAX_UPDATED_ENTRIES]),
                    total_matched=len(new),
                )
            ],
            now=now,
        )
        digest = await digests.find_digest(AUDIENCE, topic_id, day)  # saved, or built meanwhile
        assert digest is not None, saved
    entries = await _pinned(core, digest.entries, announced)
    digest = replace(digest, query=query.text, entries=entries)
    shown = [e.paper for e in digest.new_entries]
    summaries = await app.summarizer.summarize_many(shown, lang)
    digest = replace(digest, summaries=summaries)

    figures = await asyncio.gather(*(_figure(core, p) for p in shown))
    reviews: dict[str, Review] = {}
    if full:
        done = await asyncio.gather(*(core.reviews.review(p, None, lang) for p in shown))
        reviews = {p.id: r for p, r in zip(shown, done, strict=True)}
    return DayExport(
        day=day,
        query=query,
        slug=slugify(query.text),
        language=lang,
        digest=digest,
        figures={p.id: f for p, f in zip(shown, figures, strict=True) if f is not None},
        reviews=reviews,
    )


async def _pinned(
    core: Core, entries: tuple[DigestEntry, ...], announced: dict[str, int]
) -> tuple[DigestEntry, ...]:
    """`entries` with each paper at the version the listing announced: the stored copy when it
    is that version, else that version's metadata read from arXiv (a paper updated since)."""
    stale = [
        ArxivId(e.paper.id, announced[e.paper.id])
        for e in entries
        if e.paper.id in announced and e.paper.version != announced[e.paper.id]
    ]
    if not stale:
        return entries
    found: dict[str, Paper] = await core.paperboy.source.lookup(stale)
    return tuple(
        replace(e, paper=found[e.paper.id])
        if e.paper.id in found and found[e.paper.id].version == announced.get(e.paper.id)
        else e
        for e in entries
    )


async def _figure(core: Core, paper: Paper) -> ExportedFigure | None:
    figure = await core.figures.first_figure(paper)
    if figure is None:
        return None
    image = await figure.for_platform(WEB_IMAGE)
    if image is None:
        return None
    return ExportedFigure(figure, image, figure_name(paper.id, figure.index, image.filename))


async def _earlier_listing(core: Core, day: date) -> date:
    """The newest stored listing before `day`, else the calendar's previous listing day."""
    from bot.source.calendar import previous_listing_day

    papers = core.storage.papers
    latest = await papers.latest_listing_date()
    if latest is not None and latest < day:
        return latest
    candidate = previous_listing_day(day)
    for _ in range(_LOOK_BACK):
        if await papers.announcements_between(candidate - timedelta(days=1), candidate):
            return candidate
        candidate = previous_listing_day(candidate)
    return previous_listing_day(day)
