"""Full text of papers: arXiv's HTML rendering, else the PDF, else the abstract.

Import from here; the submodules hold the pieces:

* `bot.fulltext.model` — `FullText`, `Section`/`SectionKind`, `FigureRef`, `Note`/`NoteKind`,
  `TextSource`, `section_kind`;
* `bot.fulltext.html` — `parse_html` for LaTeXML pages;
* `bot.fulltext.pdf` — `extract_pdf` with pypdfium2 (first 60 pages, heading heuristics);
* `bot.fulltext.budget` — `select_for_budget`: what reaches the LLM, cut between sentences;
* `bot.fulltext.figures` — `fit_image` to a platform's photo limits (Pillow);
* `bot.fulltext.fetch` — `FullTextSource`, the async fetcher over the shared arXiv session.
"""

from __future__ import annotations

from bot.fulltext.budget import SHORTENED, Excerpt, estimate_tokens, select_for_budget
from bot.fulltext.fetch import ContentTooLarge, FullTextSource, abstract_only
from bot.fulltext.figures import (
    DISCORD_IMAGE,
    TELEGRAM_PHOTO,
    FigureUnusable,
    PhotoLimits,
    fit_image,
)
from bot.fulltext.html import HtmlUnusable, parse_html
from bot.fulltext.model import (
    CANONICAL_SITE,
    FigureRef,
    FullText,
    Note,
    NoteKind,
    Section,
    SectionKind,
    TextSource,
    section_kind,
)
from bot.fulltext.pdf import MAX_PAGES, PdfNoText, PdfUnreadable, extract_pdf

__all__ = [
    "CANONICAL_SITE",
    "DISCORD_IMAGE",
    "MAX_PAGES",
    "SHORTENED",
    "TELEGRAM_PHOTO",
    "ContentTooLarge",
    "Excerpt",
    "FigureRef",
    "FigureUnusable",
    "FullText",
    "FullTextSource",
    "HtmlUnusable",
    "Note",
    "NoteKind",
    "PdfNoText",
    "PdfUnreadable",
    "PhotoLimits",
    "Section",
    "SectionKind",
    "TextSource",
    "abstract_only",
    "estimate_tokens",
    "extract_pdf",
    "fit_image",
    "parse_html",
    "section_kind",
    "select_for_budget",
]
