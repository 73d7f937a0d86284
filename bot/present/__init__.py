"""Platform-neutral presentation: what any frontend shows of papers and digests.

Views hold already-localized plain text (English or Chinese, `strings_for`): no markup and no
escaping, so each frontend (Telegram, Discord, the terminal) only turns them into its markup.
"""

from __future__ import annotations

from bot.present.digest import (
    FACTS_SEP,
    DigestView,
    UpdatedView,
    date_span,
    digest_view,
    no_papers_note,
)
from bot.present.paper import (
    CARD_AUTHORS,
    DETAILS_AUTHORS,
    SHORT_AUTHORS,
    LinkView,
    PaperLabels,
    PaperView,
    author_line,
    display_text,
    is_arxiv_id,
    labels_for,
    paper_card,
    paper_details,
    paper_view,
    summary_note,
)
from bot.present.strings import EN, ZH, Strings, strings_for

__all__ = [
    "CARD_AUTHORS",
    "DETAILS_AUTHORS",
    "EN",
    "FACTS_SEP",
    "SHORT_AUTHORS",
    "ZH",
    "DigestView",
    "LinkView",
    "PaperLabels",
    "PaperView",
    "Strings",
    "UpdatedView",
    "author_line",
    "date_span",
    "digest_view",
    "display_text",
    "is_arxiv_id",
    "labels_for",
    "no_papers_note",
    "paper_card",
    "paper_details",
    "paper_view",
    "strings_for",
    "summary_note",
]
