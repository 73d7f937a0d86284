"""The full text of one paper version, as plain value objects.

`FullText` is what the rest of Paperboy reads instead of the bare abstract: sections classified
by kind, the affiliations and links stated in the paper, its figures, the source it came from
(`TextSource`) and `Note`s saying what was *not* read (a page cap, a PDF over the size limit...),
so a review can be honest about its depth. Everything is plain text; nothing here does I/O.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.models import Link

__all__ = [
    "CANONICAL_SITE",
    "FigureRef",
    "FullText",
    "Note",
    "NoteKind",
    "Section",
    "SectionKind",
    "TextSource",
    "section_kind",
]

#: Links shown to people always point here, whatever `ARXIV_SITE_URL` fetches from.
CANONICAL_SITE = "https://arxiv.org"


class TextSource(enum.StrEnum):
    """Where the text came from; a review shows it as ``Source: HTML|PDF|abstract``."""

    HTML = "HTML"
    PDF = "PDF"
    ABSTRACT = "abstract"


class SectionKind(enum.StrEnum):
    """What a section is for, read from its title (see `section_kind`)."""

    ABSTRACT = "abstract"
    INTRO = "intro"
    RELATED = "related"
    METHOD = "method"
    EXPERIMENTS = "experiments"
    CONCLUSION = "conclusion"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Section:
    """One top-level section: its title without numbering, its kind and its plain text.

    Paragraphs are separated by blank lines; subsection titles are lines of their own.
    """

    title: str
    kind: SectionKind
    text: str


@dataclass(frozen=True, slots=True)
class FigureRef:
    """A figure of the paper: `index` from 1 in document order, the image's fetch URL (under
    ``ARXIV_SITE_URL``) and its caption (with its "Figure N:" tag)."""

    index: int
    image_url: str
    caption: str


class NoteKind(enum.StrEnum):
    NO_HTML = "no_html"  # arXiv has no HTML rendering of this version (404, old id)
    HTML_FAILED = "html_failed"  # the page says the conversion failed, or has no article
    HTML_TOO_LARGE = "html_too_large"
    PAGES_CAPPED = "pages_capped"  # only the first `pages_read` of `pages_total` pages
    PDF_TOO_LARGE = "pdf_too_large"  # refused: over the byte limit (see bot.fulltext.fetch)
    PDF_NO_TEXT = "pdf_no_text"  # scanned or image-only: no text layer
    PDF_UNREADABLE = "pdf_unreadable"  # PDFium could not open it (damaged, encrypted)
    UNAVAILABLE = "unavailable"  # arXiv did not answer (after retries); `detail` says what


@dataclass(frozen=True, slots=True)
class Note:
    """Something a review must say about the text it is based on.

    Structured so frontends can localize it; `str()` gives the English sentence.
    `size_bytes`/`limit_bytes` are set for the size notes, `pages_read`/`pages_total` for
    `PAGES_CAPPED`, `detail` (English, for logs and the CLI) for `UNAVAILABLE`.
    """

    kind: NoteKind
    size_bytes: int | None = None
    limit_bytes: int | None = None
    pages_read: int | None = None
    pages_total: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        size = _megabytes(self.size_bytes)
        limit = _megabytes(self.limit_bytes)
        match self.kind:
            case NoteKind.NO_HTML:
                return "arXiv has no HTML rendering of this version"
            case NoteKind.HTML_FAILED:
                return "arXiv's HTML conversion of this paper failed"
            case NoteKind.HTML_TOO_LARGE:
                return f"the HTML page is over the {limit} limit, so it was not read"
            case NoteKind.PAGES_CAPPED:
                return f"read the first {self.pages_read} of {self.pages_total} pages"
            case NoteKind.PDF_TOO_LARGE:
                what = f"the PDF is {size}," if size else "the PDF is"
                return f"{what} over the {limit} limit, so it was not read"
            case NoteKind.PDF_NO_TEXT:
                return "the PDF has no text layer (scanned or image-only pages)"
            case NoteKind.PDF_UNREADABLE:
                return "the PDF could not be read"
            case NoteKind.UNAVAILABLE:
                return f"arXiv did not deliver the full text ({self.detail})"
        return self.kind.value  # pragma: no cover - every kind is handled above


def _megabytes(value: int | None) -> str:
    if value is None:
        return ""
    mb = value / 1_000_000
    return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"


@dataclass(frozen=True, slots=True)
class FullText:
    """The text of one paper version that reached Paperboy, and how.

    `links` are the code/project/data/... links stated in the paper's own text (classified by
    `bot.links`), never arXiv's page chrome or the bibliography; `affiliations` are as the paper
    states them, deduplicated, empty when none could be found (a review then says "not
    stated"). `pages_read`/`pages_total` are set for PDFs only.
    """

    paper_id: str
    version: int
    source: TextSource
    sections: tuple[Section, ...]
    affiliations: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    figures: tuple[FigureRef, ...] = ()
    notes: tuple[Note, ...] = ()
    pages_read: int | None = None
    pages_total: int | None = None

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}v{self.version}"

    @property
    def source_url(self) -> str:
        """The canonical arXiv URL of what was read (shown to people; never the mirror)."""
        path = {TextSource.HTML: "html", TextSource.PDF: "pdf"}.get(self.source)
        if path is None:
            return f"{CANONICAL_SITE}/abs/{self.paper_id}"
        return f"{CANONICAL_SITE}/{path}/{self.versioned_id}"

    @property
    def abstract(self) -> str | None:
        return next((s.text for s in self.sections if s.kind is SectionKind.ABSTRACT), None)

    def sections_of(self, kind: SectionKind) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind is kind)


# Checked in this order, on the title without its numbering: "Results and Discussion" is about
# experiments, "Discussion and Conclusion" concludes, "Related Work" is not the introduction.
_KIND_RULES: tuple[tuple[SectionKind, re.Pattern[str]], ...] = (
    (SectionKind.ABSTRACT, re.compile(r"^abstract\b")),
    (SectionKind.CONCLUSION, re.compile(r"\bconclu|\bconcluding\b|\bsummary\b")),
    (SectionKind.RELATED, re.compile(r"\brelated (?:work|literature|research)|\bprior work")),
    (SectionKind.INTRO, re.compile(r"\bintroduction\b|\bmotivation\b")),
    (
        SectionKind.EXPERIMENTS,
        re.compile(
            r"\bexperiment|\bresults?\b|\bevaluation|\bempirical|\bbenchmark|\bablation"
            r"|\bnumerical (?:study|studies|simulation)"
        ),
    ),
    (
        SectionKind.METHOD,
        re.compile(
            r"\bmethod|\bapproach\b|\bframework\b|\barchitecture\b|\balgorithm|\bproposed\b"
            r"|\bmodel\b|\bour (?:model|system|method)|\bformulation\b"
        ),
    ),
    (SectionKind.CONCLUSION, re.compile(r"\bdiscussion\b|\blimitations?\b|\bfuture work")),
)
_NUMBERING_RE = re.compile(
    r"^\s*(?:(?i:section|appendix)\s+)?"
    r"(?:(?:\d+(?:\.\d+)*|[IVXLC]+)[.:)]?|[A-Z](?:\.\d+)+[.:)]?|[A-Z][.:)])\s+",
)


def strip_numbering(title: str) -> str:
    """``"3.1 Method"`` → ``"Method"``; ``"IV. RESULTS"`` → ``"RESULTS"``."""
    title = " ".join(title.split())
    stripped = _NUMBERING_RE.sub("", title, count=1)
    return stripped or title


def section_kind(title: str) -> SectionKind:
    """Classify a section by its title's English keywords (numbering ignored)."""
    lowered = strip_numbering(title).lower()
    for kind, pattern in _KIND_RULES:
        if pattern.search(lowered):
            return kind
    return SectionKind.OTHER
