"""Reading PDFs made by fpdf2: headings, affiliations, links, the page cap, image-only PDFs."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from bot.fulltext import NoteKind, PdfNoText, PdfUnreadable, SectionKind, TextSource, extract_pdf
from bot.fulltext.pdf import split_sections
from bot.models import LinkKind
from tests.fakes.fulltext_data import make_pdf


@functools.cache
def pdf_bytes(**options: object) -> bytes:
    return make_pdf(**options)  # type: ignore[arg-type]


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "paper.pdf"
    path.write_bytes(data)
    return path


def test_sections_affiliations_and_links_from_a_real_pdf(tmp_path: Path) -> None:
    full = extract_pdf(write(tmp_path, pdf_bytes(pages=3)), paper_id="2409.03605", version=2)
    assert (full.source, full.paper_id, full.version) == (TextSource.PDF, "2409.03605", 2)
    assert [(s.title, s.kind) for s in full.sections] == [
        ("Abstract", SectionKind.ABSTRACT),
        ("Introduction", SectionKind.INTRO),
        ("Method", SectionKind.METHOD),
        ("Experiments", SectionKind.EXPERIMENTS),
        ("Conclusion", SectionKind.CONCLUSION),
    ]
    assert full.sections[1].text.startswith("Talking heads matter.")
    assert full.affiliations == ("University of Somewhere", "Example Research Lab")
    assert [(link.kind, link.url) for link in full.links] == [
        (LinkKind.CODE, "https://github.com/annlee/talker"),
        (LinkKind.DATA, "https://zenodo.org/records/1"),
    ]
    assert (full.pages_read, full.pages_total, full.notes) == (3, 3, ())
    assert full.source_url == "https://arxiv.org/pdf/2409.03605v2"


def test_an_image_in_the_pdf_does_not_disturb_the_text(tmp_path: Path) -> None:
    full = extract_pdf(write(tmp_path, pdf_bytes(with_image=True)), paper_id="x", version=1)
    assert len(full.sections) == 5


def test_only_the_first_60_pages_are_read_and_the_note_says_so(tmp_path: Path) -> None:
    full = extract_pdf(write(tmp_path, pdf_bytes(pages=65)), paper_id="x", version=1)
    assert (full.pages_read, full.pages_total) == (60, 65)
    assert [str(n) for n in full.notes] == ["read the first 60 of 65 pages"]
    assert full.notes[0].kind is NoteKind.PAGES_CAPPED


def test_an_image_only_pdf_has_no_text(tmp_path: Path) -> None:
    with pytest.raises(PdfNoText):
        extract_pdf(write(tmp_path, pdf_bytes(pages=2, image_only=True)), paper_id="x", version=1)


def test_a_truncated_pdf_is_unreadable(tmp_path: Path) -> None:
    data = pdf_bytes(pages=3)
    with pytest.raises(PdfUnreadable):
        extract_pdf(write(tmp_path, data[: len(data) // 3]), paper_id="x", version=1)


def test_heading_heuristics() -> None:
    lines = [
        "A Title",
        "1 University of Somewhere",  # before the abstract: never a heading
        "2 Example Lab",
        "Abstract—We do things.",
        "I. INTRODUCTION",
        "Text with 3 numbers.",
        "3 of the runs failed",  # out of sequence, and a sentence
        "II. RELATED WORK",
        "Prior art.",
        "2.1 Details",  # a subsection stays inside
        "III. METHOD",
        "We propose.",
        "REFERENCES",
        "[1] Someone. A paper.",
    ]
    front, sections = split_sections(lines)
    assert front == ["A Title", "1 University of Somewhere", "2 Example Lab"]
    assert [title for title, _ in sections] == [
        "Abstract",
        "INTRODUCTION",
        "RELATED WORK",
        "METHOD",
    ]
    assert sections[0][1] == ["We do things."]
    assert sections[1][1] == ["Text with 3 numbers.", "3 of the runs failed"]
    assert "2.1 Details" in sections[2][1]


def test_hyphenation_urls_and_running_headers_are_repaired(tmp_path: Path) -> None:
    from bot.fulltext.pdf import _join, _page_lines

    assert _join(["We learn a repre-", "sentation from https://github.com/a/", "b today."]) == (
        "We learn a representation from https://github.com/a/b today."
    )
    pages = _page_lines([f"Preprint. Under review.\nText {c}.\n{i}" for i, c in enumerate("abcd")])
    assert pages == [[f"Text {c}."] for c in "abcd"]
