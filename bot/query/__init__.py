"""Topic queries: the query language users type, and an index matching papers to many topics.

`parse_query` turns text such as ``"talking head" OR "lip sync" cat:cs.CV -survey`` into a
`Query`; `prepare` tokenises a paper once; `TopicIndex` finds every topic a paper matches
without testing each one; `BatchMatcher` (`bot.query.batch`) matches many topics against a
batch of papers at once; `bot.query.cache.PreparedPapers` keeps recently prepared papers.
"""

from bot.query.batch import BatchMatcher, match_batch
from bot.query.index import TopicIndex
from bot.query.prepared import PreparedPaper, prepare
from bot.query.query import Query, parse_query, query_warnings

__all__ = [
    "BatchMatcher",
    "PreparedPaper",
    "Query",
    "TopicIndex",
    "match_batch",
    "parse_query",
    "prepare",
    "query_warnings",
]
