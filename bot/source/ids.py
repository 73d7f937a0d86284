"""arXiv identifiers: parse every form people paste into one `ArxivId`.

Accepted (case-insensitive where it makes sense, surrounding whitespace, ``<...>`` and trailing
punctuation ignored):

* new style ``2409.03605`` / ``2409.03605v2`` (``YYMM.NNNNN`` since 2015, ``YYMM.NNNN`` from
  April 2007 to 2014, e.g. ``0704.0001``);
* old style ``hep-th/9901001``, ``math.GT/0309136`` (subject class kept as given), ``...v2``;
* prefixed ``arXiv:2409.03605``;
* URLs on ``arxiv.org`` / ``www.arxiv.org`` / ``export.arxiv.org`` under ``/abs/``, ``/pdf/``
  (with or without ``.pdf``), ``/html/``, ``/format/`` or ``/src/``, with or without scheme.

Anything else raises `InvalidArxivId` whose message quotes the input (shortened and stripped of
control characters, so it is safe to echo back) and shows accepted examples.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.config import ARCHIVES
from bot.errors import InvalidArxivId

__all__ = ["ArxivId", "parse_arxiv_id", "parse_arxiv_ids"]

# Archives that only exist in old-style identifiers (merged or renamed since). Accepting them
# means a pasted 1990s id such as ``alg-geom/9201001`` still resolves.
LEGACY_ARCHIVES = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn",
        "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph",
        "q-alg", "solv-int", "supr-con",
    }
)  # fmt: skip

EXAMPLES = (
    "2409.03605, 2409.03605v2, arXiv:2409.03605, https://arxiv.org/abs/2409.03605, hep-th/9901001"
)

_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format|src)/"
    r"(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?",
    re.IGNORECASE,
)
_PREFIX_RE = re.compile(r"^arxiv:\s*", re.IGNORECASE)
_NEW_RE = re.compile(r"(?P<yymm>[0-9]{4})\.(?P<num>[0-9]+)(?:v(?P<v>[0-9]+))?", re.IGNORECASE)
_OLD_RE = re.compile(
    r"(?P<archive>[A-Za-z][A-Za-z-]*)(?:\.(?P<sc>[A-Za-z][A-Za-z-]*))?"
    r"/(?P<yymm>[0-9]{4})(?P<num>[0-9]+)(?:v(?P<v>[0-9]+))?",
    re.IGNORECASE,
)
# Wrapping people add around ids: quotes, brackets, and sentence punctuation after them.
_LEADING_JUNK = "<([{'\"“‘«"
_TRAILING_JUNK = ">)]}'\"”’».,;:!?"
_QUOTE_LIMIT = 60


@dataclass(frozen=True)
class ArxivId:
    """An arXiv identifier without (`id`) and with (`version`, None = latest) its version."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"

    @property
    def is_old_style(self) -> bool:
        return "/" in self.id

    @property
    def canonical(self) -> str:
        """The id as arXiv itself writes it: old-style ids lose their subject class.

        ``math.GT/0309136`` is filed by arXiv as ``math/0309136``; the API's entries use that form.
        """
        if not self.is_old_style:
            return self.id
        archive_part, number = self.id.split("/", 1)
        return f"{archive_part.split('.', 1)[0]}/{number}"


def _quote(text: str) -> str:
    """Make user input safe to echo: no control/format characters, bounded length."""
    cleaned = "".join(
        " " if ch in "\r\n\t" else ch
        for ch in text
        if ch in "\r\n\t" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) > _QUOTE_LIMIT:
        cleaned = cleaned[: _QUOTE_LIMIT - 1].rstrip() + "…"
    return f"“{cleaned}”"


def _invalid(text: str, problem: str | None = None) -> InvalidArxivId:
    reason = f" ({problem})" if problem else ""
    return InvalidArxivId(
        f"{_quote(text)} is not an arXiv identifier{reason}. Examples of accepted forms: {EXAMPLES}"
    )


def _ascii_digits(text: str) -> str:
    """Full-width ``２４０９．０３６０５`` (CJK keyboards) and any script's digits → ASCII."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text
    )


def _strip_wrapping(text: str) -> str:
    s = text.strip()
    # Repeatedly peel quotes/brackets/punctuation so `(<arXiv:2409.03605>).` works too.
    while True:
        before = s
        s = s.lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK).strip()
        if s == before:
            return s


def _check_month(text: str, yymm: str) -> None:
    month = int(yymm[2:])
    if not 1 <= month <= 12:
        raise _invalid(text, f"month {yymm[2:]} does not exist; ids start with YYMM")


def _version(text: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    version = int(raw)
    if version < 1:
        raise _invalid(text, "versions start at v1")
    return version


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse one identifier in any accepted form; raise `InvalidArxivId` otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArxivId(f"No arXiv identifier given. Examples of accepted forms: {EXAMPLES}")
    core = _strip_wrapping(_ascii_digits(text))
    url = _URL_RE.fullmatch(core)
    core = url.group("rest") if url else _PREFIX_RE.sub("", core)

    m = _NEW_RE.fullmatch(core)
    if m:
        yymm, num = m.group("yymm"), m.group("num")
        _check_month(text, yymm)
        if len(num) not in (4, 5):
            raise _invalid(text, "the part after the dot has four or five digits")
        if yymm < "0704":
            raise _invalid(text, "new-style ids start in April 2007 (0704.0001)")
        if len(num) == 4 and yymm > "1412":
            raise _invalid(text, "ids since 2015 have five digits after the dot")
        if len(num) == 5 and yymm < "1501":
            raise _invalid(text, "ids before 2015 have four digits after the dot")
        return ArxivId(f"{yymm}.{num}", _version(text, m.group("v")))

    m = _OLD_RE.fullmatch(core)
    if m:
        archive = m.group("archive").lower()
        if archive not in ARCHIVES and archive not in LEGACY_ARCHIVES:
            raise _invalid(text, f"{archive!r} is not an arXiv archive")
        if len(m.group("num")) != 3:
            raise _invalid(text, "old-style ids look like archive/YYMMNNN")
        _check_month(text, m.group("yymm"))
        subject = m.group("sc")
        prefix = f"{archive}.{subject}" if subject else archive
        return ArxivId(f"{prefix}/{m.group('yymm')}{m.group('num')}", _version(text, m.group("v")))

    raise _invalid(text)


def parse_arxiv_ids(text: str) -> list[ArxivId]:
    """Parse several ids separated by whitespace, commas or semicolons (duplicates dropped).

    Blank input gives an empty list; the first malformed id raises `InvalidArxivId`.
    """
    # "arXiv: 2409.03605" must stay one token.
    normalized = re.sub(r"(?i)\barxiv:\s+", "arXiv:", text or "")
    seen: dict[ArxivId, None] = {}
    for token in re.split(r"[\s,;]+", normalized):
        if token.strip(_LEADING_JUNK + _TRAILING_JUNK):
            seen.setdefault(parse_arxiv_id(token))
    return list(seen)
