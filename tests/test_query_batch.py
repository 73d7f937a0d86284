"""BatchMatcher: always the same answer as `Query.matches_text` of each prepared paper."""

from __future__ import annotations

import dataclasses
import gc
import random
from pathlib import Path

from bot.query import PreparedPaper, Query, parse_query, prepare
from bot.query.batch import BatchMatcher, iter_bits, match_batch, positions
from bot.query.prepared import title_only
from tests.test_query_index import _TOPICS, _fixture_papers, _random_topics, random_paper


def _naive(topics: dict[int, Query], prepared: list[PreparedPaper]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for key, query in topics.items():
        hits = {i for i, p in enumerate(prepared) if query.matches_text(p)}
        if hits:
            found[key] = hits
    return found


def test_batch_equals_naive_scan_on_random_queries_and_papers() -> None:
    for seed in (1234, 77):
        rng = random.Random(seed)
        topics = _random_topics(rng, 500)
        papers = [random_paper(rng, i) for i in range(230)]  # several 64-bit words of bits
        prepared = [prepare(p) for p in papers]
        matcher: BatchMatcher[int] = BatchMatcher(topics)
        batch = matcher.prepare(papers)
        expected = _naive(topics, prepared)
        assert matcher.match(batch) == expected
        total = sum(map(len, expected.values()))
        assert 0.01 < total / (len(topics) * len(papers)) < 0.5
        titles = _naive(topics, [title_only(p) for p in prepared])
        assert matcher.match(batch, title_only=True) == titles
        assert titles != expected


def test_match_batch_on_real_abstracts(fixtures_dir: Path) -> None:
    papers = _fixture_papers(fixtures_dir)
    topics = {key: parse_query(text) for key, text in _TOPICS.items()}
    found = match_batch(topics, papers)
    for key, query in topics.items():
        assert found.get(key, set()) == {i for i, p in enumerate(papers) if query.matches(p)}
    ids = {papers[i].id for i in found["talking"]}
    assert "2211.12194" in ids


def test_empty_batch_and_no_topics() -> None:
    matcher: BatchMatcher[str] = BatchMatcher({"t": parse_query("diffusion")})
    assert matcher.match(matcher.prepare([])) == {}
    assert len(matcher) == 1
    paper = random_paper(random.Random(1), 0)
    assert match_batch({}, [paper]) == {}


def test_equal_topics_get_their_own_sets() -> None:
    query = parse_query("diffusion")
    papers = [random_paper(random.Random(3), i) for i in range(5)]
    papers = [*papers, *(dataclasses.replace(p, title="Diffusion") for p in papers)]
    found = match_batch({"a": query, "b": parse_query("diffusion")}, papers)
    assert found["a"] == found["b"] and found["a"] is not found["b"]


def test_bitset_positions() -> None:
    rng = random.Random(0)
    for size in (0, 1, 63, 64, 65, 700, 3000):
        for density in (0.0, 0.01, 0.3, 0.9, 1.0):
            wanted = [i for i in range(size) if rng.random() < density]
            bits = sum(1 << i for i in wanted)
            assert positions(bits) == wanted
            assert list(iter_bits(bits)) == wanted


def test_collector_state_is_restored() -> None:
    topics = {1: parse_query("diffusion")}
    assert gc.isenabled()
    match_batch(topics, [random_paper(random.Random(2), 0)])
    assert gc.isenabled()
    gc.disable()
    try:
        match_batch(topics, [random_paper(random.Random(2), 0)])
        assert not gc.isenabled()
    finally:
        gc.enable()
