"""What every frontend shows of one paper, as already-localized plain text.

`paper_view` (and its two presets `paper_card` and `paper_details`) turn a `Paper` and its
`Summary` into a `PaperView`: the facts and words of a paper message, with no markup. Text fields
are one line of display text (`display_text`: whitespace collapsed, control characters and
bidirectional overrides dropped) and are never escaped nor shortened: each frontend escapes them
for its markup and fits them into its own limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.links import paper_links
from bot.models import Link, LinkKind, Paper, Summary, SummarySource
from bot.present.strings import Strings, strings_for

SHORT_AUTHORS = 3  # names before "et al." in `PaperView.authors_short`
CARD_AUTHORS = 8  # names before "et al. (N authors)" in a card's `authors_long`
DETAILS_AUTHORS = 50  # ... and in the details' one

_COMPACT_KINDS = (LinkKind.CODE, LinkKind.PROJECT, LinkKind.DATA, LinkKind.MODEL, LinkKind.DEMO)
_NEW_ID_RE = re.compile(r"[0-9]{4}\.[0-9]{4,5}(?:v[1-9][0-9]*)?")
_OLD_ID_RE = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?/[0-9]{7}(?:v[1-9][0-9]*)?")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# Bidi overrides would flip the direction of the text after a title; lone surrogates cannot be sent.
_DROPPED_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069\ud800-\udfff]+")


def display_text(text: str) -> str:
    """One line of display text: whitespace collapsed, control characters dropped. No escaping."""
    return " ".join(_DROPPED_RE.sub("", _CONTROL_RE.sub(" ", text)).split())


def is_arxiv_id(text: str) -> bool:
    """Whether `text` is exactly an arXiv id, new (``2411.00001``) or old (``hep-th/9901001``)
    style, optionally versioned: safe to use as an action payload and to parse back."""
    return bool(_NEW_ID_RE.fullmatch(text) or _OLD_ID_RE.fullmatch(text))


def author_line(names: Sequence[str], *, language: str, limit: int, count: bool = True) -> str:
    """``A, B, C et al.`` (or ``… et al. (12 authors)`` with `count`) after `limit` names;
    the localized "Unknown authors" when there are none."""
    s = strings_for(language)
    if not names:
        return s.unknown_authors
    if len(names) <= limit:
        return s.list_sep.join(names)
    head = s.list_sep.join(names[:limit])
    return s.et_al_count.format(names=head, n=len(names)) if count else s.et_al.format(names=head)


def summary_note(summaries: Iterable[Summary], *, language: str) -> str | None:
    """A note on where summaries came from, when any is extractive (None otherwise)."""
    shown = list(summaries)
    extractive = [x for x in shown if x.source is SummarySource.EXTRACTIVE]
    if not extractive:
        return None
    s = strings_for(language)
    # The summarizer says why, as "what happened (detail)": papers are counted per "what
    # happened", with the first paper's detail as the example.
    reasons: dict[str, tuple[str, int]] = {}
    for x in extractive:
        if x.fallback_reason:
            kind = x.fallback_reason.split(" (", 1)[0]
            example, count = reasons.get(kind, (x.fallback_reason, 0))
            reasons[kind] = (example, count + 1)
    if reasons:
        return " ".join(
            s.extractive_because(count, len(shown), example.rstrip("."))
            for example, count in reasons.values()
        )
    return s.extractive_some if len(extractive) < len(shown) else s.extractive_all


@dataclass(frozen=True, slots=True)
class LinkView:
    """A link from the paper's metadata, with its localized label ("PDF", "Code"/"代码", …)."""

    kind: LinkKind
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class PaperLabels:
    """The localized headings and labels a paper message needs (plain text)."""

    tldr: str  # "TL;DR"
    extractive: str  # " (extractive)": follows the TL;DR heading directly, spacing included
    colon: str  # between a label and its text: ": " or "："
    takeaways: str  # "Key takeaways"
    abstract: str
    authors: str
    comment: str
    journal_ref: str
    links: str
    more_details: str  # the label of the "details" action


@dataclass(frozen=True, slots=True)
class PaperView:
    """One paper as any frontend shows it: localized plain text, no markup, nothing escaped.

    `tldr` is None (and `takeaways` empty) when there is no summary to show: no summary, an empty
    one, or a digest at a detail level that hides it. `takeaways` are shown only under a TL;DR.
    """

    number: int | None  # its number in a digest (for "details" buttons), None on its own
    paper_id: str  # unversioned
    versioned_id: str
    version: int
    title: str
    abs_url: str  # https://arxiv.org/abs/<id>: always the latest version
    pdf: LinkView  # https://arxiv.org/pdf/<versioned id>: the version summarized
    authors: tuple[str, ...]  # every name, cleaned, empty ones dropped
    authors_short: str  # "A, B, C et al."
    authors_long: str  # "A, …, H et al. (12 authors)": 8 names, or 50 in details
    primary_category: str | None
    categories: tuple[str, ...]  # primary first, no duplicates
    submitted: str | None  # "submitted Fri 21 Nov 2026" (v1 date)
    tldr: str | None
    extractive: bool  # the TL;DR shown is extractive (key sentences, not an LLM summary)
    tldr_label: str  # "TL;DR" or "TL;DR (extractive)"
    takeaways: tuple[str, ...]
    compact_links: tuple[LinkView, ...]  # PDF, HTML, then the first code/project/data/model/demo
    all_links: tuple[LinkView, ...]  # every metadata link, abstract page first
    code: LinkView | None  # the first code link
    comment: str | None
    journal_ref: str | None
    abstract: str
    details_id: str | None  # payload for a "details" action; None when not a valid arXiv id
    summary_note: str | None  # `summary_note` for this paper's own summary
    labels: PaperLabels

    @property
    def pdf_url(self) -> str:
        return self.pdf.url


