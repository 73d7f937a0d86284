"""The values `cat:` accepts, and their canonical spelling.

arXiv category names are case-sensitive on arXiv's side ("cs.CV", "physics.optics"), but
people type "cs.cv"; matching is case-insensitive and the canonical form restores arXiv's usual
casing so that storage keys and descriptions look familiar.
"""

from __future__ import annotations

import re

# arXiv archives (the part before the dot). Mirrors bot.config.ARCHIVES, which is not imported
# so that the query language does not pull in the settings machinery; a test keeps them equal.
ARCHIVES = frozenset(
    {
        "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph",
        "hep-th", "math", "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin",
        "quant-ph", "stat",
    }
)  # fmt: skip

_CATEGORY_RE = re.compile(
    r"^(?P<archive>[A-Za-z][A-Za-z-]*)(?:\.(?:(?P<star>\*)|(?P<sub>[A-Za-z][A-Za-z-]*)))?$"
)


class CategoryError(ValueError):
    """The text is not a category pattern; the message is written for a person."""


def canonical_category(text: str) -> str:
    """`cs.cv` -> `cs.CV`, `cs` and `CS.*` -> `cs.*`; raise CategoryError when malformed."""
    m = _CATEGORY_RE.match(text.strip())
    if not m:
        raise CategoryError(
            f"{text[:40]!r} is not an arXiv category (use e.g. cat:cs.CV, cat:stat.ML or cat:cs.*)"
        )
    archive = m.group("archive").lower()
    if archive not in ARCHIVES:
        raise CategoryError(
            f"{archive!r} is not an arXiv archive (known: {', '.join(sorted(ARCHIVES))})"
        )
    sub = m.group("sub")
    if sub is None:
        return f"{archive}.*"
    # Subject classes of two letters are upper case on arXiv (cs.CV, math.AG, q-bio.NC);
    # longer ones are lower case (physics.optics, cond-mat.mes-hall).
    return f"{archive}.{sub.upper() if len(sub) <= 2 else sub.lower()}"


def paper_category_keys(categories: tuple[str, ...], primary: str | None) -> frozenset[str]:
    """Lower-cased categories of a paper plus an `archive.*` entry for each."""
    keys: set[str] = set()
    for cat in (*categories, *((primary,) if primary else ())):
        low = cat.strip().lower()
        if low:
            keys.add(low)
            keys.add(low.split(".", 1)[0] + ".*")
    return frozenset(keys)
