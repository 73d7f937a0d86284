"""Identifier parsing: every form people paste, and helpful refusals of everything else."""

from __future__ import annotations

import pytest

from bot.errors import InvalidArxivId, UserError
from bot.source.ids import ArxivId, parse_arxiv_id, parse_arxiv_ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2409.03605", ArxivId("2409.03605")),
        ("2409.03605v2", ArxivId("2409.03605", 2)),
        ("arXiv:2409.03605", ArxivId("2409.03605")),
        ("arxiv:2409.03605v1", ArxivId("2409.03605", 1)),
        ("ARXIV: 2409.03605", ArxivId("2409.03605")),
        ("https://arxiv.org/abs/2409.03605v2", ArxivId("2409.03605", 2)),
        ("http://arxiv.org/pdf/2409.03605", ArxivId("2409.03605")),
        ("https://arxiv.org/pdf/2409.03605v1.pdf", ArxivId("2409.03605", 1)),
        ("https://arxiv.org/pdf/2409.03605.pdf", ArxivId("2409.03605")),
        ("https://arxiv.org/html/2409.03605v1", ArxivId("2409.03605", 1)),
        ("https://arxiv.org/html/2409.03605v1/", ArxivId("2409.03605", 1)),
        ("https://export.arxiv.org/abs/2409.03605", ArxivId("2409.03605")),
        ("export.arxiv.org/abs/2409.03605v3", ArxivId("2409.03605", 3)),
        ("https://www.arxiv.org/abs/2409.03605", ArxivId("2409.03605")),
        ("www.arxiv.org/pdf/2409.03605v2", ArxivId("2409.03605", 2)),
        ("arxiv.org/abs/2409.03605", ArxivId("2409.03605")),
        ("HTTPS://ARXIV.ORG/ABS/2409.03605", ArxivId("2409.03605")),
        ("https://arxiv.org/abs/2409.03605?context=cs.CV", ArxivId("2409.03605")),
        ("https://arxiv.org/abs/2409.03605v2#S3", ArxivId("2409.03605", 2)),
        ("  2409.03605\n", ArxivId("2409.03605")),
        ("<https://arxiv.org/abs/2409.03605>", ArxivId("2409.03605")),
        ("(arXiv:2409.03605).", ArxivId("2409.03605")),
        ("2409.03605v2,", ArxivId("2409.03605", 2)),
        ("“2409.03605”", ArxivId("2409.03605")),
        ("0704.0001", ArxivId("0704.0001")),
        ("1412.9999v3", ArxivId("1412.9999", 3)),
        ("1501.00001", ArxivId("1501.00001")),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("math.GT/0309136", ArxivId("math.GT/0309136")),
        ("HEP-TH/9901001", ArxivId("hep-th/9901001")),
        ("arXiv:math.GT/0309136v1", ArxivId("math.GT/0309136", 1)),
        ("https://arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
        ("https://arxiv.org/pdf/quant-ph/0201082v1", ArxivId("quant-ph/0201082", 1)),
        ("alg-geom/9201001", ArxivId("alg-geom/9201001")),  # a retired archive
    ],
)
def test_accepted_forms(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


def test_str_and_canonical() -> None:
    assert str(ArxivId("2409.03605")) == "2409.03605"
    assert str(ArxivId("2409.03605", 2)) == "2409.03605v2"
    old = parse_arxiv_id("math.GT/0309136v1")
    assert str(old) == "math.GT/0309136v1"
    assert old.canonical == "math/0309136"
    assert old.is_old_style
    assert parse_arxiv_id("2409.03605").canonical == "2409.03605"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("abc", None),
        ("2409.0360", "five digits"),  # 2024 ids have five digits
        ("0808.05394", "four digits"),  # pre-2015 ids have four
        ("2413.00001", "month 13"),
        ("2400.00001", "month 00"),
        ("0612.0001", "April 2007"),
        ("2409.036055", "four or five digits"),
        ("2409.03605v0", "v1"),
        ("foo-bar/9901001", "'foo-bar' is not an arXiv archive"),
        ("hep-th/9913001", "month 13"),
        ("hep-th/990100", "archive/YYMMNNN"),
        ("https://example.org/abs/2409.03605", None),
        ("https://arxiv.org/list/cs.CV/new", None),
        ("2409.03605 2409.03606", None),
        ("2409-03605", None),
    ],
)
def test_malformed_ids_are_refused_helpfully(text: str, hint: str | None) -> None:
    with pytest.raises(InvalidArxivId) as info:
        parse_arxiv_id(text)
    message = str(info.value)
    assert f"“{text}”" in message
    assert "2409.03605" in message and "hep-th/9901001" in message  # examples
    if hint:
        assert hint in message
    assert isinstance(info.value, UserError)


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_blank_input(text: str) -> None:
    with pytest.raises(InvalidArxivId, match="No arXiv identifier given"):
        parse_arxiv_id(text)


def test_quoted_input_is_truncated_and_sanitised() -> None:
    with pytest.raises(InvalidArxivId) as info:
        parse_arxiv_id("x" * 500)
    message = str(info.value)
    assert "x" * 59 + "…" in message and "x" * 61 not in message

    with pytest.raises(InvalidArxivId) as info:
        parse_arxiv_id("2409\u202e.03605\u200b\x00\x1b[31m<b>hi</b>\nnext")
    message = str(info.value)
    for bad in ("\u202e", "\u200b", "\x00", "\x1b", "\n"):
        assert bad not in message
    assert "<b>hi</b>" in message  # kept as text; frontends escape markup themselves


def test_emoji_and_other_scripts() -> None:
    with pytest.raises(InvalidArxivId, match="“📄 论文”"):
        parse_arxiv_id("📄 论文")


def test_several_ids() -> None:
    text = "2409.03605, arXiv: 2409.03606v2 https://arxiv.org/abs/hep-th/9901001;2409.03605"
    assert parse_arxiv_ids(text) == [
        ArxivId("2409.03605"),
        ArxivId("2409.03606", 2),
        ArxivId("hep-th/9901001"),
    ]
    assert parse_arxiv_ids("  ,  ") == []
    with pytest.raises(InvalidArxivId, match="“nonsense”"):
        parse_arxiv_ids("2409.03605 nonsense")


@pytest.mark.parametrize(
    "text", ["２４０９．０３６０５", "٢٤٠٩.٠٣٦٠٥", "arXiv：２４０９．０３６０５ｖ２"]
)
def test_digits_from_other_keyboards_are_read_as_ascii(text: str) -> None:
    parsed = parse_arxiv_id(text)
    assert parsed.id == "2409.03605"
    assert parsed.version in (None, 2)
