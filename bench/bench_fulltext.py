"""Benchmark: time to extract a 30-page PDF and to parse a large arXiv HTML page.

Run from the repository root with ``python -m bench.bench_fulltext`` (no network: the PDF is
made with fpdf2, the page with the fake's LaTeXML builder). Prints pages per second for the PDF
(PDFium text extraction plus Paperboy's heading heuristics, from a file on disk) and the parse
time and size of an HTML page with many sections, figures and formulas.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bot.fulltext import extract_pdf, parse_html
from tests.fakes.fulltext_data import latexml_page, make_pdf, prose


def pdf_bench(pages: int = 30, words_per_page: int = 550, runs: int = 5) -> dict[str, float]:
    """Extract a `pages`-page PDF of realistic density `runs` times; median seconds."""
    data = make_pdf(pages=pages, words_per_page=words_per_page)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "paper.pdf"
        path.write_bytes(data)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            full = extract_pdf(path, paper_id="2409.03605", version=1)
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {
        "pages": float(full.pages_read or 0),
        "bytes": float(len(data)),
        "chars": float(sum(len(s.text) for s in full.sections)),
        "seconds": seconds,
        "pages_per_second": (full.pages_read or 0) / seconds,
    }


def html_bench(sections: int = 40, sentences: int = 60, runs: int = 5) -> dict[str, float]:
    """Parse a LaTeXML page with `sections` sections of `sentences` sentences; median seconds."""
    specs = [("Introduction", prose(sentences, seed=1))] + [
        (f"Method part {i}" if i % 2 else "Experiments", prose(sentences, seed=i))
        for i in range(2, sections + 1)
    ]
    page = latexml_page("2409.03605v1", sections=specs, figures=sections).encode()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        full = parse_html(
            page, paper_id="2409.03605", version=1, page_url="https://arxiv.org/html/2409.03605v1"
        )
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {
        "bytes": float(len(page)),
        "sections": float(len(full.sections)),
        "seconds": seconds,
        "mb_per_second": len(page) / 1e6 / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--sections", type=int, default=40)
    args = parser.parse_args()
    pdf = pdf_bench(args.pages)
    print(
        f"PDF: {pdf['pages']:.0f} pages ({pdf['bytes'] / 1e3:.0f} kB, {pdf['chars'] / 1e3:.0f}k "
        f"characters) in {pdf['seconds'] * 1000:.0f} ms: {pdf['pages_per_second']:.0f} pages/s"
    )
    html = html_bench(args.sections)
    print(
        f"HTML: {html['bytes'] / 1e6:.1f} MB page, {html['sections']:.0f} sections in "
        f"{html['seconds'] * 1000:.0f} ms: {html['mb_per_second']:.1f} MB/s"
    )


if __name__ == "__main__":
    main()
