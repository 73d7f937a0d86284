"""The daily blog post of `paperboy export`: Markdown with Hexo/Hugo front matter, figures saved
beside it, written atomically and only when its bytes change.

Layout under the output folder::

    2026-11-20-talking-head.md            the post
    2026-11-20-talking-head/fig-<id>-1.png  each paper's first figure, linked relatively

Everything written comes from the `DayExport` alone (no clock, no version number), so the same
day gives the same bytes. Paper-supplied text is escaped for Markdown, for inline HTML and for
the template syntax of Hugo shortcodes and Hexo's Nunjucks (``{{ }}``, ``{% %}``); front matter
values are double-quoted YAML scalars on one line, so no title can end the front matter.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.export import DayExport, query_tags
from bot.figures import shorten_caption
from bot.models import DetailLevel
from bot.present import PaperView, author_line, digest_view, strings_for
from bot.reviews.model import Review
from bot.reviews.render import LABELS, review_blocks, source_line
from handlers.terminal.markdown import closing_lines
from handlers.terminal.markdown import escape as _md_escape

_AUTHORS = 20  # names before "et al. (N authors)"
_DESCRIPTION = 200  # characters of the front matter's description
_CAPTION = 300  # characters of a figure's caption under it
_TITLES = {"en": "arXiv: {topic} — {date}", "zh": "arXiv：{topic} — {date}"}
_REVIEW = {"en": "Review", "zh": "评述"}


def escape(text: str) -> str:
    """Markdown (`handlers.terminal.markdown.escape`) plus ``{ } &``: no shortcode, template tag
    or character entity can come from a paper."""
    out = _md_escape(text)
    return out.replace("&", "\\&").replace("{", "\\{").replace("}", "\\}")


def yaml_str(value: str) -> str:
    """A double-quoted YAML scalar on one line (JSON's escapes, plus the characters YAML 1.1
    reads as line breaks and any other control or format character)."""
    text = json.dumps(" ".join(value.split()), ensure_ascii=False)
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c
        for c in text
    )


def _yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(yaml_str(v) for v in values) + "]"


def _ui(language: str) -> str:
    return strings_for(language).code


def post_files(export: DayExport) -> dict[str, bytes]:
    """Every file of the post, by path relative to the output folder, post first."""
    files = {f"{export.basename}.md": render_post(export).encode("utf-8")}
    for fig in sorted(export.figures.values(), key=lambda f: f.filename):
        files[f"{export.basename}/{fig.filename}"] = fig.image.data
    return files


def render_post(export: DayExport) -> str:
    """The post's Markdown: front matter, heading, one section per paper, update lines."""
    ui = _ui(export.language)
    s = strings_for(ui)
    view = digest_view(export.digest, detail=DetailLevel.FULL, language=ui)
    day = s.long_date(export.day)
    primaries = sorted({p.primary_category for p in view.papers if p.primary_category})
    first_tldr = next((p.tldr for p in view.papers if p.tldr), None)
    description = first_tldr or view.empty_note or view.facts
    lines = [
        "---",
        f"title: {yaml_str(_TITLES[ui].format(topic=view.name, date=day))}",
        f"date: {export.day.isoformat()}",
        f"tags: {_yaml_list(query_tags(export.query))}",
        f"categories: {_yaml_list(['arXiv', *primaries])}",
        f"description: {yaml_str(shorten_caption(description, _DESCRIPTION))}",
    ]
    cover = next((export.figures[p.paper_id] for p in view.papers if p.paper_id in export.figures),
                 None)  # fmt: skip
    if cover is not None:
        lines.append(f"cover: {yaml_str(f'{export.basename}/{cover.filename}')}")
    lines += [
        f"query: {yaml_str(export.query.text)}",
        f"papers: {view.new_count}",
        "disableNunjucks: true",  # Hexo: never read the body as a template
        "---",
        "",
        f"# {escape(f'{view.name} — {day}')}",
        "",
        f"*{escape(view.facts)}*",
        "",
    ]
    if view.summary_note:
        lines += [f"*{escape(view.summary_note)}*", ""]
    if view.empty_note:
        lines += [escape(view.empty_note), ""]
    for paper in view.papers:
        lines += _paper(export, paper, ui)
    lines += closing_lines(view, escape)
    return "\n".join(lines).rstrip() + "\n"


