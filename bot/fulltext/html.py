"""Read arXiv's HTML rendering (LaTeXML output) into a `FullText`.

Only the article is read: ``article.ltx_document``. arXiv wraps it in page chrome (a table of
contents, "Back to arXiv", "Report issue" buttons and feedback links, the license and the
watermark, LaTeXML's logo) that is not the paper, so everything outside the article, and those
pieces wherever they sit, is ignored. Inside the article:

* affiliations from the author block: ``.ltx_role_affiliation`` (its ``ltx_affiliation_*`` parts
  joined with commas, the "Affiliation:" label dropped), LLNCS ``.ltx_role_institutetext``, and
  institution-looking lines of a ``.ltx_personname`` written as free text;
* the abstract from ``.ltx_abstract``; top-level ``section.ltx_section`` (and appendices, always
  of kind OTHER) with their ``h2.ltx_title_section`` title, the numbering tag removed and the
  kind read from it (`bot.fulltext.model.section_kind`); subsections stay inside their section,
  their titles on lines of their own; the bibliography is not a section;
* figures (``figure.ltx_figure`` with an ``img.ltx_graphics``), the image URL resolved against
  the page's ``<base href>`` or the page URL as a directory (arXiv's ``src`` is relative, such as
  ``x1.png``), and the caption; figures and tables are not part of the section text;
* math as its ``alttext`` (TeX), turned into readable text like abstracts are
  (`bot.summaries.sentences.clean_text`); footnotes are left out of the running text but their
  links count; LaTeXML's red error spans (``ltx_ERROR``: an unsupported macro's name) are
  dropped, since arXiv shows them inside otherwise good pages;
* links from the article's text, footnotes and captions (the href of an anchor counts, so
  ``Code: <a href=…>here</a>`` is found), never from the bibliography or the chrome.

A page whose conversion failed ("Conversion to HTML had a Fatal error", or no article with any
text) raises `HtmlUnusable`: the caller then reads the PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from bot.fulltext.model import (
    FigureRef,
    FullText,
    Section,
    SectionKind,
    TextSource,
    section_kind,
    strip_numbering,
)
from bot.fulltext.text import INSTITUTION_RE, clean_affiliation, collapse, links_in, unique
from bot.summaries.sentences import clean_text

__all__ = ["HtmlUnusable", "parse_html"]

_FATAL_MARKERS = (b"conversion to html had a fatal error", b"ar5iv-severity-fatal")
_MIN_ARTICLE_CHARS = 200  # less than this is a stub, not a paper
# Never text of the paper, wherever they appear.
_SKIP_TAGS = frozenset(
    {"script", "style", "nav", "header", "footer", "button", "noscript", "svg", "annotation",
     "annotation-xml", "form", "input", "select", "textarea", "iframe", "head", "title"}
)  # fmt: skip
_SKIP_CLASSES = frozenset(
    {"ltx_ERROR", "ltx_contact_name", "ltx_TOC", "ltx_page_navbar", "ltx_page_header",
     "ltx_page_footer", "ltx_page_logo", "package-alerts", "sr-only", "ltx_bibliography",
     "ltx_authors", "ltx_title_document", "ltx_dates", "ltx_keywords", "ltx_classification"}
)  # fmt: skip
# Skipped as running text, but the paper's own words when looking for links.
_LINK_CLASSES = frozenset({"ltx_title_document"})
_SKIP_IDS = frozenset({"license-tr", "watermark-tr", "header", "footer", "openForm"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr",
     "blockquote", "pre", "figure", "figcaption", "dl", "dt", "dd"}
)  # fmt: skip
_BREAK = "\x00"  # paragraph break marker while walking


_TEX_SPACING_RE = re.compile(r"\\(?:[,;:! ]|q?quad\b|left\b|right\b|big+[lr]?\b|Big+[lr]?\b)")
_TEX_ACCENT_RE = re.compile(r"\\(hat|bar|tilde|vec|dot)\{(\w)\}")
_TEX_ACCENTS = {
    "hat": "\u0302",
    "bar": "\u0304",
    "tilde": "\u0303",
    "vec": "\u20d7",
    "dot": "\u0307",
}


def _tidy_tex(tex: str) -> str:
    """What `clean_text` leaves of TeX, made readable: spacing, norms, accents, ``n\\log n``."""
    tex = _TEX_SPACING_RE.sub(" ", tex).replace("\\|", "‖").replace("\\lVert", "‖")
    tex = tex.replace("\\rVert", "‖")
    tex = _TEX_ACCENT_RE.sub(lambda m: m.group(2) + _TEX_ACCENTS[m.group(1)], tex)
    tex = re.sub(r"(?<=[\w)])\\(?=[A-Za-z])", r" \\", tex)  # "n\log" → "n \log"
    return collapse(tex)


class HtmlUnusable(Exception):
    """The page is not a usable rendering of the paper (failed conversion, no article)."""


def _plain(el: etree._Element) -> str:
    return "".join(str(t) for t in el.itertext())


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _has_class(el: etree._Element, name: str) -> bool:
    return name in _classes(el)


def _skipped(el: etree._Element, *, notes: bool, hrefs: bool = False) -> bool:
    if not isinstance(el.tag, str) or el.tag in _SKIP_TAGS:
        return True
    classes = _classes(el)
    if el.get("id") in _SKIP_IDS or classes & _SKIP_CLASSES - (_LINK_CLASSES if hrefs else set()):
        return True
    if not notes and "ltx_note" in classes:
        return True
    # Figures and tables are read separately (captions), not as running text; when looking for
    # links, their captions count.
    return (el.tag == "figure" and not hrefs) or "ltx_tag_section" in classes


def _walk(el: etree._Element, *, notes: bool, hrefs: bool) -> Iterator[str]:
    """The text of `el` in document order, `_BREAK` between blocks, math as ``$alttext$``."""
    tag = el.tag
    if tag == "math":
        alt = el.get("alttext")
        if alt is None:
            alt = _plain(el)
        yield f"${_tidy_tex(alt)}$" if alt.strip() else ""
        return
    if tag == "br":
        yield _BREAK
        return
    if tag == "img":
        return
    block = tag in _BLOCK_TAGS
    if block:
        yield _BREAK
    if el.text:
        yield el.text
    for child in el:
        if not _skipped(child, notes=notes, hrefs=hrefs):
            yield from _walk(child, notes=notes, hrefs=hrefs)
        if child.tail:
            yield child.tail
    if hrefs and tag == "a":
        href = el.get("href") or ""
        if re.match(r"https?://", href) and collapse(_plain(el)) != href:
            yield f" {href} "
    if block:
        yield _BREAK


def _paragraphs(el: etree._Element, *, notes: bool = False, hrefs: bool = False) -> list[str]:
    raw = "".join(_walk(el, notes=notes, hrefs=hrefs))
    paragraphs = (clean_text(part) for part in raw.split(_BREAK))
    return [p for p in paragraphs if p and p != "Report issue for preceding element"]


def _title_of(heading: etree._Element | None) -> str:
    if heading is None:
        return ""
    parts: list[str] = []
    if heading.text:
        parts.append(heading.text)
    for child in heading:
        if isinstance(child.tag, str) and not _has_class(child, "ltx_tag"):
            parts.extend(_walk(child, notes=False, hrefs=False))
        if child.tail:
            parts.append(child.tail)
    return strip_numbering(clean_text("".join(parts).replace(_BREAK, " ")))


def _section_text(section: etree._Element) -> str:
    """Paragraphs of a section, subsection titles on their own, the section's title left out."""
    chunks: list[str] = []
    for child in section:
        if not isinstance(child.tag, str) or _has_class(child, "ltx_title_section"):
            continue
        if child.tag == "section":  # a subsection: its title (an h3), then its text
            chunks.extend(_section_text(child).split("\n\n"))
        elif child.tag in {"h3", "h4", "h5", "h6"} or _has_class(child, "ltx_title"):
            title = _title_of(child)
            if title:
                chunks.append(title)
        elif not _skipped(child, notes=False):
            chunks.extend(_paragraphs(child))
    return "\n\n".join(c for c in chunks if c)


