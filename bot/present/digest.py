"""What every frontend shows of a digest, as already-localized plain text.

`digest_view` turns a `Digest` into a `DigestView`: the header facts, one `PaperView` per new paper
(showing as much of its summary as the chat's `DetailLevel` asks for), one `UpdatedView` per paper
updated since it was delivered, and the notes around them. Like `PaperView`, nothing is escaped,
shortened or marked up: that is each frontend's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import DetailLevel, Digest, DigestEntry
from bot.present.paper import PaperView, display_text, is_arxiv_id, paper_view, summary_note
from bot.present.strings import Strings, strings_for

FACTS_SEP = " · "  # between the facts of `DigestView.facts`


@dataclass(frozen=True, slots=True)
class UpdatedView:
    """A paper delivered before that has a new version: one line under `updated_heading`."""

    number: int  # numbered after the digest's new papers
    paper_id: str
    title: str
    abs_url: str
    version: int
    previous_version: int | None
    note: str  # "updated to v3 (was v2)", or "updated to v3" when the earlier one is unknown
    details_id: str | None  # payload for a "details" action; None when not a valid arXiv id


@dataclass(frozen=True, slots=True)
class DigestView:
    """A digest as any frontend shows it: localized plain text, no markup, nothing escaped."""

    name: str  # the heading: the title given, else the topic query
    query: str | None  # the topic query, to show under `name` when a title was given
    detail: DetailLevel  # TITLES: no summary (frontends may also leave out links)
    span: str | None  # "Wed 18 Nov – Fri 20 Nov 2026"; None before any listing
    new_count: int
    hidden: int  # papers matched but left out by the cap
    facts: str  # span · "3 new papers" · "and 5 more not shown"
    papers: tuple[PaperView, ...]  # the new papers, numbered from 1
    updated_heading: str  # "Updated since you saw them"
    updated: tuple[UpdatedView, ...]
    continued: str  # "<name> (continued)": heads messages after the first
    empty_note: str | None  # when there are no new papers: `no_papers_note`
    summary_note: str | None  # when summaries shown are extractive (`summary_note`)
    more_line: str | None  # "…and 5 more matching papers not shown." when `hidden`

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no new paper and no update."""
        return not self.papers and not self.updated


def date_span(digest: Digest, *, language: str) -> str | None:
    """The listings a digest covers: ``Fri 20 Nov 2026``, ``Wed 18 Nov – Fri 20 Nov 2026``
    (the start's year is written only when it differs); None before any listing."""
    s = strings_for(language)
    if digest.through is None:
        return None
    span = s.long_date(digest.through)
    since = digest.since
    if since is not None and since < digest.through:
        same_year = since.year == digest.through.year
        span = f"{s.short_date(since) if same_year else s.long_date(since)} – {span}"
    return span


def no_papers_note(digest: Digest, *, language: str) -> str:
    """ "No new papers in the arXiv listing of <date>." (or "no listing received yet")."""
    s = strings_for(language)
    if digest.through is None:
        return s.no_listing
    return s.no_new_papers.format(date=s.long_date(digest.through))


def _updated(number: int, entry: DigestEntry, s: Strings) -> UpdatedView:
    paper = entry.paper
    if entry.previous_version is not None:
        note = s.updated_to.format(v=paper.version, was=entry.previous_version)
    else:
        note = s.updated_to_only.format(v=paper.version)
    return UpdatedView(
        number=number,
        paper_id=paper.id,
        title=display_text(paper.title),
        abs_url=f"https://arxiv.org/abs/{paper.id}",
        version=paper.version,
        previous_version=entry.previous_version,
        note=note,
        details_id=paper.id if is_arxiv_id(paper.id) else None,
    )


def digest_view(
    digest: Digest, *, detail: DetailLevel, language: str, title: str | None = None
) -> DigestView:
    """A `DigestView` of `digest` in the UI `language` (`strings_for`).

    `detail` decides the summary shown: TITLES none, TLDR the TL;DR, FULL the TL;DR and key
    takeaways. `title` replaces the topic query as `name` (the query then goes in `query`).
    Papers and updates are numbered in one sequence, new papers first.
    """
    s = strings_for(language)
    new, updated = digest.new_entries, digest.updated_entries
    papers = tuple(
        paper_view(
            entry.paper,
            digest.summaries.get(entry.paper.id),
            language=language,
            number=number,
            show_tldr=detail is not DetailLevel.TITLES,
            show_takeaways=detail is DetailLevel.FULL,
        )
        for number, entry in enumerate(new, 1)
    )
    updates = tuple(_updated(number, e, s) for number, e in enumerate(updated, len(new) + 1))
    name = display_text(title or digest.query)
    span = date_span(digest, language=language)
    hidden = max(digest.total_matched - len(new), 0)
    facts = [span, s.new_papers(len(new)), s.more_not_shown(hidden) if hidden else None]
    note = None
    if papers and detail is not DetailLevel.TITLES:
        note = summary_note(digest.summaries.values(), language=language)
    return DigestView(
        name=name,
        query=display_text(digest.query) if title else None,
        detail=detail,
        span=span,
        new_count=len(new),
        hidden=hidden,
        facts=FACTS_SEP.join(f for f in facts if f),
        papers=papers,
        updated_heading=s.updated_heading,
        updated=updates,
        continued=s.continued.format(topic=name),
        empty_note=None if papers else no_papers_note(digest, language=language),
        summary_note=note,
        more_line=s.more_line(hidden) if hidden else None,
    )
