"""The review of one paper version in one language, as plain value objects.

A `Review` mixes two kinds of content, and keeps them apart on purpose:

* facts taken from the paper and its metadata, never from a model: the original title,
  authors, affiliations (empty means "not stated"; nothing is guessed), links, the source the
  text came from and the notes saying what was not read;
* prose written by the model and validated (`bot.reviews.validate`), or, for an extractive
  review, the paper's own sentences: the translated title, keywords, the summary in four parts,
  the method as steps and the conclusion.

`to_payload`/`from_payload` turn a review into JSON-ready data and back for the cache.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from bot.fulltext.model import Note, NoteKind, TextSource
from bot.models import Link, LinkKind

__all__ = [
    "CachedReview",
    "Review",
    "ReviewKey",
    "ReviewOrigin",
    "from_payload",
    "to_payload",
]


class ReviewOrigin(enum.StrEnum):
    """Who wrote the prose: the model (validated) or the paper itself (extractive)."""

    LLM = "llm"
    EXTRACTIVE = "extractive"


@dataclass(frozen=True, slots=True)
class Review:
    """One paper version's review. Prose fields may be empty in an extractive review when the
    paper has no matching section (frontends then leave the heading out)."""

    paper_id: str
    version: int
    title: str  # the paper's own title, always
    authors: tuple[str, ...]
    affiliations: tuple[str, ...]  # as stated in the paper; empty: "not stated"
    links: tuple[Link, ...]  # from metadata and the paper's text, never from the model
    source: TextSource  # what the text came from: `Source: HTML|PDF|abstract`
    origin: ReviewOrigin
    language: str  # the language the prose is written in
    keywords: tuple[str, ...]
    # The summary in four parts.
    background: str
    prior_work: str  # earlier approaches and their problem
    method: str
    results: str  # tasks, results, and whether they support the goals
    method_steps: tuple[str, ...]
    # The conclusion.
    significance: str
    strengths: str  # in innovation, performance and workload
    weaknesses: str
    translated_title: str | None = None  # None when the language is English (or extractive)
    model: str | None = None  # None for extractive reviews
    notes: tuple[Note, ...] = ()  # what was not read (a page cap, an unavailable HTML...)
    # Why an extractive review is not the model's (None for model reviews), as for summaries.
    fallback_reason: str | None = field(default=None, compare=False)

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}"

    @property
    def code_links(self) -> tuple[Link, ...]:
        """The code and project links found in the paper or its metadata."""
        return tuple(x for x in self.links if x.kind in (LinkKind.CODE, LinkKind.PROJECT))


@dataclass(frozen=True, slots=True)
class ReviewKey:
    """What a cached review depends on: change any part and it is computed again."""

    paper_id: str
    version: int
    language: str
    prompt_version: str
    model: str


@dataclass(frozen=True, slots=True)
class CachedReview:
    """A stored review and when it was made (fallbacks under a model's key are retried)."""

    review: Review
    created_at: datetime


_TUPLE_FIELDS = {"authors", "affiliations", "keywords", "method_steps"}


def to_payload(review: Review) -> dict[str, Any]:
    """JSON-ready data for the cache (`from_payload` reads it back)."""
    data: dict[str, Any] = {}
    for f in fields(review):
        value = getattr(review, f.name)
        if f.name == "links":
            value = [{"kind": x.kind.value, "url": x.url, "label": x.label} for x in value]
        elif f.name == "notes":
            value = [
                {
                    "kind": n.kind.value,
                    "size_bytes": n.size_bytes,
                    "limit_bytes": n.limit_bytes,
                    "pages_read": n.pages_read,
                    "pages_total": n.pages_total,
                    "detail": n.detail,
                }
                for n in value
            ]
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        data[f.name] = value
    return data


def from_payload(data: dict[str, Any]) -> Review:
    """The review `to_payload` wrote. Raises KeyError/ValueError on a malformed payload."""
    values: dict[str, Any] = {}
    for f in fields(Review):
        if f.name not in data:
            continue  # a field added later: its default
        value = data[f.name]
        if f.name == "links":
            value = tuple(Link(LinkKind(x["kind"]), x["url"], x["label"]) for x in value)
        elif f.name == "notes":
            value = tuple(
                Note(
                    NoteKind(n["kind"]),
                    size_bytes=n.get("size_bytes"),
                    limit_bytes=n.get("limit_bytes"),
                    pages_read=n.get("pages_read"),
                    pages_total=n.get("pages_total"),
                    detail=n.get("detail", ""),
                )
                for n in value
            )
        elif f.name == "source":
            value = TextSource(value)
        elif f.name == "origin":
            value = ReviewOrigin(value)
        elif f.name in _TUPLE_FIELDS:
            value = tuple(value)
        values[f.name] = value
    return Review(**values)
