"""Markdown rendering: a digest as a daily blog post (front matter, dated heading, one section per
paper), ready for a static site generator such as Hugo or Jekyll."""

from __future__ import annotations

import json
import re
from datetime import date

from bot import __version__
from bot.links import paper_links
from bot.models import Digest, LinkKind, Paper, Summary, SummarySource
from bot.render.common import author_line, long_date, more_line, summary_label

# Characters that change Markdown formatting anywhere in running text (parentheses matter only
# after a bracket, and brackets are escaped, so prose keeps its parentheses readable).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# ...and those that matter only at the start of a line (headings, lists, quotes, rules).
_MD_LINE_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")


def escape(text: str) -> str:
    """Escape Markdown (and inline HTML) so paper-supplied text renders literally."""
    flat = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    # "12. x" must become "12\\. x": the escape goes before the dot, not the digits.
    return _MD_LINE_START.sub(
        lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), flat
    )


def _yaml_str(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, escapes included.
    return json.dumps(value, ensure_ascii=False)


def _front_matter(digest: Digest, day: date | None) -> list[str]:
    sources = sorted({s.source.value for s in digest.summaries.values()})
    lines = [
        "---",
        f"title: {_yaml_str(f'arXiv digest: {digest.query}')}",
        f"date: {day.isoformat() if day else digest.created_at.date().isoformat()}",
        f"query: {_yaml_str(digest.query)}",
        f"papers: {len(digest.new_entries)}",
        f"matched: {digest.total_matched}",
    ]
    if digest.since and digest.through:
        lines.append(f"listings: [{digest.since.isoformat()}, {digest.through.isoformat()}]")
    if sources:
        lines.append(f"summaries: [{', '.join(sources)}]")
    lines += ["tags: [arxiv, digest]", f"generator: paperboy {__version__}", "---", ""]
    return lines


def _links(paper: Paper) -> str:
    return " · ".join(f"[{escape(link.label)}](<{link.url}>)" for link in paper_links(paper))


def _paper_section(number: int, paper: Paper, summary: Summary | None) -> list[str]:
    abs_url = next(link.url for link in paper_links(paper) if link.kind is LinkKind.ABSTRACT)
    lines = [
        f"## {number}. [{escape(paper.title)}](<{abs_url}>)",
        "",
        f"**Authors:** {escape(author_line(paper, limit=20))}  ",
        f"**arXiv:** {paper.versioned_id} · {escape(', '.join(paper.categories))}  ",
        f"**Links:** {_links(paper)}",
    ]
    if paper.comment:
        lines[-1] += "  "
        lines.append(f"**Comment:** {escape(paper.comment)}")
    if summary is not None:
        tag = " *(extractive)*" if summary.source is SummarySource.EXTRACTIVE else ""
        lines += ["", f"**TL;DR{tag}:** {escape(summary.tldr)}", "", "**Key takeaways**", ""]
        lines += [f"- {escape(t)}" for t in summary.takeaways]
    lines += ["", "<details><summary>Abstract</summary>", "", escape(paper.abstract), "",
              "</details>", ""]  # fmt: skip
    return lines


def render_digest_markdown(digest: Digest) -> str:
    day = digest.through
    lines = _front_matter(digest, day)
    heading = f"{digest.query} — {long_date(day)}" if day else digest.query
    lines += [f"# {escape(heading)}", ""]
    label = summary_label(digest.summaries)
    if label and digest.new_entries:
        lines += [f"*{escape(label)}*", ""]
    if not digest.new_entries:
        lines += ["No new papers matched this topic in this listing.", ""]
    for i, entry in enumerate(digest.new_entries, 1):
        lines += _paper_section(i, entry.paper, digest.summaries.get(entry.paper.id))
    more = more_line(digest)
    if more:
        lines += [f"*{escape(more)}*", ""]
    if digest.updated_entries:
        lines += ["## Updated papers", ""]
        for entry in digest.updated_entries:
            abs_url = next(
                link.url for link in paper_links(entry.paper) if link.kind is LinkKind.ABSTRACT
            )
            lines.append(
                f"- [{escape(entry.paper.title)}](<{abs_url}>) — updated to "
                f"v{entry.paper.version} (was v{entry.previous_version})"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
