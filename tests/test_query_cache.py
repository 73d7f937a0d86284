"""Prepared papers: the bounded LRU cache, the title-only form, and runs kept out of bags."""

from __future__ import annotations

import dataclasses
import random
from itertools import chain

import pytest

from bot.models import Paper
from bot.query import parse_query, prepare
from bot.query.cache import DEFAULT_LIMIT, PreparedPapers
from bot.query.prepared import BAG_RUN, has_run, is_run, split_runs, title_only, windows
from bot.query.text import intern_all, stem_all
from tests.test_query_index import random_paper


def paper(i: int, version: int = 1, title: str = "Talking heads", abstract: str = "") -> Paper:
    return Paper(id=f"2501.{i:05d}", version=version, title=title, abstract=abstract)


def test_cache_keeps_at_most_limit_papers_and_forgets_the_least_recently_used() -> None:
    cache = PreparedPapers(limit=3)
    first = cache.get(paper(1))
    cache.get(paper(2))
    cache.get(paper(3))
    assert cache.get(paper(1)) is first  # a hit, which makes paper 1 the most recent
    cache.get(paper(4))  # evicts paper 2, the least recently used
    assert len(cache) == 3
    assert cache.get(paper(1)) is first
    assert cache.get(paper(2)) is not None and len(cache) == 3  # prepared again, evicting 3
    for i in range(100):
        cache.get(paper(i))
    assert len(cache) == 3


def test_cache_entry_per_version_and_default_bound() -> None:
    cache = PreparedPapers()
    assert cache.limit == DEFAULT_LIMIT
    old = cache.get(paper(1, version=1, title="Lip sync"))
    new = cache.get(paper(1, version=2, title="Talking face"))
    assert old is not new and len(cache) == 2
    with pytest.raises(ValueError):
        PreparedPapers(limit=0)


def test_title_only_form_equals_preparing_without_the_abstract() -> None:
    rng = random.Random(3)
    for i in range(60):
        p = random_paper(rng, i)
        whole = prepare(p)
        assert title_only(whole) == prepare(dataclasses.replace(p, abstract=""))
    cache = PreparedPapers()
    p = paper(9, title="Talking heads", abstract="We study lip sync.")
    whole, title = cache.get(p)
    assert parse_query("lipsync").matches_text(whole)
    assert not parse_query("lipsync").matches_text(title)
    assert parse_query("ti:head").matches_text(title)


def test_runs_are_found_in_the_line_exactly_as_a_bag_of_all_runs_would() -> None:
    rng = random.Random(11)
    for i in range(80):
        field = prepare(random_paper(rng, i)).abstract
        stems = field.line.split()
        # The bag as it was before runs moved out: every run of up to four stems, plus the
        # stemmed raw tokens (tokens, joined pairs and CamelCase parts).
        full = set(chain(stem_all(field.raw), *(windows(stems, n) for n in range(1, 5))))
        absent = {" ".join(rng.sample(stems, min(len(stems), 3))) for _ in range(20)}
        for entry in full | absent:
            words, runs = split_runs([entry])
            found = bool(words & field.bag) or has_run(runs, field.bag, (field.line,))
            assert found is (entry in full), entry
        assert not any(is_run(e) for e in field.bag)
        assert all(e.count(" ") < BAG_RUN for e in field.bag)
        assert field.seq == tuple(stems)


def test_split_runs_and_interning() -> None:
    words, runs = split_runs(["diffusion", "lip sync", "neural radiance field"])
    assert words == {"diffusion", "lip sync"}
    assert runs == ((frozenset({"neural radiance", "radiance field"}), " neural radiance field "),)
    a, b = intern_all(["".join(["tal", "king"]), "".join(["talk", "ing"])])
    assert a == b == "talking" and a is b
