"""TeX accents in author names from the listing feeds."""

from __future__ import annotations

import pytest

from bot.source.tex import decode_tex_name


@pytest.mark.parametrize(
    ("tex", "plain"),
    [
        ('Jonas M\\"uller', "Jonas Müller"),
        ('M{\\"u}ller', "Müller"),
        ('M\\"{u}ller', "Müller"),
        ("Fran{\\c c}ois", "François"),
        ("Fran\\c{c}ois", "François"),
        ("Ji\\v{r}\\'i Mat\\v{e}j", "Jiří Matěj"),
        ("Erd\\H{o}s", "Erdős"),
        ("S{\\o}ren Kierkegaard", "Søren Kierkegaard"),
        ("\\L{}ukasz", "Łukasz"),
        ("Stra\\ss e", "Straße"),
        ("Jos\\'{e} Garc\\'ia", "José García"),
        ('Ana\\"{\\i}s', "Anaïs"),
        ("Plain Name", "Plain Name"),
        ("Ünïcode Already", "Ünïcode Already"),
    ],
)
def test_decodes_accents(tex: str, plain: str) -> None:
    assert decode_tex_name(tex) == plain


def test_leaves_unknown_macros_alone() -> None:
    assert decode_tex_name("A. \\emph{B}") == "A. \\emph{B}"
