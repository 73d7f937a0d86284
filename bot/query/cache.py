"""`PreparedPapers`: a bounded, least-recently-used cache of prepared papers.

Code that tests topics one paper at a time (`Query.matches_text`, `TopicIndex`) against the
same recent papers over and over pays to prepare each paper once and keep it. (Digests and the
`/subscribe` preview no longer do: `bot.digest` matches a window's papers as one
`bot.query.batch.PaperBatch`; `bot.digest.select_entries`, the one-query reference its tests
compare against, still takes this cache.) The cache is bounded by design: it holds at
most `limit` papers and, when full, forgets the one used longest ago, instead of emptying
itself all at once. A single pass over more papers than the limit (a week of listings)
still misses on most of them, as any LRU does under such a scan.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.models import Paper
from bot.query.prepared import PreparedPaper, prepare, title_only

# About 61 KiB per entry for a paper of a 200-word abstract, with its title-only form (measured
# with tracemalloc by `bench.bench_matching`); an `abs:` term adds the abstract's own bag, up
# to about 85 KiB. So the default bound keeps the cache near 60 MiB and under 85 MiB at worst.
# That is a day or two of new papers in the categories most bots follow; a longer preview
# re-prepares the papers it does not hold (about 0.35 ms each).
DEFAULT_LIMIT = 1_000


class PreparedPapers:
    """Prepared papers by (id, version): a new version is a new entry."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"the cache must hold at least one paper, not {limit}")
        self.limit = limit
        self._cache: OrderedDict[tuple[str, int], tuple[PreparedPaper, PreparedPaper]]
        self._cache = OrderedDict()

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, paper: Paper) -> tuple[PreparedPaper, PreparedPaper]:
        """The paper prepared whole, and its title alone (title matches are listed first)."""
        key = (paper.id, paper.version)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        whole = prepare(paper)
        hit = self._cache[key] = (whole, title_only(whole))
        if len(self._cache) > self.limit:
            self._cache.popitem(last=False)
        return hit
