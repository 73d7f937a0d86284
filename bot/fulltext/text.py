"""Plain-text helpers shared by the HTML and PDF readers: links and affiliations.

Links are found and classified by `bot.links.text_links` (the same rules as the abstract's
links: code hosts are code, ``*.github.io`` and "project page: …" are project pages, Hugging Face
and data hosts are data/models, arXiv's own pages are dropped), then deduplicated across the
whole paper and ordered code, project, data, model, demo, DOI, other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.links import FoundLink, text_links
from bot.models import Link, LinkKind

__all__ = [
    "INSTITUTION_RE",
    "MAX_LINKS",
    "clean_affiliation",
    "collapse",
    "links_in",
    "unique",
]

MAX_LINKS = 20  # a paper citing 200 tools in footnotes still gives a readable list
_ORDER = (
    LinkKind.CODE, LinkKind.PROJECT, LinkKind.DATA, LinkKind.MODEL, LinkKind.DEMO, LinkKind.DOI,
    LinkKind.OTHER,
)  # fmt: skip
# Words that make a line of an author block an affiliation (English and a few common others).
INSTITUTION_RE = re.compile(
    r"universit|institut|college|school|laborator|\blabs?\b|academy|centre|center|department"
    r"|dept\.|facult|hospital|research|\binc\b|\bltd\b|corporation|gmbh|google|microsoft"
    r"|\bmeta\b|nvidia|deepmind|openai|amazon|\bapple\b|alibaba|tencent|baidu|bytedance|huawei"
    r"|\beth\b|\bepfl\b|\bmit\b|\bcnrs\b|\binria\b|max planck|\bcas\b",
    re.I,
)
_EMAIL_RE = re.compile(r"\S+@\S+")
_LEADING_MARKS_RE = re.compile(r"^[\s\d*†‡§¶∗,;:]+")
_AFFILIATION_LABEL_RE = re.compile(r"^(?:affiliations?|institutetext)\s*:?\s*", re.I)


def collapse(text: str) -> str:
    """Whitespace runs (newlines included) become one space."""
    return " ".join(text.split())


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Non-empty items, first occurrence kept, compared case- and space-insensitively."""
    seen: set[str] = set()
    result = []
    for item in items:
        key = collapse(item).casefold()
        if key and key not in seen:
            seen.add(key)
            result.append(collapse(item))
    return tuple(result)


def links_in(texts: Iterable[str]) -> tuple[Link, ...]:
    """The classified links stated in `texts` (in document order), deduplicated and grouped."""
    found: dict[str, FoundLink] = {}
    offset = 0
    for text in texts:
        for item in text_links(text):
            if item.key not in found:
                found[item.key] = FoundLink(item.link, item.key, offset + item.position)
        offset += len(text) + 1
    ordered = sorted(
        found.values(),
        key=lambda f: (_ORDER.index(f.link.kind) if f.link.kind in _ORDER else 9, f.position),
    )
    return tuple(f.link for f in ordered[:MAX_LINKS])


def clean_affiliation(text: str) -> str:
    """Drop footnote marks, e-mail addresses and an "Affiliation:" label from an affiliation."""
    text = _EMAIL_RE.sub(" ", collapse(text))
    text = _AFFILIATION_LABEL_RE.sub("", _LEADING_MARKS_RE.sub("", text))
    return collapse(text).strip(" ,;")