def labels_for(language: str) -> PaperLabels:
    """The `PaperLabels` of a UI language."""
    s = strings_for(language)
    return PaperLabels(
        tldr=s.tldr,
        extractive=s.extractive,
        colon=s.colon,
        takeaways=s.takeaways,
        abstract=s.abstract,
        authors=s.authors,
        comment=s.comment,
        journal_ref=s.journal_ref,
        links=s.links,
        more_details=s.more_details,
    )


def _link(link: Link, s: Strings) -> LinkView:
    return LinkView(link.kind, s.link_labels[link.kind], link.url)


def _compact(links: Sequence[LinkView]) -> tuple[LinkView, ...]:
    chosen = [link for link in links if link.kind in (LinkKind.PDF, LinkKind.HTML)]
    for kind in _COMPACT_KINDS:
        chosen.extend([link for link in links if link.kind is kind][:1])
    return tuple(chosen)


def _categories(paper: Paper) -> tuple[str, ...]:
    cats = [c for c in dict.fromkeys(display_text(c) for c in paper.categories) if c]
    primary = display_text(paper.primary_category or "") or (cats[0] if cats else None)
    if primary is None:
        return ()
    return (primary, *(c for c in cats if c != primary))


def _optional(text: str | None) -> str | None:
    return display_text(text) or None if text else None


def paper_view(
    paper: Paper,
    summary: Summary | None,
    *,
    language: str,
    number: int | None = None,
    show_tldr: bool = True,
    show_takeaways: bool = True,
    author_limit: int = CARD_AUTHORS,
) -> PaperView:
    """A `PaperView` of `paper` in the UI `language` (`strings_for`).

    `show_tldr`/`show_takeaways` hide the summary's parts (digest detail levels); `author_limit`
    is how many names `authors_long` lists before "et al. (N authors)".
    """
    s = strings_for(language)
    names = tuple(name for name in (display_text(a) for a in paper.authors) if name)
    tldr = display_text(summary.tldr) if summary is not None and show_tldr else ""
    extractive = bool(tldr) and summary is not None and summary.source is SummarySource.EXTRACTIVE
    takeaways: tuple[str, ...] = ()
    if tldr and show_takeaways and summary is not None:
        takeaways = tuple(t for t in (display_text(t) for t in summary.takeaways) if t)
    links = tuple(_link(link, s) for link in paper_links(paper))
    pdf_url = f"https://arxiv.org/pdf/{paper.versioned_id}"
    cats = _categories(paper)
    return PaperView(
        number=number,
        paper_id=paper.id,
        versioned_id=paper.versioned_id,
        version=paper.version,
        title=display_text(paper.title),
        abs_url=f"https://arxiv.org/abs/{paper.id}",
        pdf=LinkView(LinkKind.PDF, s.link_labels[LinkKind.PDF], pdf_url),
        authors=names,
        authors_short=author_line(names, language=language, limit=SHORT_AUTHORS, count=False),
        authors_long=author_line(names, language=language, limit=author_limit),
        primary_category=cats[0] if cats else None,
        categories=cats,
        submitted=(
            s.submitted.format(date=s.long_date(paper.published.date()))
            if paper.published is not None
            else None
        ),
        tldr=tldr or None,
        extractive=extractive,
        tldr_label=s.tldr + (s.extractive if extractive else ""),
        takeaways=takeaways,
        compact_links=_compact(links),
        all_links=links,
        code=next((link for link in links if link.kind is LinkKind.CODE), None),
        comment=_optional(paper.comment),
        journal_ref=_optional(paper.journal_ref),
        abstract=display_text(paper.abstract),
        details_id=paper.id if is_arxiv_id(paper.id) else None,
        summary_note=summary_note([summary] if summary else [], language=language),
        labels=labels_for(language),
    )


def paper_card(paper: Paper, summary: Summary | None, *, language: str) -> PaperView:
    """The view of a paper asked for on its own (a "/paper" answer): 8 authors listed."""
    return paper_view(paper, summary, language=language, author_limit=CARD_AUTHORS)


def paper_details(paper: Paper, summary: Summary | None, *, language: str) -> PaperView:
    """The view for "more details" on a paper: up to 50 authors listed."""
    return paper_view(paper, summary, language=language, author_limit=DETAILS_AUTHORS)
