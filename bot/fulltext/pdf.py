"""Read a paper's PDF (a file on disk) into a `FullText`, with pypdfium2.

Why pypdfium2: it binds PDFium, Chrome's PDF engine, as prebuilt wheels with no system
dependency; its text extraction is fast (a 30-page paper in a fraction of a second, see
``bench/bench_fulltext.py``) and copes with the fonts and encodings real papers use; and the same
library renders pages to images, which the figures need. PDFium opens a file lazily (pages are
loaded when asked for), so only the pages read are in memory. PDFium is not thread-safe: every
use goes through one process-wide lock.

What is read: at most `max_pages` pages (60 by default; the result then carries a
`PAGES_CAPPED` note, "read the first 60 of 112 pages"). The text is split into sections by
heading heuristics, since a PDF has no structure to ask:

* numbered headings alone on a line, ``1 Introduction``, ``3. Method``, ``IV. RESULTS``, short
  (at most 12 words), not ending like a sentence, and *in sequence* (the next top-level number
  only: a wrapped line that starts with "2 of the…" or an affiliation "1 University of X" does
  not open a section); subsections (``3.1 …``) stay inside their section;
* well-known unnumbered headings alone on a line (``Abstract``, ``INTRODUCTION``,
  ``Conclusions``, ``References``…), in any case;
* ``Abstract``, ``Abstract.``/``Abstract—`` followed by its text on the same line.

Everything from the references (or bibliography) on is dropped; running headers and footers
(lines repeated on most pages) and bare page numbers are removed; words hyphenated across lines
are joined, and so are URLs broken after ``/``. Affiliations are the institution-looking lines of
the first page between the title and the abstract (empty when there are none: the review then
says "not stated"). Links come from the text before the references (`bot.links` rules).

A PDF with (almost) no text, as scanned or image-only PDFs, raises `PdfNoText`; one PDFium
cannot open raises `PdfUnreadable`. The caller then falls back to the abstract with a note.
"""

from __future__ import annotations

import io
import re
import statistics
import threading
from collections import Counter
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from bot.fulltext.model import (
    FullText,
    Note,
    NoteKind,
    Section,
    SectionKind,
    TextSource,
    section_kind,
    strip_numbering,
)
from bot.fulltext.text import INSTITUTION_RE, clean_affiliation, links_in, unique
from bot.summaries.sentences import clean_text

__all__ = [
    "MAX_PAGES",
    "PdfNoText",
    "PdfUnreadable",
    "extract_pdf",
    "render_figure_page",
    "split_sections",
]

MAX_PAGES = 60
_MIN_TEXT_CHARS = 40  # per page read, on average: less is a scan with stray text at most
_PDFIUM_LOCK = threading.Lock()

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10, "XI": 11, "XII": 12}  # fmt: skip
_NUMBERED_RE = re.compile(
    r"^(?P<num>\d{1,2}|[IVX]{1,4})(?P<dot>\.?)\s+(?P<title>[A-Z][^\n]{1,80})$"
)
_KNOWN_HEADINGS = re.compile(
    r"^(?:abstract|introduction|related work|background|preliminaries|methods?|methodology"
    r"|approach|experiments?|experimental results|results|evaluation|discussion"
    r"|conclusions?|conclusion and future work|limitations|acknowledge?ments?"
    r"|references|bibliography)$",
    re.I,
)
_ABSTRACT_INLINE_RE = re.compile(r"^abstract\s*[.:—–-]\s*(?P<rest>\S.*)$", re.I)
_END_RE = re.compile(r"^(?:\d{1,2}\.?\s+)?(?:references|bibliography)$", re.I)
# A URL cut at the end of a line (after "/", "-" or "_"; not ".", which ends sentences too).
_URL_TAIL_RE = re.compile(r"(?:https?://|www\.)\S*[/_-]$", re.I)  # matched on the last word
_PAGE_NUMBER_RE = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)


class PdfNoText(Exception):
    """The PDF has no text layer worth reading (scanned or image-only pages)."""


class PdfUnreadable(Exception):
    """PDFium could not open the file (damaged, truncated, encrypted)."""


def _page_texts(path: Path, max_pages: int) -> tuple[list[str], int]:
    """The text of the first `max_pages` pages, and the page count. One PDF, one lock."""
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise PdfUnreadable(str(exc)) from None
        try:
            total = len(pdf)
            texts = []
            for index in range(min(total, max_pages)):
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        texts.append(textpage.get_text_range())
                    finally:
                        textpage.close()
                finally:
                    page.close()
        finally:
            pdf.close()
    return texts, total


