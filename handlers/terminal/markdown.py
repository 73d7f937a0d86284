"""Markdown rendering: a digest as a daily blog post (front matter, dated heading, one section per
paper), ready for a static site generator such as Hugo or Jekyll.

The words and facts come from the core's views (`bot.present`), in English unless another UI
language is given; this module only writes them as Markdown, escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date

from bot import __version__
from bot.models import DetailLevel, Digest
from bot.present import DigestView, PaperView, author_line, digest_view
from handlers.terminal.text import quiet_day_line

# Characters that change Markdown formatting anywhere in running text (parentheses matter only
# after a bracket, and brackets are escaped, so prose keeps its parentheses readable).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# ...and those that matter only at the start of a line (headings, lists, quotes, rules).
_MD_LINE_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")
_AUTHORS = 20  # names before "et al. (N authors)"


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


def closing_lines(view: DigestView, escape: Callable[[str], str]) -> list[str]:
    """The end of a digest post: "…and N more", then the papers updated since (shared by
    `digest --format markdown` and `export`, each with its own escaping)."""
    lines: list[str] = []
    if view.more_line:
        lines += [f"*{escape(view.more_line)}*", ""]
    if view.updated:
        lines += [f"## {escape(view.updated_heading)}", ""]
        for updated in view.updated:
            lines.append(
                f"- [{escape(updated.title)}](<{updated.abs_url}>) — {escape(updated.note)}"
            )
        lines.append("")
    return lines


def _links(view: PaperView) -> str:
    return " · ".join(f"[{escape(link.label)}](<{link.url}>)" for link in view.all_links)


def _paper_section(view: PaperView, language: str) -> list[str]:
    labels = view.labels
    authors = author_line(view.authors, language=language, limit=_AUTHORS)
    meta = [view.versioned_id, escape(", ".join(view.categories)), escape(view.submitted or "")]
    lines = [
        f"## {view.number}. [{escape(view.title)}](<{view.abs_url}>)",
        "",
        f"**{escape(labels.authors)}:** {escape(authors)}  ",
        f"**arXiv:** {' · '.join(m for m in meta if m)}  ",
        f"**{escape(labels.links)}:** {_links(view)}",
    ]
    for label, value in ((labels.comment, view.comment), (labels.journal_ref, view.journal_ref)):
        if value:
            lines[-1] += "  "
            lines.append(f"**{escape(label)}:** {escape(value)}")
    if view.tldr is not None:
        tag = f" *{escape(labels.extractive.strip())}*" if view.extractive else ""
        lines += ["", f"**{escape(labels.tldr)}{tag}:** {escape(view.tldr)}"]
        if view.takeaways:
            lines += ["", f"**{escape(labels.takeaways)}**", ""]
            lines += [f"- {escape(t)}" for t in view.takeaways]
    lines += ["", f"<details><summary>{escape(labels.abstract)}</summary>", "",
              escape(view.abstract), "", "</details>", ""]  # fmt: skip
    return lines


def render_digest_markdown(
    digest: Digest, *, language: str = "en", quiet_day: date | None = None
) -> str:
    """A digest as a Markdown blog post: front matter, then every paper in full.

    `quiet_day`: today, when arXiv announces nothing today (said under the heading)."""
    view = digest_view(digest, detail=DetailLevel.FULL, language=language)
    lines = _front_matter(digest, digest.through)
    heading = f"{view.name} — {view.span}" if view.span else view.name
    lines += [f"# {escape(heading)}", ""]
    if quiet_day is not None and digest.through is not None and digest.through < quiet_day:
        lines += [f"*{escape(quiet_day_line(quiet_day, language=language))}*", ""]
    if view.summary_note:
        lines += [f"*{escape(view.summary_note)}*", ""]
    if view.empty_note:
        lines += [escape(view.empty_note), ""]
    for paper in view.papers:
        lines += _paper_section(paper, language)
    lines += closing_lines(view, escape)
    return "\n".join(lines).rstrip() + "\n"
