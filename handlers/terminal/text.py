"""Plain-text rendering for the terminal: a digest, or one paper's card.

The words and facts come from the core's views (`bot.present`), in English unless another UI
language is given; this module only lays them out (wrapped to `_WIDTH` columns) and adds the
command line's own advice.
"""

from __future__ import annotations

import textwrap
from datetime import date

from bot.models import DetailLevel, Digest, Paper, Summary
from bot.present import PaperView, author_line, digest_view, paper_card, strings_for

_WIDTH = 100
_DIGEST_AUTHORS = 5  # names before "et al. (N authors)" in a digest; a single paper shows 8


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(
        " ".join(text.split()),
        width=_WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
    )


def _labelled(label: str, text: str, pad: str) -> str:
    return _wrap(text, pad + " " * (len(label) + 2), first=f"{pad}{label}: ")


def _paper_block(view: PaperView, *, abstract: bool, language: str) -> str:
    head = f"{view.number}. " if view.number is not None else ""
    pad = " " * len(head)
    lines = [_wrap(view.title, pad, first=head)]
    if view.number is None:
        authors = view.authors_long
    else:
        authors = author_line(view.authors, language=language, limit=_DIGEST_AUTHORS)
    lines.append(_wrap(authors, pad))
    meta = [f"arXiv:{view.versioned_id}", ", ".join(view.categories), view.submitted or ""]
    lines.append(pad + " · ".join(m for m in meta if m))
    if view.tldr is not None:
        lines.append(_labelled(view.tldr_label, view.tldr, pad))
        lines.extend(_wrap(t, pad + "  ", first=pad + "• ") for t in view.takeaways)
    if view.comment:
        lines.append(_labelled(view.labels.comment, view.comment, pad))
    if view.journal_ref:
        lines.append(_labelled(view.labels.journal_ref, view.journal_ref, pad))
    if abstract and view.abstract:
        lines.append("")
        lines.append(_wrap(view.abstract, pad))
        lines.append("")
    for link in view.all_links:
        lines.append(f"{pad}{link.label}: {link.url}")
    return "\n".join(lines)


def quiet_day_line(day: date, *, language: str = "en") -> str:
    """Why the digest shows an earlier listing: arXiv announces nothing on `day`."""
    return (
        f"arXiv announces nothing on {strings_for(language).long_date(day)} "
        "(no announcement on weekends and holidays); this is the latest listing."
    )


def render_digest(digest: Digest, *, language: str = "en", quiet_day: date | None = None) -> str:
    """A digest as plain text: every paper with its full summary and every link.

    `quiet_day`: today, when arXiv announces nothing today (said under the heading)."""
    view = digest_view(digest, detail=DetailLevel.FULL, language=language)
    header = f"Paperboy digest · {view.name}"
    if view.span is None:
        return (
            f"{header}\n\nNo arXiv listing is stored yet and none could be fetched. "
            "Check the network and ARXIV_RSS_URL, then try again."
        )
    parts = [header, f"arXiv listings: {view.span}"]
    if quiet_day is not None and digest.through is not None and digest.through < quiet_day:
        parts.append(quiet_day_line(quiet_day, language=language))
    if view.summary_note:
        parts.append(view.summary_note)
    parts.append("")
    if view.empty_note:
        advice = (
            "arXiv announces Sunday to Thursday at 20:00 US Eastern; "
            "the next listing may bring some."
        )
        parts.append(_wrap(f"{view.empty_note} {advice}", ""))
    for paper in view.papers:
        parts.append(_paper_block(paper, abstract=False, language=language))
        parts.append("")
    if view.more_line:
        parts.extend([view.more_line + " Narrow the topic or raise --max.", ""])
    if view.updated:
        parts.append(f"{view.updated_heading}:")
        for updated in view.updated:
            parts.append(f"  • {updated.title} — {updated.note} {updated.abs_url}")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def render_paper(paper: Paper, summary: Summary | None, *, language: str = "en") -> str:
    """One paper as plain text: its card with the abstract and every link."""
    view = paper_card(paper, summary, language=language)
    parts = [_paper_block(view, abstract=True, language=language)]
    if view.summary_note:
        parts.append("")
        parts.append(view.summary_note)
    return "\n".join(parts).rstrip() + "\n"
