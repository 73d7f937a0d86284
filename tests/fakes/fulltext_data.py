"""Builders for arXiv's full-text formats: LaTeXML HTML pages, figure PNGs and small real PDFs.

The HTML follows what arXiv serves for ``/html/<id>v<n>`` (LaTeXML output inside arXiv's page
chrome): a header and table of contents with navigation and "Report issue" links, the license
and watermark, then ``article.ltx_document`` with the title (and a footnote), the author block
with affiliations, the abstract, numbered ``section.ltx_section``s with subsections, MathML with
``alttext``, footnotes, figures with relative ``img.ltx_graphics`` and captions, a table, the
bibliography; and a footer with LaTeXML's logo and feedback links.

PDFs are made with fpdf2 (test-only dependency): numbered headings, several pages, an image,
or image-only pages without any text layer.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from html import escape
from typing import Any

from PIL import Image

__all__ = [
    "CHROME_LINKS",
    "FAILED_PAGE",
    "Author",
    "latexml_page",
    "make_pdf",
    "png_bytes",
    "prose",
]

Author = tuple[str, str]  # (name, affiliation)

# Links arXiv puts around every paper: none of them is the paper's.
CHROME_LINKS = (
    "https://arxiv.org/abs/{vid}",
    "https://info.arxiv.org/about/accessible_HTML.html",
    "https://github.com/arXiv/html_feedback/issues/new",
    "https://info.arxiv.org/help/license/index.html#licenses-available",
    "https://creativecommons.org/licenses/by/4.0/",
    "https://math.nist.gov/~BMiller/LaTeXML/",
    "https://www.github.com/brucemiller/LaTeXML",
)

FAILED_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>No content available</title></head><body><div class="ltx_page_main">
<div class="ltx_page_content"><article class="ltx_document">
<span class="ltx_ERROR">Conversion to HTML had a Fatal error and exited abruptly. This document
may be truncated or damaged.</span><p class="ltx_p">Partial text of the first page only.</p>
</article></div></div></body></html>"""

_WORDS = [
    "model", "data", "training", "loss", "image", "video", "frame", "audio", "speech", "face",
    "motion", "network", "layer", "attention", "token", "benchmark", "baseline", "accuracy",
    "latency", "encoder", "decoder", "diffusion", "sample", "quality", "metric", "dataset",
    "synthesis", "temporal", "spatial", "feature", "representation",
]  # fmt: skip


