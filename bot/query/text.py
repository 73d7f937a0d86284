"""Text normalisation, tokenising and the light plural stemmer.

Queries and papers go through exactly these functions, so a query word matches a paper word
whenever both reduce to the same token. The pipeline is: NFKC, casefold, strip diacritics, split
on anything that is not a letter or digit (each CJK character is its own token, since those
scripts do not separate words with spaces), then `stem` for word matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Letters with no Unicode decomposition, so NFD cannot strip their mark, although people type
# them without it: "Łukasz" must be findable as "lukasz", "Ørsted" as "orsted".
_FOLD = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d"}
)

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
# A possessive 's would otherwise become a stray token "s" that breaks phrase adjacency.
_POSSESSIVE_RE = re.compile(r"(?<=\w)['’ʼ]s\b")
# arXiv titles and abstracts carry LaTeX; formatting commands are noise, their arguments are not.
_LATEX_FORMAT_RE = re.compile(
    r"\\(?:text(?:it|bf|tt|sc|rm|sf)?|emph|math(?:rm|bf|it|cal|sf|tt|bb)|boldsymbol|"
    r"url|href|cite[pt]?|ref|footnote)\b"
)
# Lower-to-upper transitions inside a word mark a CamelCase method name such as "TalkingHead".
_CAMEL_HINT_RE = re.compile(r"[a-z][A-Z]")
_LETTERS_RE = re.compile(r"[A-Za-z]*")
_CAMEL_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")

# fmt: off
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could", "did",
    "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "may", "might", "more", "most", "no", "nor", "not", "of", "on",
    "or", "our", "over", "she", "so", "such", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "through", "thus", "to", "too", "under", "up",
    "upon", "us", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "why", "will", "with", "within", "without", "would", "yet", "you", "your",
})
# fmt: on

# Words that end in "s" without being plurals; stripping them would merge unrelated words
# ("news" with "new", "lens" with "len", "bias" with "bia").
# fmt: off
_INVARIANT = frozenset({
    "news", "series", "species", "lens", "bias", "atlas", "canvas", "alias", "chaos", "cosmos",
    "ethos", "kudos", "this", "does", "always", "perhaps",
})
# fmt: on


def _drop_mark(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.category(char).startswith("M") else char


def normalize(text: str) -> str:
    """NFKC, casefold and strip diacritics (so "Müller" and "MULLER" agree)."""
    if text.isascii():  # the common case for arXiv metadata, and much faster
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    # Strip combining marks (all of category M, which also keeps Indic words whole).
    text = _NON_ASCII_RE.sub(_drop_mark, unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFKC", text.translate(_FOLD))


def strip_latex(text: str) -> str:
    """Remove LaTeX formatting command names, keeping their arguments."""
    return _LATEX_FORMAT_RE.sub(" ", text) if "\\" in text else text


def tokenize(text: str) -> list[str]:
    """Normalised tokens in order, without stemming."""
    norm = normalize(text)
    if "'" in norm or "’" in norm or "ʼ" in norm:
        norm = _POSSESSIVE_RE.sub("", norm)
    return (_ASCII_TOKEN_RE if norm.isascii() else _TOKEN_RE).findall(norm)


def camel_parts(text: str) -> list[str]:
    """The lowercase parts of CamelCase words ("SadTalker" -> "sad", "talker")."""
    parts: list[str] = []
    done = 0
    # Find the transitions first (one fast scan), then the ASCII-letter run around each.
    for hint in _CAMEL_HINT_RE.finditer(text):
        if hint.start() < done:
            continue  # a second transition in a word already split
        start = hint.start()
        while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        end = _LETTERS_RE.match(text, hint.end()).end()  # type: ignore[union-attr]
        parts.extend(p.lower() for p in _CAMEL_PART_RE.findall(text, start, end))
        done = end
    return parts


def stem(token: str) -> str:
    """Reduce a plural to its singular, and nothing else.

    Deliberately light: "heads" -> "head", "studies" -> "study", "processes" -> "process",
    but "talking" stays "talking" so that `talk` never matches it. The result need not be a
    real word ("movies" and "movie" both become "movy"); it only has to be the same for the
    singular and the plural, and `stem(stem(t)) == stem(t)` so canonical forms re-parse.
    """
    t = token
    if len(t) < 4 or t in _INVARIANT:
        return t
    if t.endswith("s"):
        if t.endswith("ies") and len(t) > 4:
            t = t[:-3] + "y"
        elif t.endswith(("sses", "xes", "ches", "shes", "zzes")) or (
            t.endswith("oes") and len(t) > 5
        ):
            t = t[:-2]
        elif not t.endswith(("ss", "us", "is")):
            t = t[:-1]
    # Map the singulars whose plurals the rules above cut differently onto the same stem.
    if t.endswith("ie") and len(t) > 3:
        t = t[:-2] + "y"
    elif t.endswith("che"):
        t = t[:-1]
    return t


class _StemCache(dict[str, str]):
    """Memo of `stem`; looking up many tokens is then a C-level `map` over dict lookups."""

    LIMIT = 200_000  # distinct tokens; a long-running bot must not grow without bound

    def __missing__(self, token: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        result = self[token] = stem(token)
        return result


_STEMS = _StemCache()


def stem_all(tokens: Iterable[str]) -> list[str]:
    """`stem` of each token, memoised."""
    return list(map(_STEMS.__getitem__, tokens))


class _InternCache(dict[str, str]):
    """One shared string per distinct token, so cached papers do not each hold a copy."""

    LIMIT = 200_000

    def __missing__(self, token: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        self[token] = token
        return token


_TOKENS = _InternCache()


def intern_all(tokens: Iterable[str]) -> list[str]:
    """The tokens, each replaced by the one shared copy of an equal string."""
    return list(map(_TOKENS.__getitem__, tokens))


class _NameCache(dict[str, tuple[str, ...]]):
    """Memo of an author name's tokens: the same authors sign many papers of a batch."""

    LIMIT = 50_000

    def __missing__(self, name: str) -> tuple[str, ...]:
        if len(self) >= self.LIMIT:
            self.clear()
        tokens = self[name] = tuple(tokenize(name))
        return tokens


_NAMES = _NameCache()


def name_tokens(names: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """`tokenize` of each author name, as tuples, memoised."""
    return tuple(map(_NAMES.__getitem__, names))


def clear_caches() -> None:
    """Forget memoised stems, shared tokens and name tokens (benchmarks use it to time a cold
    start)."""
    _STEMS.clear()
    _TOKENS.clear()
    _NAMES.clear()
