"""Checks a model's TL;DR and takeaways before anything is stored or shown.

`validate_summary` returns human-readable problems (an empty list means valid). The same
sentences go back to the model in the single retry, so they are written as instructions a model
can act on. Rules and thresholds:

* shape: a non-empty TL;DR of exactly one sentence; 3-7 takeaways (extractive summaries may have
  fewer, see `extractive.py`); no empty strings; no markdown;
* length caps (`Limits`): TL;DR ≤ 300 characters (≤ 120 for Chinese and Japanese), each takeaway
  ≤ 250 characters (≤ 120); minimum 15 / 6 characters for the TL;DR and 8 / 4 for a takeaway;
* language: `script.language_problems` on all the text together;
* repetition: a word repeated 4+ times in a row (5+ characters for CJK), a word 3-gram (CJK
  5-gram) appearing 3+ times in one field, a word 5-gram (CJK 6-gram) 4+ times overall, a zlib
  compression ratio above 2.6 over 200+ bytes, or two near-identical takeaways (similarity ≥ 0.9);
* chatter: a short list of assistant phrases (``Sure!``, ``Here is the summary``, ``As an AI``,
  ``I hope this helps``, ``希望以上``, ``以下是`` at the start, …), case-insensitive;
* links: any URL or bare domain that does not appear verbatim (case-insensitively) in the source
  text. Links are built from metadata in `bot/links.py`, never taken from the model.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.summaries.languages import is_compact_script
from bot.summaries.script import char_script, language_problems
from bot.summaries.sentences import split_sentences

MIN_TAKEAWAYS = 3
MAX_TAKEAWAYS = 7
MAX_COMPRESSION_RATIO = 2.6
MIN_BYTES_FOR_COMPRESSION_TEST = 200
NEAR_DUPLICATE_RATIO = 0.9


@dataclass(frozen=True, slots=True)
class Limits:
    """Character caps for one language."""

    tldr_max: int
    takeaway_max: int
    tldr_min: int
    takeaway_min: int


WIDE_LIMITS = Limits(tldr_max=300, takeaway_max=250, tldr_min=15, takeaway_min=8)
COMPACT_LIMITS = Limits(tldr_max=120, takeaway_max=120, tldr_min=6, takeaway_min=4)


def limits_for(language: str) -> Limits:
    return COMPACT_LIMITS if is_compact_script(language) else WIDE_LIMITS


# Assistant chatter. Anchored patterns only match at the start of a field.
_CHATTER_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(sure|certainly|of course|absolutely|okay|ok)\b\s*[!,.:]",
        r"^here(?:'s| is| are)\b",
        r"\bhere (?:is|are) (?:the|a|your)\b[^.]*\b(summary|takeaways|tl;?dr|json)\b",
        r"\bas an (?:ai|artificial intelligence|language model)\b",
        r"\bi(?: am|'m) (?:an|a) (?:ai|language model|assistant)\b",
        r"\b(?:i|we) hope (?:this|that|it|these) (?:helps|meets|is helpful|answers)",
        r"\blet me know\b",
        r"\bfeel free to\b",
        r"\bhappy to help\b",
        r"\b(?:i|we) (?:cannot|can't|am unable to|are unable to) (?:help|assist|provide|comply)",
        r"\byour requirements\b",
        r"希望(?:以上|这|这些|本|我的|对您)",
        r"如有(?:其他|任何|更多)?(?:问题|疑问|需要)",
        r"如果您?(?:还)?有(?:其他|任何|更多)",
        r"^以下是",
        r"^(?:好的|当然|没问题)[，,！!。]",
        r"作为(?:一个)?(?:AI|人工智能|语言模型)",
        r"抱歉",
        r"请告诉我",
        r"^(?:はい|もちろん)[、。！!]",
    )
)

# http(s) and www links, and bare domains such as "github.com/foo" or "example.ai".
# ASCII only: in Chinese text a link is often followed directly by Han characters.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%()]"
_URLISH_RE = re.compile(
    rf"(?:https?://|www\.){_URL_CHARS}+"
    r"|(?<![A-Za-z0-9@.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\."
    r"(?:com|org|net|io|ai|edu|gov|dev|app|co|me|info|xyz|ly|to|cn|uk|de|fr|jp|ru|page|site|tech)"
    rf"(?![A-Za-z0-9-])(?:/{_URL_CHARS}*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?)]}'\"”’"
_MARKDOWN_RE = re.compile(r"\*\*|__|^#{1,6}\s|^\s*[-*•]\s|^\s*\d+[.)]\s|\[[^\]]+\]\([^)]+\)")
_LIST_MARKER_RE = re.compile(r"^\s*(?:[-*•·]\s+|\d{1,2}[.)、]\s+|\d{1,2}、)")
_LABEL_RE = re.compile(r"^(?:tl;?dr|summary|takeaway|key takeaway)\s*\d*\s*[:：]\s*", re.IGNORECASE)
_WORD_RE = re.compile(r"[^\W_]+")


def normalize_field(text: str) -> str:
    """Trim, collapse whitespace; drop a leading list marker, label ("TL;DR:") or quotes.

    These are harmless formatting habits; fixing them beats spending a retry on them.
    """
    text = " ".join(text.split())
    text = _LABEL_RE.sub("", _LIST_MARKER_RE.sub("", text))
    if len(text) >= 2 and text[0] in '"“「' and text[-1] in '"”」':
        text = text[1:-1].strip()
    return text


def validate_summary(
    tldr: str,
    takeaways: Sequence[str],
    *,
    language: str,
    source_text: str,
    min_takeaways: int = MIN_TAKEAWAYS,
) -> list[str]:
    """Every problem found in one summary; empty when it may be stored and shown."""
    limits = limits_for(language)
    problems: list[str] = []
    problems += _shape_problems(tldr, takeaways, limits, min_takeaways)
    fields = [tldr, *takeaways]
    text = "\n".join(f for f in fields if f.strip())
    if text.strip():
        problems += language_problems(text, language)
        problems += repetition_problems(fields)
        problems += chatter_problems(fields)
        problems += link_problems(text, source_text)
    return problems


def _shape_problems(
    tldr: str, takeaways: Sequence[str], limits: Limits, min_takeaways: int
) -> list[str]:
    problems: list[str] = []
    if not tldr.strip():
        problems.append("the TL;DR is empty")
    else:
        if len(tldr) > limits.tldr_max:
            problems.append(
                f"the TL;DR is {len(tldr)} characters long; keep it under {limits.tldr_max}"
            )
        elif len(tldr) < limits.tldr_min:
            problems.append("the TL;DR is too short to say anything; write one full sentence")
        n = len(split_sentences(tldr))
        if n > 1:
            problems.append(f"the TL;DR has {n} sentences; it must be exactly one sentence")
    if not min_takeaways <= len(takeaways) <= MAX_TAKEAWAYS:
        problems.append(
            f"there are {len(takeaways)} takeaways; give between {MIN_TAKEAWAYS} and"
            f" {MAX_TAKEAWAYS}"
        )
    for i, item in enumerate(takeaways, 1):
        if not item.strip():
            problems.append(f"takeaway {i} is empty")
        elif len(item) > limits.takeaway_max:
            problems.append(
                f"takeaway {i} is {len(item)} characters long; keep each under"
                f" {limits.takeaway_max}"
            )
        elif len(item) < limits.takeaway_min:
            problems.append(f"takeaway {i} is too short to be informative")
    for i, field in enumerate([tldr, *takeaways]):
        if _MARKDOWN_RE.search(field):
            where = "the TL;DR" if i == 0 else f"takeaway {i}"
            problems.append(f"{where} contains markdown or list formatting; use plain text")
    return problems


def _units(text: str) -> list[str]:
    """Words, except that Chinese and Japanese characters count one by one."""
    units: list[str] = []
    for word in _WORD_RE.findall(text.lower()):
        if any(char_script(c) in {"han", "kana"} for c in word):
            units.extend(word)
        else:
            units.append(word)
    return units


def _ngram_counts(units: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(units[i : i + n]) for i in range(len(units) - n + 1))


def _is_cjk(units: list[str]) -> bool:
    return sum(len(u) == 1 and char_script(u) in {"han", "kana"} for u in units) > len(units) / 2


def repetition_problems(fields: Sequence[str]) -> list[str]:
    """Loops ("the model the model the model…") and duplicated takeaways."""
    problems: list[str] = []
    all_units: list[str] = []
    for field in fields:
        units = _units(field)
        all_units += units
        cjk = _is_cjk(units)
        run_limit, n = (5, 5) if cjk else (4, 3)
        if _longest_run(units) >= run_limit or any(
            c >= 3 for c in _ngram_counts(units, n).values()
        ):
            problems.append(f"the text repeats itself: {_shorten(field)!r}")
    cjk = _is_cjk(all_units)
    n = 6 if cjk else 5
    if not problems and any(c >= 4 for c in _ngram_counts(all_units, n).values()):
        problems.append("the same phrase is repeated many times across the summary")
    joined = "\n".join(fields).encode()
    if not problems and len(joined) >= MIN_BYTES_FOR_COMPRESSION_TEST:
        ratio = len(joined) / len(zlib.compress(joined))
        if ratio > MAX_COMPRESSION_RATIO:
            problems.append("the summary is highly repetitive")
    keys = [" ".join(_units(f)) for f in fields[1:]]
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if keys[i] and SequenceMatcher(None, keys[i], keys[j]).ratio() >= NEAR_DUPLICATE_RATIO:
                problems.append(f"takeaways {i + 1} and {j + 1} say the same thing")
    return problems


def _longest_run(units: list[str]) -> int:
    best = run = 0
    prev: str | None = None
    for u in units:
        run = run + 1 if u == prev else 1
        prev = u
        best = max(best, run)
    return best


def chatter_problems(fields: Sequence[str]) -> list[str]:
    """Phrases addressed to the reader as an assistant, not about the paper."""
    for field in fields:
        for pattern in _CHATTER_PATTERNS:
            m = pattern.search(field)
            if m:
                return [
                    f"remove conversational phrases such as {m.group(0)!r};"
                    " output only the summary content"
                ]
    return []


def find_links(text: str) -> list[str]:
    """URL-like substrings, without the punctuation that follows them in prose."""
    return [m.group(0).rstrip(_TRAILING_PUNCT) for m in _URLISH_RE.finditer(text)]


def link_problems(text: str, source_text: str) -> list[str]:
    """Links the model wrote that are not in the paper's own text (i.e. invented)."""
    source = source_text.lower()
    invented = [u for u in find_links(text) if u and u.lower() not in source]
    if invented:
        return [f"do not include links or domains ({', '.join(invented[:3])})"]
    return []


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
