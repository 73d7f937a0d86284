"""Reading arXiv's LaTeXML pages: sections, affiliations, figures, links from the text only."""

from __future__ import annotations

import pytest

from bot.fulltext import FullText, HtmlUnusable, SectionKind, TextSource, parse_html
from bot.models import LinkKind
from tests.fakes.fulltext_data import CHROME_LINKS, FAILED_PAGE, latexml_page

VID = "2409.03605v1"
PAGE_URL = f"http://127.0.0.1:8000/html/{VID}"


def parse(page: str, url: str = PAGE_URL) -> FullText:
    return parse_html(page.encode(), paper_id="2409.03605", version=1, page_url=url)


def test_sections_are_classified_in_document_order() -> None:
    full = parse(latexml_page(VID))
    assert full.source is TextSource.HTML
    assert [(s.title, s.kind) for s in full.sections] == [
        ("Abstract", SectionKind.ABSTRACT),
        ("Introduction", SectionKind.INTRO),
        ("Method", SectionKind.METHOD),
        ("Experiments", SectionKind.EXPERIMENTS),
        ("Related Work", SectionKind.RELATED),
        ("Conclusion", SectionKind.CONCLUSION),
    ]
    assert full.abstract is not None and full.abstract.startswith("We animate a single portrait")
    method = full.sections_of(SectionKind.METHOD)[0].text
    # The subsection stays inside, its title on a line of its own (once, without its number).
    assert "\n\nAudio encoder\n\nAudio is encoded." in method
    assert method.count("Audio encoder") == 1


def test_math_is_its_alttext_made_readable_and_error_spans_are_dropped() -> None:
    method = parse(latexml_page(VID)).sections_of(SectionKind.METHOD)[0].text
    assert "The loss is L=α ‖x-x̂‖_1 with α=0.5, computed in O(n log n) time." in method
    assert "\\todo" not in method and "todo" not in method
    # Footnotes are not running text; citations stay.
    assert "Code is available as described in [1]." in method
    assert "github.com" not in method


def test_text_has_no_page_chrome_tables_or_bibliography() -> None:
    full = parse(latexml_page(VID))
    everything = "\n".join(s.text for s in full.sections)
    for chrome in ("Report issue", "Back to arXiv", "License", "LaTeXML", "Baseline talkers"):
        assert chrome not in everything
    assert "Lip-sync scores" not in everything and "Ours 7.9" not in everything
    assert "Figure 1" not in everything


def test_affiliations_once_each_without_labels_or_emails() -> None:
    full = parse(latexml_page(VID))
    assert full.affiliations == ("University of Somewhere", "Example Research Lab")


def test_affiliation_parts_are_joined_and_free_text_blocks_are_read() -> None:
    page = latexml_page(VID).replace(
        '<div class="ltx_authors">',
        '<div class="ltx_authors"><span class="ltx_creator ltx_role_author"><span '
        'class="ltx_personname">Dee Eng<br class="ltx_break">Tsinghua University, Beijing'
        '<br class="ltx_break">dee@example.org</span></span><span class="ltx_contact '
        'ltx_role_affiliation"><span class="ltx_text ltx_affiliation_institution">Hangzhou '
        'Dianzi University</span><span class="ltx_text ltx_affiliation_city">Hangzhou</span>'
        '<span class="ltx_text ltx_affiliation_country">China</span></span>',
    )
    assert parse(page).affiliations[:2] == (
        "Tsinghua University, Beijing",
        "Hangzhou Dianzi University, Hangzhou, China",
    )


def test_figures_resolve_against_the_page_as_a_directory_with_captions() -> None:
    full = parse(latexml_page(VID))
    assert [(f.index, f.image_url, f.caption) for f in full.figures] == [
        (1, f"{PAGE_URL}/x1.png", "Figure 1: Overview of the pipeline."),
        (2, f"{PAGE_URL}/x2.png", "Figure 2: Qualitative results."),
    ]
    # A trailing slash or a <base href> gives the same URLs.
    assert parse(latexml_page(VID), PAGE_URL + "/").figures == full.figures
    assert parse(latexml_page(VID, base_href=True)).figures == full.figures


def test_links_come_from_the_papers_text_and_footnotes_only() -> None:
    full = parse(latexml_page(VID))
    assert [(link.kind, link.url) for link in full.links] == [
        (LinkKind.CODE, "https://github.com/annlee/talker"),
        (LinkKind.PROJECT, "https://annlee.github.io/talker"),
    ]
    urls = {link.url for link in full.links}
    assert not urls & {c.format(vid=VID) for c in CHROME_LINKS}
    assert "https://github.com/smith/baseline" not in urls  # a cited work, not this paper's


def test_an_anchor_with_words_counts_by_its_href() -> None:
    page = latexml_page(VID).replace(
        "Code is available",
        'Our code is <a class="ltx_ref" href="https://gitlab.com/dee/tool">here</a>',
    )
    assert "https://gitlab.com/dee/tool" in {link.url for link in parse(page).links}


@pytest.mark.parametrize(
    "page",
    [
        FAILED_PAGE,
        "<html><body><h1>Not Found</h1></body></html>",
        '<html><body><article class="ltx_document"><p class="ltx_p">Hi.</p></article></body>'
        "</html>",
    ],
    ids=["fatal-error-notice", "no-article", "stub"],
)
def test_a_failed_conversion_is_no_html(page: str) -> None:
    with pytest.raises(HtmlUnusable):
        parse(page)


def test_a_page_without_sections_gives_its_paragraphs_as_body() -> None:
    page = latexml_page(VID, sections=())
    full = parse(
        page.replace("</article>", '<p class="ltx_p">' + "A short note. " * 30 + "</p></article>")
    )
    assert [s.kind for s in full.sections] == [SectionKind.ABSTRACT, SectionKind.OTHER]
