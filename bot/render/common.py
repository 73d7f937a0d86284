"""Formatting helpers shared by every renderer (and later by the chat frontends)."""

from __future__ import annotations

from datetime import date

from bot.models import Digest, Paper, Summary, SummarySource


def author_line(paper: Paper, limit: int = 5) -> str:
    """``A, B, C, D, E et al. (12 authors)`` — long collaborations stay one line."""
    authors = list(paper.authors)
    if not authors:
        return "Unknown authors"
    if len(authors) <= limit:
        return ", ".join(authors)
    return f"{', '.join(authors[:limit])} et al. ({len(authors)} authors)"


def category_line(paper: Paper) -> str:
    cats = list(paper.categories)
    primary = paper.primary_category or (cats[0] if cats else None)
    if primary is None:
        return ""
    others = [c for c in cats if c != primary]
    return primary + (f" (also {', '.join(others)})" if others else "")


def long_date(day: date) -> str:
    """``Fri 21 Nov 2026``: unambiguous whatever the reader's locale."""
    return day.strftime("%a %d %b %Y").replace(" 0", " ")


def summary_label(summaries: dict[str, Summary]) -> str | None:
    """A note on where the summaries came from, shown when any is extractive."""
    sources = {s.source for s in summaries.values()}
    if SummarySource.EXTRACTIVE not in sources:
        return None
    if SummarySource.LLM in sources:
        return (
            "Some summaries are extractive (sentences from the abstract): the LLM failed for them."
        )
    return (
        "Summaries are extractive (key sentences from the abstract); "
        "set OPENAI_API_KEY for LLM summaries."
    )


def more_line(digest: Digest) -> str | None:
    hidden = digest.total_matched - len(digest.new_entries)
    if hidden <= 0:
        return None
    return f"…and {hidden} more matching paper{'s' if hidden != 1 else ''} not shown."