def _first_title(section: etree._Element) -> etree._Element | None:
    for child in section:
        if isinstance(child.tag, str) and _has_class(child, "ltx_title"):
            return child
    return None


def _is_top_section(el: etree._Element) -> bool:
    parent = el.getparent()
    while parent is not None:
        if parent.tag == "section":
            return False
        parent = parent.getparent()
    return True


def _sections(article: etree._Element) -> list[Section]:
    sections = []
    for el in article.iter("section"):
        classes = _classes(el)
        if not classes & {"ltx_section", "ltx_appendix", "ltx_chapter"} or not _is_top_section(el):
            continue
        title = _title_of(_first_title(el))
        text = _section_text(el)
        if not text:
            continue
        kind = SectionKind.OTHER if "ltx_appendix" in classes else section_kind(title)
        sections.append(Section(title or "Untitled section", kind, text))
    return sections


def _affiliations(article: etree._Element) -> tuple[str, ...]:
    found: list[str] = []
    for el in article.iter():
        if not isinstance(el.tag, str):
            continue
        classes = _classes(el)
        if classes & {"ltx_role_affiliation", "ltx_role_institutetext"}:
            parts = [
                collapse(_plain(p))
                for p in el.iter()
                if isinstance(p.tag, str)
                and any(c.startswith("ltx_affiliation_") for c in _classes(p))
            ]
            if not parts:  # free text, after an optional "Affiliation:" label
                parts = ["".join(_walk(el, notes=True, hrefs=False)).replace(_BREAK, " ")]
            found.append(clean_affiliation(", ".join(p for p in parts if p)))
        elif "ltx_personname" in classes:
            # Free-text author blocks: "Ann Lee<br>University of X<br>ann@x.org".
            lines = "".join(_walk(el, notes=False, hrefs=False)).split(_BREAK)
            found.extend(
                clean_affiliation(line) for line in lines[1:] if INSTITUTION_RE.search(line)
            )
    return unique(a for a in found if a)


