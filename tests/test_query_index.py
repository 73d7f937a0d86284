"""TopicIndex: always the same answer as testing every topic, while testing far fewer."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.errors import InvalidQuery
from bot.models import Paper
from bot.query import PreparedPaper, Query, TopicIndex, parse_query, prepare

# A small vocabulary, so that random queries and papers share words and phrases often enough
# for matches (and near misses) to happen. It mixes plurals, hyphenated and joined forms,
# function words, CamelCase, diacritics and CJK.
_WORDS = [
    "talking", "head", "heads", "face", "lip", "sync", "lipsync", "lip-sync", "talker", "talk",
    "talks", "diffusion", "model", "models", "video", "generation", "neural", "radiance",
    "field", "fields", "real-time", "realtime", "real", "time", "zero-shot", "study", "studies",
    "process", "processes", "a", "the", "of", "in", "typical", "atypical", "survey", "CLIP",
    "TalkingHead", "naïve", "naive", "扩散", "模型", "GPT-4", "3D", "Gaussian", "splatting",
]  # fmt: skip
_NAMES = [
    "Geoffrey E. Hinton",
    "Sofia Müller",
    "Wei Zhang",
    "Zhang Wei",
    "Yann LeCun",
    "Łukasz Kaiser",
]
_CATEGORIES = ["cs.CV", "cs.CL", "cs.LG", "stat.ML", "eess.AS", "hep-th", "math.OC"]
_PUNCTUATION = [" ", " ", " ", ", ", ". ", "-", " (", ") ", ": "]
# Longer runs planted in papers and quoted in queries, so that long phrases (and their joined
# spellings) actually occur; random words alone would almost never line up.
_SNIPPETS = [
    "end to end speaker verification system",
    "real time neural radiance field rendering",
    "zero shot talking head video generation",
    "lip sync for talking face generation",
    "the talking head of a lip sync model",
    "fast 3D Gaussian splatting for real time view synthesis",
]


def _spelling(rng: random.Random, words: list[str]) -> str:
    """Write words as a paper or a user might: some pairs joined or hyphenated, plurals."""
    out = words[0]
    for word in words[1:]:
        if rng.random() < 0.15:
            word += "s"
        out += rng.choice([" ", " ", " ", "-", ""]) + word
    return out


def _snippet(rng: random.Random, min_words: int) -> list[str]:
    words = rng.choice(_SNIPPETS).split()
    start = rng.randint(0, len(words) - min_words)
    return words[start : rng.randint(start + min_words, len(words))]


def _text(rng: random.Random, n: int) -> str:
    parts = []
    for _ in range(n):
        if rng.random() < 0.08:
            parts.append(_spelling(rng, _snippet(rng, 2)))
        else:
            parts.append(rng.choice(_WORDS))
        parts.append(rng.choice(_PUNCTUATION))
    return "".join(parts)


def random_paper(rng: random.Random, i: int) -> Paper:
    cats = rng.sample(_CATEGORIES, rng.randint(1, 3))
    return Paper(
        id=f"2501.{i:05d}",
        version=1,
        title=_text(rng, rng.randint(3, 9)),
        abstract=_text(rng, rng.randint(10, 60)),
        authors=tuple(rng.sample(_NAMES, rng.randint(0, 3))),
        categories=tuple(cats),
        primary_category=cats[0],
    )


def _term(rng: random.Random, depth: int) -> str:
    kind = rng.random()
    if depth < 2 and kind < 0.15:
        op = rng.choice([" OR ", " ", " AND "])
        inner = op.join(_term(rng, depth + 1) for _ in range(rng.randint(2, 3)))
        field = rng.choice(["", "", "ti:", "abs:"])
        return f"{field}({inner})"
    if kind < 0.45:
        return rng.choice(["", "", "ti:", "abs:"]) + rng.choice(_WORDS)
    if kind < 0.55:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 6)))
        return rng.choice(["", "", "ti:", "abs:"]) + f'"{words}"'
    if kind < 0.70:
        phrase = _spelling(rng, _snippet(rng, 2))
        return rng.choice(["", "", "ti:", "abs:"]) + f'"{phrase}"'
    if kind < 0.78:
        word = rng.choice([w for w in _WORDS if len(w) >= 4 and w.isalpha()])
        return rng.choice(["", "ti:"]) + word[: rng.randint(3, len(word))] + "*"
    if kind < 0.88:
        name = rng.choice(_NAMES).split()
        if rng.random() < 0.4:
            return "au:" + rng.choice(name)
        if rng.random() < 0.2:
            part = max(name, key=len)
            return f"au:{part[: rng.randint(3, len(part))]}*"
        start = rng.randint(0, len(name) - 1)
        return f'au:"{" ".join(name[start : start + rng.randint(1, 3)])}"'
    cat = rng.choice(_CATEGORIES)
    return "cat:" + rng.choice([cat, cat.split(".")[0], cat.split(".")[0] + ".*"])


def random_query(rng: random.Random) -> str:
    terms = [_term(rng, 0) for _ in range(rng.randint(1, 4))]
    negate = rng.random() < 0.3
    parts = [
        (rng.choice(["-", "NOT "]) if negate and i > 0 and rng.random() < 0.5 else "") + t
        for i, t in enumerate(terms)
    ]
    return rng.choice([" ", " OR ", " AND "]).join(parts)


def _random_topics(rng: random.Random, count: int) -> dict[int, Query]:
    topics: dict[int, Query] = {}
    while len(topics) < count:
        try:
            topics[len(topics)] = parse_query(random_query(rng))
        except InvalidQuery:
            continue  # e.g. an OR whose every alternative is excluded
    return topics


def _naive(topics: dict[int, Query], paper: PreparedPaper) -> set[int]:
    return {key for key, query in topics.items() if query.matches_text(paper)}


def test_index_equals_naive_scan_on_random_queries_and_papers() -> None:
    rng = random.Random(1234)
    topics = _random_topics(rng, 600)
    papers = [prepare(random_paper(rng, i)) for i in range(250)]
    index: TopicIndex[int] = TopicIndex()
    for key, query in topics.items():
        index.add(key, query)
    total = 0
    for paper in papers:
        expected = _naive(topics, paper)
        assert index.match(paper) == expected, paper.id
        total += len(expected)
    # The comparison only means something if matches are neither absent nor universal.
    assert 0.01 < total / (len(topics) * len(papers)) < 0.5
    assert index.evaluations < len(topics) * len(papers)

    # And after removing half of the topics.
    for key in list(topics)[::2]:
        index.remove(key)
        del topics[key]
    assert len(index) == len(topics)
    for paper in papers[:80]:
        assert index.match(paper) == _naive(topics, paper)


def test_canonical_form_of_random_queries_round_trips() -> None:
    rng = random.Random(99)
    papers = [prepare(random_paper(rng, i)) for i in range(40)]
    for query in _random_topics(rng, 300).values():
        again = parse_query(query.canonical)
        assert again == query
        assert again.canonical == query.canonical
        assert [again.matches_text(p) for p in papers] == [query.matches_text(p) for p in papers]


def _fixture_papers(fixtures_dir: Path) -> list[Paper]:
    data = json.loads((fixtures_dir / "query" / "papers.json").read_text(encoding="utf-8"))
    return [
        Paper(
            id=item["id"],
            version=1,
            title=item["title"],
            abstract=item["abstract"],
            authors=tuple(item["authors"]),
            categories=tuple(item["categories"]),
            primary_category=item.get("primary_category"),
        )
        for item in data["papers"]
    ]


_TOPICS = {
    "talking": '"talking head" OR "talking face" OR "lip sync"',
    "talking-no-survey": '"talking head" -survey',
    "lipsync": "lipsync",
    "asr": '"speech recognition" cat:eess.AS',
    "hinton": 'au:"geoffrey hinton"',
    "initials": 'au:"g h"',  # only initials: no key can be derived, checked for every paper
    "wild": "talk*",
    "cv-only": "cat:cs.CV -cat:cs.RO",
    "game": 'ti:game (agent* OR "LLM agents")',
}


def test_index_on_real_abstracts(fixtures_dir: Path) -> None:
    papers = _fixture_papers(fixtures_dir)
    topics = {key: parse_query(text) for key, text in _TOPICS.items()}
    index: TopicIndex[str] = TopicIndex()
    for key, query in topics.items():
        index.add(key, query)
    result = index.match_many(papers)
    expected = {
        p.id: found for p in papers if (found := {k for k, q in topics.items() if q.matches(p)})
    }
    assert result == expected
    assert "talking" in result["2211.12194"]
    assert "talking-no-survey" not in result["2406.66666"]
    assert "game" in result["2410.22222"]
    assert "hinton" in result["2405.55555"]
    assert index.evaluations < len(topics) * len(papers)


def test_add_replace_remove_and_len() -> None:
    index: TopicIndex[tuple[int, str]] = TopicIndex()
    lip = paper_with("Lip-sync for dubbing")
    index.add((1, "a"), parse_query("lipsync"))
    index.add((2, "b"), parse_query("diffusion"))
    assert len(index) == 2
    assert (1, "a") in index
    assert index.match(lip) == {(1, "a")}
    index.add((1, "a"), parse_query("diffusion"))  # replaces, does not duplicate
    assert len(index) == 2
    assert index.query((1, "a")) == parse_query("diffusion")
    assert index.match(lip) == set()
    assert index.match(paper_with("Diffusion models")) == {(1, "a"), (2, "b")}
    index.remove((2, "b"))
    assert index.match(paper_with("Diffusion models")) == {(1, "a")}
    assert sorted(index) == [(1, "a")]
    try:
        index.remove((2, "b"))
    except KeyError:
        pass
    else:
        raise AssertionError("removing an unknown key must raise KeyError")


def test_removing_everything_leaves_no_postings() -> None:
    rng = random.Random(5)
    topics = _random_topics(rng, 200)
    index: TopicIndex[int] = TopicIndex()
    for key, query in topics.items():
        index.add(key, query)
    for key in topics:
        index.remove(key)
    assert len(index) == 0
    assert index.match(random_paper(rng, 0)) == set()
    assert index._postings == {} and index._keyset == set() and index._always == set()
    assert index._runs == {} and index._run_heads == set() and index._run_uses == {}


def test_match_many_keys_by_paper_id_and_skips_unmatched() -> None:
    index: TopicIndex[str] = TopicIndex()
    index.add("t", parse_query("diffusion"))
    papers = [paper_with("Diffusion", "2501.1"), paper_with("Flow", "2501.2")]
    assert index.match_many(papers) == {"2501.1": {"t"}}
    assert index.match_many(prepare(p) for p in papers) == {"2501.1": {"t"}}


def paper_with(title: str, paper_id: str = "2501.00001") -> Paper:
    return Paper(id=paper_id, version=1, title=title, abstract="")


def test_benchmark_script_runs_and_agrees_with_a_naive_scan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.bench_matching import main

    # Small sizes: this checks the script works and its index agrees with a naive scan
    # (it exits with an error otherwise); no timing is asserted.
    main(["--topics", "300", "--papers", "40", "--repeat", "1", "--check", "40"])
    out = capsys.readouterr().out
    assert "verified against a naive scan on 40 papers: identical" in out
    assert "full evaluations" in out


def test_topics_decided_by_lookups_are_never_compiled() -> None:
    index: TopicIndex[str] = TopicIndex()
    word, phrase = parse_query("diffusion"), parse_query('au:"g h"')
    index.add("word", word)
    index.add("initials", phrase)  # no usable keys: evaluated against every paper
    assert index.match(paper_with("Diffusion models")) == {"word"}
    assert "matcher" not in word.__dict__  # a key lookup proved it
    assert "matcher" in phrase.__dict__