def prose(sentences: int, *, seed: int = 0, start: str = "") -> str:
    """Plausible sentences (with an abbreviation and a decimal number, to trip splitters)."""
    rng = random.Random(seed)
    out = [start] if start else []
    for i in range(sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
        if i % 5 == 2:
            words.insert(3, "e.g.")
            words.insert(6, f"{rng.randint(1, 99)}.{rng.randint(0, 9)}%")
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def _math(tex: str) -> str:
    return (
        f'<math alttext="{escape(tex)}" class="ltx_Math" display="inline">'
        f'<semantics><mrow><mi>x</mi></mrow><annotation encoding="application/x-tex">'
        f"{escape(tex)}</annotation></semantics></math>"
    )


_LOSS = r"\mathcal{L}=\alpha\,\|x-\hat{x}\|_{1}"
_ALPHA = r"\alpha=0.5"
_COST = r"O(n\log n)"


def _para(anchor: str, html: str) -> str:
    return (
        f'<div class="ltx_para" id="{anchor}"><p class="ltx_p">{html}</p></div>'
        '<button class="sr-only button" style="display: none;">'
        "Report issue for preceding element</button>"
    )


_DEFAULT_AUTHORS: tuple[Author, ...] = (
    ("Ann Lee", "University of Somewhere"),
    ("Bo Chen", "Example Research Lab"),
    ("Carla Diaz", "University of Somewhere"),
)


def latexml_page(
    vid: str,
    *,
    title: str = "Talking Heads from a Single Photo",
    authors: Sequence[Author] = _DEFAULT_AUTHORS,
    abstract: str | None = None,
    sections: Sequence[tuple[str, str]] | None = None,
    figures: int = 2,
    base_href: bool = False,
    sentences: int = 6,
) -> str:
    """A LaTeXML page for `vid` (``2409.03605v1``), arXiv's chrome included.

    `sections` are (title, paragraph text) pairs; by default introduction, method (with a
    subsection, math and a footnote with the code link), experiments (figure 2, a table), related
    work and conclusion. Figures are ``x1.png``, ``x2.png``… next to the page.
    """
    abstract = abstract or (
        "We animate a single portrait photo from speech. "
        + prose(3, seed=1)
        + ' Project page: <a class="ltx_ref ltx_url ltx_font_typewriter" '
        'href="https://annlee.github.io/talker">https://annlee.github.io/talker</a>.'
    )
    if sections is None:
        sections = (
            ("Introduction", prose(sentences, seed=2, start="Talking heads matter.")),
            ("Method", prose(sentences, seed=3, start="Our method has two stages.")),
            ("Experiments", prose(sentences, seed=4, start="We evaluate on two datasets.")),
            ("Related Work", prose(sentences, seed=5, start="Prior work uses 3D models.")),
            ("Conclusion", prose(3, seed=6, start="We presented a talker.")),
        )
    author_html = '<span class="ltx_author_before">, </span>'.join(
        f'<span class="ltx_creator ltx_role_author"><span class="ltx_personname">{escape(n)}'
        '</span><span class="ltx_author_notes"><span class="ltx_author_notes_content">'
        '<span class="ltx_contact ltx_role_affiliation"><span class="ltx_contact_name">'
        f"Affiliation: </span>{escape(a)}</span>"
        f'<span class="ltx_contact ltx_role_email"><a href="mailto:{n.split()[0].lower()}'
        f'@example.org">{n.split()[0].lower()}@example.org</a></span></span></span></span>'
        for n, a in authors
    )
    body: list[str] = []
    figure_no = 0
    for number, (sec_title, text) in enumerate(sections, start=1):
        sid = f"S{number}"
        parts = [_para(f"{sid}.p1", escape(text))]
        lowered = sec_title.lower()
        if lowered == "method":
            parts.append(
                _para(
                    f"{sid}.p2",
                    f"The loss is {_math(_LOSS)} with {_math(_ALPHA)}, computed in "
                    f"{_math(_COST)} time. "
                    "Code is available"
                    '<span class="ltx_note ltx_role_footnote" id="footnote1">'
                    '<sup class="ltx_note_mark">1</sup><span class="ltx_note_outer">'
                    '<span class="ltx_note_content"><sup class="ltx_note_mark">1</sup>'
                    '<a class="ltx_ref ltx_url ltx_font_typewriter" '
                    'href="https://github.com/annlee/talker">'
                    "https://github.com/annlee/talker</a></span></span></span>"
                    ' as described in <cite class="ltx_cite ltx_citemacro_cite">[<a '
                    'class="ltx_ref" href="#bib.bib1">1</a>]</cite>.'
                    '<span class="ltx_ERROR undefined">\\todo</span>',
                )
            )
            parts.append(
                f'<section class="ltx_subsection" id="{sid}.SS1"><h3 class="ltx_title '
                f'ltx_title_subsection"><span class="ltx_tag ltx_tag_subsection">{number}.1 '
                "</span>Audio encoder</h3>"
                + _para(f"{sid}.SS1.p1", escape(prose(3, seed=7, start="Audio is encoded.")))
                + "</section>"
            )
        if figure_no < figures and lowered in {"method", "experiments"}:
            figure_no += 1
            parts.append(
                f'<figure class="ltx_figure" id="{sid}.F{figure_no}"><img alt="Refer to '
                f'caption" class="ltx_graphics ltx_centering ltx_img_landscape" height="300" '
                f'id="{sid}.F{figure_no}.g1" src="x{figure_no}.png" width="598">'
                '<figcaption class="ltx_caption ltx_centering"><span class="ltx_tag '
                f'ltx_tag_figure">Figure {figure_no}: </span>'
                + ("Overview of the pipeline." if figure_no == 1 else "Qualitative results.")
                + "</figcaption></figure>"
            )
        if lowered == "experiments":
            parts.append(
                f'<figure class="ltx_table" id="{sid}.T1"><figcaption class="ltx_caption">'
                '<span class="ltx_tag ltx_tag_table">Table 1: </span>Lip-sync scores.'
                '</figcaption><table class="ltx_tabular"><tr class="ltx_tr"><td class="ltx_td">'
                'Ours</td><td class="ltx_td">7.9</td></tr></table></figure>'
            )
        body.append(
            f'<section class="ltx_section" id="{sid}"><h2 class="ltx_title '
            f'ltx_title_section"><span class="ltx_tag ltx_tag_section">{number} </span>'
            f"{escape(sec_title)}</h2>" + "".join(parts) + "</section>"
        )
    base = f'<base href="/html/{vid}/">' if base_href else ""
    toc = "".join(
        f'<li class="ltx_tocentry"><a class="ltx_ref" href="#S{i}">{i} {escape(t)}</a></li>'
        for i, (t, _) in enumerate(sections, start=1)
    )
    paper_id = vid.rsplit("v", 1)[0]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>{base}
<link rel="stylesheet" href="https://arxiv.org/static/browse/0.3.4/css/ar5iv.min.css">
<script>window.MathJax = {{}}; var report = "https://github.com/arXiv/html_feedback";</script>
</head><body>
<header class="mob_header"><a href="https://arxiv.org/abs/{vid}">Back to arXiv</a>
<a href="https://info.arxiv.org/about/accessible_HTML.html">Why HTML?</a>
<a href="https://github.com/arXiv/html_feedback/issues/new">Report Issue</a></header>
<nav class="ltx_page_navbar"><a href="https://arxiv.org/abs/{vid}">Back to abstract page</a>
<nav class="ltx_TOC"><ol class="ltx_toclist">{toc}</ol></nav></nav>
<div class="ltx_page_main"><div class="ltx_page_content">
<div class="package-alerts ltx_document" role="status">HTML conversions sometimes display errors.
Authors: see <a href="https://info.arxiv.org/help/submit_latex_best_practices.html">best
practices</a>.</div>
<div id="license-tr">License: <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0
</a></div><div id="watermark-tr">arXiv:{vid} [cs.CV] 05 Sep 2024</div>
<article class="ltx_document ltx_authors_1line">
<h1 class="ltx_title ltx_title_document">{escape(title)}<span class="ltx_note
ltx_role_thanks"><sup class="ltx_note_mark">†</sup><span class="ltx_note_outer"><span
class="ltx_note_content">Work done at the lab.</span></span></span></h1>
<div class="ltx_authors">{author_html}</div>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p" id="id1.id1">{abstract}</p></div>
{"".join(body)}
<section class="ltx_bibliography" id="bib"><h2 class="ltx_title ltx_title_bibliography">
References</h2><ul class="ltx_biblist"><li class="ltx_bibitem" id="bib.bib1"><span
class="ltx_bibblock">A. Smith. Baseline talkers. <a href="https://github.com/smith/baseline"
class="ltx_ref ltx_url">https://github.com/smith/baseline</a>, 2020. arXiv:{paper_id}.</span>
</li></ul></section>
</article></div>
<footer class="ltx_page_footer"><div class="ltx_page_logo">Generated by <a
href="https://math.nist.gov/~BMiller/LaTeXML/">LaTeXML</a></div></footer></div>
<footer id="footer" class="ltx_document"><a href="https://github.com/arXiv/html_feedback/issues/new">
Report an issue</a> <a href="https://info.arxiv.org/help/license/index.html#licenses-available">
License</a> <a href="https://www.github.com/brucemiller/LaTeXML">LaTeXML on GitHub</a></footer>
<button class="sr-only button" id="openForm">Report issue for preceding element</button>
</body></html>"""


def png_bytes(width: int = 64, height: int = 48, *, noise: bool = False) -> bytes:
    """A real PNG; with `noise`, one that compresses badly (to make large files)."""
    if noise:
        image = Image.frombytes("RGB", (width, height), random.randbytes(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (40, 120, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _cell(pdf: Any, height: float, text: str, align: str = "L") -> None:
    pdf.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")


def make_pdf(
    *,
    pages: int = 3,
    sections: Sequence[tuple[str, str]] | None = None,
    affiliations: Sequence[str] = ("University of Somewhere", "Example Research Lab"),
    image_only: bool = False,
    with_image: bool = False,
    words_per_page: int = 0,
) -> bytes:
    """A small real PDF: title, authors and affiliations, "Abstract", numbered sections.

    `pages` is a minimum: text flows onto as many pages as it needs, and blank-ish pages with a
    line each pad it to `pages`. `image_only` gives pages that are pictures with no text layer.
    `words_per_page` adds filler prose (for realistic density in benchmarks).
    """
    from fpdf import FPDF  # test-only dependency

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("Helvetica", size=10)
    if image_only:
        picture = io.BytesIO(png_bytes(200, 260))
        for _ in range(pages):
            pdf.add_page()
            pdf.image(picture, x=10, y=10, w=190)
        return bytes(pdf.output())
    if sections is None:
        sections = (
            ("Introduction", prose(6, seed=12, start="Talking heads matter.")),
            ("Method", prose(6, seed=13, start="Our method has two stages.")
             + " Code: https://github.com/annlee/talker and data at https://zenodo.org/records/1."),
            ("Experiments", prose(6, seed=14, start="We evaluate on two datasets.")),
            ("Conclusion", prose(3, seed=15, start="We presented a talker.")),
        )  # fmt: skip
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    _cell(pdf, 8, "Talking Heads from a Single Photo", align="C")
    pdf.set_font("Helvetica", size=11)
    _cell(pdf, 6, "Ann Lee(1), Bo Chen(2)", align="C")
    for i, affiliation in enumerate(affiliations, start=1):
        _cell(pdf, 6, f"{i} {affiliation}", align="C")
    _cell(pdf, 6, "ann@example.org", align="C")
    pdf.ln(4)
    pdf.set_font("Helvetica", style="B", size=11)
    _cell(pdf, 6, "Abstract")
    pdf.set_font("Helvetica", size=10)
    _cell(pdf, 5, "We animate a single portrait photo from speech. " + prose(3, seed=11))
    if with_image:
        pdf.image(io.BytesIO(png_bytes(120, 60)), w=80)
    for number, (title, text) in enumerate(sections, start=1):
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=12)
        _cell(pdf, 7, f"{number} {title}")
        pdf.set_font("Helvetica", size=10)
        _cell(pdf, 5, text)
    rng = random.Random(5)
    while pdf.page_no() < pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        if words_per_page:
            filler = prose(max(1, words_per_page // 13), seed=rng.randint(0, 10**6))
            _cell(pdf, 5, filler)
        else:
            _cell(pdf, 5, f"Supplementary page {pdf.page_no()}.")
    return bytes(pdf.output())
