"""Sentence splitting and light clean-up for arXiv abstracts and model answers.

Abstracts are full of full stops that do not end sentences: ``e.g.``, ``et al.``, ``Fig. 2``,
``3.5%``, ``$O(n \\log n)$.``, URLs. The splitter only breaks after ``.``, ``!`` or ``?`` followed
by whitespace and a character that can start a sentence (capital, digit, bracket, quote, ``$``, or
a non-Latin letter), and never after a known abbreviation. Chinese and Japanese full stops
(``。！？``) always end a sentence.
"""

from __future__ import annotations

import re
import unicodedata


def _split_words(text: str) -> list[str]:
    return text.split()


# Never end a sentence: the next word belongs to the same sentence.
_NEVER_FINAL = frozenset(
    _split_words(
        "e.g i.e cf vs fig figs eq eqs sec secs tab tabs ref refs approx resp dr prof mr mrs ms st"
        " jr viz w.r.t a.k.a i.i.d ch app thm lem prop def cor alg"
    )
)
# May end a sentence, but only when the next word is capitalised ("…, etc. We show…").
_MAYBE_FINAL = frozenset({"etc", "al"})
# End a sentence unless a number follows ("No. 5" versus "the answer is no. We").
_NUMBERED = frozenset({"no", "nos"})

_CANDIDATE_RE = re.compile(r"[.!?]+[\"'”’)\]]*(\s+)|[。！？]+[」』”’）]*\s*")
_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
_MATH_RE = re.compile(r"\$[^$]+\$")
# A URL never ends with the punctuation that follows it in prose.
_URL_RE = re.compile(r"(?:https?://|www\.)\S*[^\s.,;:!?)\]}'\"]", re.IGNORECASE)

# Inline LaTeX that shows up in abstracts, mapped to readable text.
_LATEX_SYMBOLS: dict[str, str] = {
    r"\times": "×",
    r"\approx": "≈",
    r"\sim": "∼",
    r"\leq": "≤",
    r"\le": "≤",
    r"\geq": "≥",
    r"\ge": "≥",
    r"\pm": "±",
    r"\cdot": "·",
    r"\infty": "∞",
    r"\rightarrow": "→",
    r"\to": "→",
    r"\%": "%",
    r"\&": "&",
    r"\_": "_",
    r"\#": "#",
    r"\$": "$",
    r"\ldots": "…",
    r"\dots": "…",
}
_LATEX_WRAPPERS_RE = re.compile(
    r"\\(?:emph|textit|textbf|texttt|textsc|textrm|text|mathrm|mathbf|mathcal|mathit|mathsf"
    r"|mathbb|mathfrak|boldsymbol|url|operatorname)\{([^{}]*)\}"
)
_GREEK_NAMES = _split_words(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau"
    " upsilon phi chi psi omega"
)
_GREEK: dict[str, str] = {
    **dict(zip(_GREEK_NAMES, "αβγδεζηθικλμνξπρστυφχψω", strict=True)),
    **dict(zip((n.title() for n in _GREEK_NAMES), "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΠΡΣΤΥΦΧΨΩ", strict=True)),
}
_GREEK_RE = re.compile(r"\\(" + "|".join(_GREEK) + r")(?![A-Za-z])")
_FUNCTION_RE = re.compile(r"\\(log|exp|sin|cos|tan|min|max|lim|sup|inf|det|ln)(?![A-Za-z])")
# Accents as LaTeX writes them in author names: L\"uscher, Erd\H{o}s, R\'enyi, \c{c}.
_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "H": "\u030b",
    "c": "\u0327",
}
_ACCENT_RE = re.compile(r"\\([\"'`^~Hc])\{?([A-Za-z])\}?")
_SCRIPT_GROUP_RE = re.compile(r"([_^])\{([^{}]{1,12})\}")
_LATEX_SYMBOL_RE = re.compile(
    "|".join(re.escape(k) + (r"(?![A-Za-z])" if k[-1].isalpha() else "") for k in _LATEX_SYMBOLS)
)


def clean_text(text: str) -> str:
    """Collapse whitespace and turn common inline LaTeX into plain text."""
    text = _LATEX_WRAPPERS_RE.sub(r"\1", text)
    text = _LATEX_WRAPPERS_RE.sub(r"\1", text)  # one level of nesting: \textbf{\emph{x}}
    text = _LATEX_SYMBOL_RE.sub(lambda m: _LATEX_SYMBOLS[m.group(0)], text)
    text = _ACCENT_RE.sub(
        lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]), text
    )
    text = _GREEK_RE.sub(lambda m: _GREEK[m.group(1)], text)
    text = _FUNCTION_RE.sub(r"\1", text)
    text = _SCRIPT_GROUP_RE.sub(_script_group, text)
    text = text.replace("``", "“").replace("''", "”")
    text = re.sub(r"(?<!\\)~", " ", text)  # LaTeX non-breaking space
    # Drop the dollars around short formulas ("$O(n^2)$" → "O(n^2)"); keep the formula itself.
    text = _MATH_RE.sub(lambda m: m.group(0)[1:-1], text)
    return " ".join(text.split())


def _script_group(m: re.Match[str]) -> str:
    # "10^{-6}" → "10^-6", but "g^{2L}" → "g^(2L)" so the exponent stays unambiguous.
    op, body = m.group(1), m.group(2)
    return f"{op}{body}" if re.fullmatch(r"-?(?:\d+|\w)", body) else f"{op}({body})"


def _protect(text: str) -> tuple[str, list[str]]:
    """Replace URLs and math by placeholders so their dots are not taken for full stops."""
    saved: list[str] = []

    def keep(m: re.Match[str]) -> str:
        saved.append(m.group(0))
        return f"\x00{len(saved) - 1}\x01"

    return _MATH_RE.sub(keep, _URL_RE.sub(keep, text)), saved


def _restore(text: str, saved: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x01", lambda m: saved[int(m.group(1))], text)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences (see the module docstring for the rules)."""
    text = " ".join(text.split())
    if not text:
        return []
    protected, saved = _protect(text)
    sentences: list[str] = []
    start = 0
    for m in _CANDIDATE_RE.finditer(protected):
        end = m.end()
        if m.group(0)[0] in ".!?" and not _is_boundary(protected, m):
            continue
        piece = protected[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = protected[start:].strip()
    if tail:
        sentences.append(tail)
    return [_restore(s, saved) for s in sentences]


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    following = text[m.end() : m.end() + 1]
    if not following or not _can_start_sentence(following):
        return False  # "approx. two", "vs. the baseline": a lowercase word continues the sentence
    if m.group(0)[0] != ".":
        return True
    before = text[: m.start() + 1]
    word_m = _WORD_BEFORE_RE.search(before)
    if word_m is None:
        return True
    word = word_m.group(1).lower()
    if word in _MAYBE_FINAL:
        return following.isupper()
    if word in _NUMBERED:
        return not following.isdigit()
    if word in _NEVER_FINAL:
        return False
    # A lone capital ("J. Smith", "Section A. We") is usually an initial.
    return not (len(word) == 1 and word_m.group(1).isupper() and following.isupper())


def _can_start_sentence(ch: str) -> bool:
    # Capitals, digits ("3D scenes are…"), brackets, quotes, math and LaTeX commands; also letters
    # of scripts without case (a Chinese sentence after an English one), but not lowercase.
    if ch in "\"'“‘([$\\\x00" or ch.isdigit():
        return True
    return ch.isalpha() and not ch.islower()