def _paper(export: DayExport, view: PaperView, ui: str) -> list[str]:
    labels = view.labels
    colon = labels.colon.rstrip()  # ":" or "："
    authors = author_line(view.authors, language=ui, limit=_AUTHORS)
    meta = [view.versioned_id, escape(", ".join(view.categories)), escape(view.submitted or "")]
    lines = [f"## {view.number}. [{escape(view.title)}](<{view.abs_url}>)", ""]
    fig = export.figures.get(view.paper_id)
    if fig is not None:
        caption = shorten_caption(fig.figure.caption, _CAPTION)
        alt = caption or f"{view.versioned_id} figure {fig.figure.index}"
        lines += [f"![{escape(alt)}](<{export.basename}/{fig.filename}>)", ""]
        if caption:
            lines += [f"*{escape(caption)}*", ""]
    lines += [
        f"**{escape(labels.authors)}{colon}** {escape(authors)}  ",
        f"**arXiv:** {' · '.join(m for m in meta if m)}  ",
        f"**{escape(labels.links)}{colon}** "
        + " · ".join(f"[{escape(link.label)}](<{link.url}>)" for link in view.all_links),
    ]
    for label, value in ((labels.comment, view.comment), (labels.journal_ref, view.journal_ref)):
        if value:
            lines[-1] += "  "
            lines.append(f"**{escape(label)}{colon}** {escape(value)}")
    if view.tldr is not None:
        tag = f" *{escape(labels.extractive.strip())}*" if view.extractive else ""
        lines += ["", f"**{escape(labels.tldr)}{tag}{colon}** {escape(view.tldr)}"]
        if view.takeaways:
            lines += ["", f"**{escape(labels.takeaways)}**", ""]
            lines += [f"- {escape(t)}" for t in view.takeaways]
    review = export.reviews.get(view.paper_id)
    if review is not None:
        lines += ["", f"### {escape(_REVIEW[ui])}", ""]
        lines += _review(review, ui, colon)
    lines += ["", f"<details><summary>{escape(labels.abstract)}</summary>", "",
              escape(view.abstract), "", "</details>", ""]  # fmt: skip
    return lines


def _review(review: Review, ui: str, colon: str) -> list[str]:
    """The review's blocks as labelled paragraphs; what the card shows already (title,
    authors) is left out, except a translated title."""
    t = LABELS.get(ui, LABELS["en"])
    lines = []
    if review.translated_title:
        lines += [f"**{escape(t['title'])}{colon}** {escape(review.translated_title)}", ""]
    for heading, text in review_blocks(review, ui):
        if heading in {t["title"], t["authors"], t["source"]}:
            continue  # the source is said once, last, as "Source: HTML"
        if heading == t["steps"]:
            lines += [f"**{escape(heading)}{colon}**", ""]
            lines += [f"{i}. {escape(step)}" for i, step in enumerate(review.method_steps, 1)]
            lines.append("")
            continue
        parts = [p for p in text.splitlines() if p.strip()]
        if len(parts) == 1:
            lines += [f"**{escape(heading)}{colon}** {escape(parts[0])}", ""]
        else:
            lines += [f"**{escape(heading)}{colon}**", ""]
            lines += [f"- {escape(p)}" for p in parts]
            lines.append("")
    return [*lines, f"*{escape(source_line(review, ui))}*"]


@dataclass(frozen=True)
class Written:
    """What `write_post` did: each file's path and whether its bytes changed."""

    post: Path
    changed: list[Path]
    unchanged: list[Path]
    removed: list[Path]


def write_post(export: DayExport, out: Path) -> Written:
    """Write the post and its figures under `out`, each atomically (a temporary file, then a
    rename) and only when its bytes differ; remove figures of this post no longer linked."""
    files = post_files(export)
    changed: list[Path] = []
    unchanged: list[Path] = []
    for rel, data in files.items():
        path = out / rel
        (changed if _write_if_changed(path, data) else unchanged).append(path)
    removed: list[Path] = []
    folder = out / export.basename
    if folder.is_dir():
        keep = {out / rel for rel in files}
        for stale in sorted(folder.glob("fig-*")):
            if stale.is_file() and stale not in keep:
                stale.unlink()
                removed.append(stale)
    return Written(out / f"{export.basename}.md", changed, unchanged, removed)


def _write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as sink:
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