def _figures(article: etree._Element, base: str) -> list[FigureRef]:
    figures: list[FigureRef] = []
    for fig in article.iter("figure"):
        if not _has_class(fig, "ltx_figure"):
            continue
        parent = fig.getparent()
        nested = False
        while parent is not None:
            if parent.tag == "figure":
                nested = True  # a panel of a larger figure: the outer one is the figure
                break
            parent = parent.getparent()
        if nested:
            continue
        image = next(
            (i for i in fig.iter("img") if _has_class(i, "ltx_graphics") and i.get("src")), None
        )
        if image is None:
            continue
        captions = list(fig.iter("figcaption"))
        caption = " ".join(_paragraphs(captions[-1], notes=False)) if captions else ""
        url = urljoin(base, image.get("src", ""))
        figures.append(FigureRef(len(figures) + 1, url, caption))
    return figures


def _base_url(root: etree._Element, page_url: str) -> str:
    # Relative sources are relative to the page *as a directory* (/html/<id>v<n>/x1.png),
    # whether or not the URL we asked for ends with a slash; a <base href> wins.
    page = page_url if page_url.endswith("/") else page_url + "/"
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return urljoin(page, href)
    return page


def parse_html(content: bytes, *, paper_id: str, version: int, page_url: str) -> FullText:
    """Parse a LaTeXML page fetched from `page_url`; raise `HtmlUnusable` if it is no paper."""
    lowered = content.lower()
    if any(marker in lowered for marker in _FATAL_MARKERS):
        raise HtmlUnusable("arXiv's page says the conversion failed")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(content, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise HtmlUnusable(f"not an HTML page ({exc})") from None
    del lowered
    article = next((a for a in root.iter("article") if _has_class(a, "ltx_document")), None)
    if article is None:
        raise HtmlUnusable("no LaTeXML article in the page")

    sections: list[Section] = []
    abstract = next((d for d in article.iter("div") if _has_class(d, "ltx_abstract")), None)
    if abstract is not None:
        paragraphs = [
            p
            for child in abstract
            if isinstance(child.tag, str) and not _has_class(child, "ltx_title_abstract")
            for p in _paragraphs(child)
        ]
        if paragraphs:
            sections.append(Section("Abstract", SectionKind.ABSTRACT, "\n\n".join(paragraphs)))
    sections.extend(_sections(article))
    if not any(s.kind is not SectionKind.ABSTRACT for s in sections):
        # A short note without sections: its paragraphs are the body.
        body = [
            p
            for child in article
            if isinstance(child.tag, str)
            and not _classes(child) & {"ltx_abstract", "ltx_title"}
            and not _skipped(child, notes=False)
            for p in _paragraphs(child)
        ]
        if body:
            sections.append(Section("Body", SectionKind.OTHER, "\n\n".join(body)))
    if sum(len(s.text) for s in sections) < _MIN_ARTICLE_CHARS:
        raise HtmlUnusable("the page has no article text")

    # Footnotes (the title's "Project page: …" too) and captions count; the bibliography and
    # the chrome do not.
    link_text = _paragraphs(article, notes=True, hrefs=True)
    return FullText(
        paper_id=paper_id,
        version=version,
        source=TextSource.HTML,
        sections=tuple(sections),
        affiliations=_affiliations(article),
        links=links_in(link_text),
        figures=tuple(_figures(article, _base_url(root, page_url))),
    )
