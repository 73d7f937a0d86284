"""The arXiv source layer: identifiers, the announcement calendar, listing feeds and the API.

Import `ArxivSource` from here; the submodules hold the pieces:

* `bot.source.ids` — `ArxivId`, `parse_arxiv_id`, `parse_arxiv_ids`;
* `bot.source.calendar` — listing dates and submission windows (US Eastern time);
* `bot.source.http` — the process-wide throttle and the retrying `ArxivSession`;
* `bot.source.rss` — `parse_listing` for the RSS/Atom listing feeds, `FeedError`;
* `bot.source.api` — `ArxivSource`, the async facade used by the rest of Paperboy.
"""

from __future__ import annotations

from bot.source.api import ArxivSource
from bot.source.ids import ArxivId, parse_arxiv_id, parse_arxiv_ids
from bot.source.rss import FeedError

__all__ = ["ArxivId", "ArxivSource", "FeedError", "parse_arxiv_id", "parse_arxiv_ids"]
