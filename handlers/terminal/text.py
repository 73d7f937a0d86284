"""Plain-text rendering for the terminal: a digest, or one paper's card."""

from __future__ import annotations

import textwrap

from bot.links import paper_links
from bot.models import Digest, LinkKind, Paper, Summary
from bot.render.common import author_line, category_line, long_date, more_line, summary_label

_WIDTH = 100


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(
        " ".join(text.split()),
        width=_WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
    )


def _paper_block(
    number: int | None, paper: Paper, summary: Summary | None, *, abstract: bool
) -> str:
    head = f"{number}. " if number is not None else ""
    pad = " " * len(head)
    lines = [_wrap(paper.title, pad, first=head)]
    lines.append(_wrap(author_line(paper, limit=8 if number is None else 5), pad))
    meta = [f"arXiv:{paper.versioned_id}", category_line(paper)]
    if paper.published is not None:
        meta.append(f"submitted {paper.published.date().isoformat()}")
    lines.append(pad + " · ".join(m for m in meta if m))
    if summary is not None:
        lines.append(_wrap(summary.tldr, pad + "        ", first=pad + "TL;DR: "))
        lines.extend(_wrap(t, pad + "  ", first=pad + "• ") for t in summary.takeaways)
    if paper.comment:
        lines.append(_wrap(paper.comment, pad + "         ", first=pad + "Comment: "))
    if abstract:
        lines.append("")
        lines.append(_wrap(paper.abstract, pad))
        lines.append("")
    for link in paper_links(paper):
        lines.append(f"{pad}{link.label}: {link.url}")
    return "\n".join(lines)


def render_digest(digest: Digest) -> str:
    header = f"Paperboy digest · {digest.query}"
    if digest.through is None:
        return (
            f"{header}\n\nNo arXiv listing is stored yet and none could be fetched. "
            "Check the network and ARXIV_RSS_URL, then try again."
        )
    span = long_date(digest.through)
    if digest.since is not None and digest.since < digest.through:
        span = f"{long_date(digest.since)} – {span}"
    parts = [header, f"arXiv listings: {span}"]
    new, updated = digest.new_entries, digest.updated_entries
    label = summary_label(digest.summaries)
    if label and new:
        parts.append(label)
    parts.append("")
    if not new:
        parts.append(
            "No new papers matched this topic. arXiv announces Sunday to Thursday at 20:00 "
            "US Eastern; the next listing may bring some."
        )
    for i, entry in enumerate(new, 1):
        parts.append(
            _paper_block(i, entry.paper, digest.summaries.get(entry.paper.id), abstract=False)
        )
        parts.append("")
    more = more_line(digest)
    if more:
        parts.extend([more + " Narrow the topic or raise --max.", ""])
    if updated:
        parts.append("Updated since you saw them:")
        for entry in updated:
            abs_url = next(
                link.url for link in paper_links(entry.paper) if link.kind is LinkKind.ABSTRACT
            )
            parts.append(
                f"  • {entry.paper.title} — updated to v{entry.paper.version} "
                f"(was v{entry.previous_version}) {abs_url}"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def render_paper(paper: Paper, summary: Summary | None) -> str:
    parts = [_paper_block(None, paper, summary, abstract=True)]
    label = summary_label({paper.id: summary} if summary else {})
    if label:
        parts.append("")
        parts.append(label)
    return "\n".join(parts).rstrip() + "\n"
