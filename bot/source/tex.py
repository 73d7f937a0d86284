"""TeX accents in names (``M\\"uller``, ``Fran{\\c c}ois``) → Unicode, as arXiv's feeds send them.

The query API already answers in Unicode; the listing feeds keep what authors typed. Only the
accent commands and a few letter macros are decoded: names, not mathematics.
"""

from __future__ import annotations

import re
import unicodedata

# TeX accent command -> Unicode combining character.
_ACCENTS = {
    '"': "\u0308",  # diaeresis
    "'": "\u0301",  # acute
    "`": "\u0300",  # grave
    "^": "\u0302",  # circumflex
    "~": "\u0303",  # tilde
    "=": "\u0304",  # macron
    ".": "\u0307",  # dot above
    "u": "\u0306",  # breve
    "v": "\u030c",  # caron
    "H": "\u030b",  # double acute
    "c": "\u0327",  # cedilla
    "k": "\u0328",  # ogonek
    "r": "\u030a",  # ring above
}
_LETTERS = {
    "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ",
}  # fmt: skip

# \"u  \"{u}  {\"u}  \c c  \c{c}  \'\i  — symbol accents need no space, letter accents do.
_ACCENT_RE = re.compile(
    r"\{?\\(?:(?P<sym>[\"'`^~=.])|(?P<let>[uvHckr])(?:\s+|(?=\{)))"
    r"\s*(?:\{\s*(?P<b>\\?[A-Za-z])\s*\}|(?P<c>\\?[A-Za-z]))\}?"
)
_LETTER_RE = re.compile(r"\{?\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L)(?![A-Za-z])(?:\{\})?\s*\}?")


def _accent(m: re.Match[str]) -> str:
    base = m.group("b") or m.group("c") or ""
    base = {"\\i": "i", "\\j": "j"}.get(base, base)
    mark = _ACCENTS[m.group("sym") or m.group("let")]
    return unicodedata.normalize("NFC", base + mark)


def decode_tex_name(text: str) -> str:
    """``J\\"urgen M{\\"u}ller`` → ``Jürgen Müller``; text without TeX is returned unchanged."""
    if "\\" not in text:
        return text
    text = _ACCENT_RE.sub(_accent, text)
    return _LETTER_RE.sub(lambda m: _LETTERS[m.group(1)], text)
