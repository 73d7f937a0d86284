"""Faithfulness of numbers: every number a review states must be in the text it was given.

`unsupported_numbers(review_text, source_text)` returns the numbers of the review that the
source does not contain, as written in the review. Numbers are compared by *value*, so format
differences do not count:

* ``3.2 %``, ``3.2%`` and ``3.20%`` are 3.2; ``10,000``, ``10000``, ``10k`` and ``10K`` are
  10000 (k, M, B and "million"/"billion" multiply); ``2x``, ``2×`` and ``2-fold`` are 2;
  ``3,5`` (a comma before one or two digits, as German or French write decimals) is 3.5;
* a percentage may appear in the source as a fraction and the other way round (91% and 0.91);
* small whole numbers (0-12) also match their English word in the source ("two stages").

What counts as a number in a review: digits not glued to letters, so names like ``GPT-4``,
``A100``, ``ResNet-50``, ``3D``, ``FP16`` or ``T5`` are names, not claims. Signs are ignored
(``-0.5`` is checked as 0.5). The source is read leniently: every digit run counts, glued or not.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["number_values", "numbers_in", "unsupported_numbers"]

_MULTIPLIERS = {
    "k": Decimal(1000),
    "m": Decimal(10**6),
    "b": Decimal(10**9),
    "thousand": Decimal(1000),
    "million": Decimal(10**6),
    "billion": Decimal(10**9),
}
_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve".split()  # noqa: SIM905
)

# A number in a review: not after a letter, digit, dot or "letter-" (GPT-4); not followed by a
# letter unless that is a unit we understand (%, x, k, M, B, words).
_REVIEW_NUMBER_RE = re.compile(
    r"(?<![A-Za-z0-9_.])(?<![A-Za-z]-)"
    r"(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|\.\d+)"
    r"(?P<unit>\s?%|\s?(?:x|×)(?![A-Za-z])|-fold\b"
    r"|\s?(?:[kK]|M|B)(?![A-Za-z])|\s(?:thousand|million|billion)\b)?"
    r"(?![A-Za-z0-9])",
)
# Anything number-like in the source, glued to letters or not.
_SOURCE_NUMBER_RE = re.compile(
    r"(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|\.\d+)"
    r"(?P<unit>\s?(?:[kK]|M|B)(?![A-Za-z])|\s(?:thousand|million|billion)\b)?"
)


def _value(num: str, unit: str | None) -> Decimal | None:
    text = num
    if re.fullmatch(r"\d+(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")  # thousands separators
    elif "," in text:
        text = text.replace(",", ".")  # a decimal comma: "3,5"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    key = (unit or "").strip().lower()
    if key in _MULTIPLIERS:
        value *= _MULTIPLIERS[key]
    return value.normalize()


def numbers_in(text: str) -> list[tuple[str, Decimal]]:
    """The numbers a review states: (as written, value), in order."""
    found: list[tuple[str, Decimal]] = []
    for m in _REVIEW_NUMBER_RE.finditer(text):
        value = _value(m.group("num"), m.group("unit"))
        if value is not None:
            found.append((m.group(0).strip(), value))
    return found


def number_values(source_text: str) -> frozenset[Decimal]:
    """Every numeric value the source states (plain and with its multiplier applied)."""
    values: set[Decimal] = set()
    for m in _SOURCE_NUMBER_RE.finditer(source_text):
        for unit in (None, m.group("unit")):
            value = _value(m.group("num"), unit)
            if value is not None:
                values.add(value)
    lowered = source_text.lower()
    for n, word in enumerate(_SMALL):
        if re.search(rf"\b{word}\b", lowered):
            values.add(Decimal(n))
    return frozenset(values)


def _supported(value: Decimal, known: frozenset[Decimal]) -> bool:
    if value in known:
        return True
    # 91% versus 0.91, and 0.91 versus 91%.
    return (value / 100).normalize() in known or (value * 100).normalize() in known


def unsupported_numbers(review_text: str, source_text: str) -> list[str]:
    """The review's numbers (as written, deduplicated) whose value is not in the source."""
    known = number_values(source_text)
    missing: list[str] = []
    for written, value in numbers_in(review_text):
        if not _supported(value, known) and written not in missing:
            missing.append(written)
    return missing