def _page_lines(texts: list[str]) -> list[list[str]]:
    """Lines per page, without running headers/footers and page numbers."""
    pages = [[line.strip() for line in re.split(r"\r\n|\r|\n", t)] for t in texts]
    pages = [[line for line in page if line] for page in pages]
    # A line (digits ignored) found on most pages is a running header or footer.
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({re.sub(r"\d+", "#", line) for line in page[:3] + page[-3:]})
    repeated = {k for k, n in counts.items() if len(pages) >= 3 and n >= max(3, len(pages) // 2)}
    return [
        [
            line
            for line in page
            if not _PAGE_NUMBER_RE.match(line) and re.sub(r"\d+", "#", line) not in repeated
        ]
        for page in pages
    ]


def _heading(line: str, expected: int) -> tuple[str, int | None] | None:
    """(title, number) if `line` is a section heading; `expected` is the next top-level number."""
    if _KNOWN_HEADINGS.match(line):
        return line, None
    m = _NUMBERED_RE.match(line)
    if m is None:
        return None
    raw, title = m.group("num"), m.group("title").strip()
    number = int(raw) if raw.isdigit() else _ROMAN.get(raw)
    if number is None or number != expected:
        return None
    if len(title.split()) > 12 or title[-1] in ".,;:" or INSTITUTION_RE.search(title):
        return None
    if raw.isdigit() is False and not m.group("dot"):
        return None  # "I Introduction" is too easily a sentence; arXiv's styles write "I."
    return title, number


def _append(current: str, line: str) -> str:
    if not current:
        return line
    last_word = current[current.rfind(" ") + 1 :]  # only the end matters (and stays O(1))
    if _URL_TAIL_RE.match(last_word):
        return current + line
    if (
        len(last_word) > 2
        and last_word[-1] == "-"
        and last_word[-2].islower()
        and line[:1].islower()
    ):
        return current[:-1] + line  # "repre-" + "sentation"
    return current + " " + line


def _join(lines: list[str]) -> str:
    """Lines into paragraphs: hyphenation and broken URLs repaired, short last lines end one."""
    if not lines:
        return ""
    typical = statistics.median(len(line) for line in lines)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        current = _append(current, line)
        if line[-1:] in ".!?:" and len(line) < 0.75 * typical:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(p for p in (clean_text(p) for p in paragraphs) if p)


def _raw(lines: list[str]) -> str:
    """Lines joined for link finding: repaired like `_join`, but no LaTeX clean-up."""
    text = ""
    for line in lines:
        text = _append(text, line)
    return text


def split_sections(
    lines: list[str],
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Front matter lines, and (heading, lines) per section, up to the references."""
    front: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    expected = 1
    # Numbered headings are only looked for after the abstract, when there is one: before it
    # come the title and the author block, whose "1 University of X" lines look like headings.
    has_abstract = any(
        line.lower() == "abstract" or _ABSTRACT_INLINE_RE.match(line) for line in lines[:80]
    )
    seen_abstract = not has_abstract
    for line in lines:
        if _END_RE.match(line) and sections:
            break
        inline = _ABSTRACT_INLINE_RE.match(line) if not sections else None
        if inline is not None:
            sections.append(("Abstract", [inline.group("rest")]))
            seen_abstract = True
            continue
        found = _heading(line, expected) if seen_abstract or line.lower() == "abstract" else None
        if found is not None:
            title, number = found
            if title.lower() == "abstract":
                seen_abstract = True
            if number is not None:
                expected = number + 1
            sections.append((title, []))
        elif sections:
            sections[-1][1].append(line)
        else:
            front.append(line)
    return front, sections


def extract_pdf(
    path: Path | str, *, paper_id: str, version: int, max_pages: int = MAX_PAGES
) -> FullText:
    """Read the PDF at `path` (see the module docstring); raise `PdfNoText`/`PdfUnreadable`."""
    texts, total = _page_texts(Path(path), max_pages)
    if sum(len(t.strip()) for t in texts) < _MIN_TEXT_CHARS * max(1, len(texts)):
        raise PdfNoText(f"{sum(len(t.strip()) for t in texts)} characters in {len(texts)} pages")
    pages = _page_lines(texts)
    first_page_end = len(pages[0]) if pages else 0
    lines = [line for page in pages for line in page]
    front, parts = split_sections(lines)

    sections: list[Section] = []
    for heading, body in parts:
        text = _join(body)
        if not text or _END_RE.match(heading):
            continue
        title = strip_numbering(heading)
        title = title.title() if title.isupper() else title
        kind = section_kind(title)
        sections.append(Section(title, kind, text))
    if not any(s.kind is not SectionKind.ABSTRACT for s in sections):
        body_text = _join(front if not parts else [line for _, b in parts for line in b])
        sections = [Section("Body", SectionKind.OTHER, body_text)] if body_text else sections

    affiliations = unique(
        clean_affiliation(line)
        for line in front[1:first_page_end]
        if INSTITUTION_RE.search(line) and len(line) < 200
    )
    notes: tuple[Note, ...] = ()
    if total > len(texts):
        notes = (Note(NoteKind.PAGES_CAPPED, pages_read=len(texts), pages_total=total),)
    link_text = [_raw(front), *(_raw(body) for _, body in parts)]
    return FullText(
        paper_id=paper_id,
        version=version,
        source=TextSource.PDF,
        sections=tuple(sections),
        affiliations=affiliations,
        links=links_in(link_text),
        notes=notes,
        pages_read=len(texts),
        pages_total=total,
    )


_MIN_FIGURE_AREA = 0.02  # of the page: smaller images are logos and icons, not figures


def render_figure_page(
    path: Path | str, *, max_pages: int = MAX_PAGES, dpi: int = 150
) -> tuple[int, bytes]:
    """(page number from 1, PNG) of the first page (of the first `max_pages`) holding an image
    object covering at least 2% of the page, else of the first page, rendered at `dpi`.

    Vector figures are not image objects, so a paper drawn only in vectors shows its first
    page. Text is not needed: a scanned PDF renders like any other. Raises `PdfUnreadable`.
    """
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise PdfUnreadable(str(exc)) from None
        try:
            if len(pdf) == 0:
                raise PdfUnreadable("the PDF has no pages")
            chosen = 0
            for index in range(min(len(pdf), max_pages)):
                page = pdf[index]
                try:
                    if _has_figure(page):
                        chosen = index
                        break
                finally:
                    page.close()
            page = pdf[chosen]
            try:
                image = page.render(scale=dpi / 72).to_pil()
            finally:
                page.close()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return chosen + 1, out.getvalue()


def _has_figure(page: pdfium.PdfPage) -> bool:
    width, height = page.get_size()
    area = max(width * height, 1.0)
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) >= _MIN_FIGURE_AREA * area:
            return True
    return False
