"""What a query matches: normalisation, plurals, joined forms, phrases, fields, real abstracts."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bot.models import Paper
from bot.query import parse_query, prepare
from bot.query.nodes import Terms
from bot.query.prepared import FieldText
from bot.query.text import normalize, stem, tokenize


def paper(
    title: str = "",
    abstract: str = "",
    authors: tuple[str, ...] = (),
    categories: tuple[str, ...] = ("cs.CV",),
    primary: str | None = None,
) -> Paper:
    return Paper(
        id="2501.00001",
        version=1,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=categories,
        primary_category=primary,
    )


def matches(query: str, **fields: Any) -> bool:
    parsed = parse_query(query)
    p = paper(**fields)
    result = parsed.matches(p)
    assert parsed.matches_text(prepare(p)) is result  # both entry points agree
    return result


# --- text normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("heads", "head"),
        ("studies", "study"),
        ("processes", "process"),
        ("classes", "class"),
        ("patches", "patch"),
        ("boxes", "box"),
        ("gans", "gan"),
        ("llms", "llm"),
        ("analysis", "analysis"),
        ("corpus", "corpus"),
        ("news", "news"),
        ("talking", "talking"),  # never -ing stripping
        ("talker", "talker"),
        ("talks", "talk"),
    ],
)
def test_stemmer(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize(
    ("singular", "plural"),
    [("movie", "movies"), ("cache", "caches"), ("echo", "echoes"), ("shoe", "shoes")],
)
def test_singular_and_plural_share_a_stem(singular: str, plural: str) -> None:
    assert stem(singular) == stem(plural)


def test_stemmer_is_idempotent_over_a_vocabulary() -> None:
    words = tokenize(
        "studies processes classes movies caches echoes heroes boxes patches series species "
        "analyses matrices gaussians diffusions transformers ties lies axes buses losses"
    )
    for word in words:
        assert stem(stem(word)) == stem(word)


def test_normalize_folds_case_width_and_diacritics() -> None:
    assert normalize("Müller ŁUKASZ Ørsted naïve ＡＢＣ ﬁne Straße") == (
        "muller lukasz orsted naive abc fine strasse"
    )


def test_tokenize_splits_on_punctuation_and_drops_possessive() -> None:
    assert tokenize("Hinton's Talking-Head (v2), e.g. 3D/4D") == [
        "hinton", "talking", "head", "v2", "e", "g", "3d", "4d",
    ]  # fmt: skip


# --- words, plurals, hyphens, joined forms --------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Talking-Head Animation",
        "Neural talking heads",
        "A head that keeps talking",  # bare words need not be adjacent
        "TalkingHead-1KH: a dataset",  # CamelCase parts
    ],
)
def test_bare_words_match_variants(title: str) -> None:
    assert matches("talking head", title=title)


@pytest.mark.parametrize("title", ["Talking to machines", "Multi-talker speech", "Head pose"])
def test_bare_words_all_required(title: str) -> None:
    assert not matches("talking head", title=title)


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Talks and talk", True), ("Talking robots", False), ("A talker", False)],
)
def test_talk_does_not_match_talking_or_talker(title: str, expected: bool) -> None:
    assert matches("talk", title=title) is expected


def test_case_insensitive_and_plural_both_ways() -> None:
    assert matches("STUDIES", abstract="A study of x")
    assert matches("study", abstract="Case Studies of x")
    assert matches("process", abstract="Gaussian processes")


@pytest.mark.parametrize("abstract", ["lip sync", "lip-sync", "lipsync", "Lip-Syncs", "LipSync"])
@pytest.mark.parametrize("query", ['"lip sync"', "lip-sync", "lipsync"])
def test_joined_forms_match_each_other(query: str, abstract: str) -> None:
    assert matches(query, abstract=f"We improve {abstract} quality.")


def test_joining_never_involves_function_words() -> None:
    assert not matches("atypical", abstract="a typical example")
    assert not matches("insight", abstract="nothing in sight")
    assert matches("atypical", abstract="an atypical example")


def test_joined_word_needs_adjacent_parts() -> None:
    assert not matches("lipsync", abstract="the lip is in sync")


def test_diacritics_fold_in_text() -> None:
    assert matches("naive", abstract="a naïve baseline")
    assert matches("naïve", abstract="a naive baseline")


# --- phrases ------------------------------------------------------------------------------------


def test_phrase_needs_consecutive_tokens() -> None:
    assert matches('"talking head"', title="Talking-Head Video")
    assert matches('"talking head"', title="neural talking heads")
    assert not matches('"talking head"', title="A head that keeps talking")
    assert not matches('"talking head"', title="talking about the head")


def test_phrase_crosses_punctuation_but_not_fields() -> None:
    assert matches('"talking head"', abstract="Talking, head-on comparisons")
    assert not matches('"talking head"', title="We keep talking", abstract="head first")


@pytest.mark.parametrize(
    "text",
    [
        "real-time neural radiance fields",
        "realtime neural radiance fields",
        "real time neuralradiance field",
        "realtimeneuralradiancefield",
    ],
)
def test_long_phrase_with_joined_parts(text: str) -> None:
    assert matches('"real-time neural radiance field"', abstract=f"We study {text} here.")


def test_long_phrase_rejects_a_gap() -> None:
    query = '"real-time neural radiance field"'
    assert not matches(query, abstract="real-time neural and radiance field")
    assert not matches(query, abstract="field radiance neural real-time")


def _reference_phrase(stems: tuple[str, ...], text: FieldText) -> bool:
    """The phrase rule, spelled out naively: any way of writing it, anywhere in the field.

    Each paper token stands for one part, or for two adjacent parts written as one word; or
    the whole phrase is written as one word (then it matches like a bare word would).
    """
    if stem("".join(stems)) in text.bag:
        return True
    # Each way is a tuple of runs of one or two parts; extend partial ways until complete.
    ways: list[tuple[tuple[str, ...], ...]] = [()]
    complete: list[tuple[str, ...]] = []
    while ways:
        way = ways.pop()
        used = sum(len(part_tokens) for part_tokens in way)
        if used == len(stems):
            complete.append(tuple(t[0] if len(t) == 1 else stem("".join(t)) for t in way))
            continue
        for length in (1, 2):
            if used + length <= len(stems):
                ways.append((*way, stems[used : used + length]))
    seq = text.seq
    return any(
        seq[i : i + len(way)] == way for way in complete for i in range(len(seq) - len(way) + 1)
    )


_SNIPPETS = [
    "end to end speaker verification system",
    "real time neural radiance field rendering for talking head video",
    "fast 3D Gaussian splatting for real time novel view synthesis",
    "zero shot talking face video generation model",
]


def _spelling(rng: random.Random, words: list[str]) -> str:
    out = words[0]
    for word in words[1:]:
        out += rng.choice([" ", " ", "-", "", ", "]) + word + ("s" if rng.random() < 0.1 else "")
    return out


def test_phrases_agree_with_a_naive_reference() -> None:
    rng = random.Random(77)
    checked = found = 0
    for _ in range(300):
        words = rng.choice(_SNIPPETS).split()
        start = rng.randint(0, len(words) - 2)
        stop = rng.randint(start + 2, min(len(words), start + 10))
        query = parse_query(f'"{_spelling(rng, words[start:stop])}"')
        assert isinstance(query.root, Terms)
        stems = query.root.tokens
        for _ in range(10):
            filler = rng.sample(words, k=len(words))
            text = " ".join(filler[:4]) + " " + _spelling(rng, words) + " " + " ".join(filler[4:])
            prepared = prepare(paper(abstract=text))
            expected = _reference_phrase(stems, prepared.abstract)
            assert query.matches_text(prepared) is expected, (query.text, text)
            checked += 1
            found += expected
    assert 0.2 < found / checked < 0.9  # both outcomes must be exercised


def test_cjk_phrase() -> None:
    assert matches("扩散模型", abstract="我们提出一种新的扩散模型方法")
    assert not matches("扩散模型", abstract="模型扩散")


def test_latex_formatting_is_ignored() -> None:
    assert matches('"talking head"', title=r"\textit{Talking} \emph{Heads} in the wild")


# --- operators -----------------------------------------------------------------------------------


def test_or_and_not_precedence() -> None:
    # a b OR c means (a AND b) OR c
    assert matches("alpha beta OR gamma", abstract="gamma only")
    assert matches("alpha beta OR gamma", abstract="alpha and beta")
    assert not matches("alpha beta OR gamma", abstract="alpha only")
    # NOT binds to the next term only
    assert matches("alpha -beta gamma", abstract="alpha gamma")
    assert not matches("alpha -beta gamma", abstract="alpha beta gamma")
    assert not matches("alpha -(beta OR gamma)", abstract="alpha gamma")


def test_lowercase_or_is_a_word() -> None:
    assert not matches("diffusion or flow", abstract="diffusion models")
    assert matches("diffusion or flow", abstract="diffusion or flow models")


def test_wildcard_is_a_token_prefix() -> None:
    assert matches("talk*", title="Talking heads")
    assert matches("talk*", title="A talker")
    assert matches("talk*", title="talk")
    assert not matches("talk*", title="stalking")
    assert matches("lipsyn*", abstract="lip-syncing networks")  # joined forms too


# --- fields --------------------------------------------------------------------------------------


def test_title_and_abstract_fields() -> None:
    fields = {"title": "Diffusion models", "abstract": "We study flow matching."}
    assert matches("ti:diffusion", **fields)
    assert not matches("ti:flow", **fields)
    assert matches("abs:flow", **fields)
    assert not matches("abs:diffusion", **fields)
    assert matches("flow diffusion", **fields)  # no field: title or abstract
    assert matches("ti:(flow OR diffusion)", **fields)
    assert not matches('ti:"flow matching"', **fields)


def test_author_field() -> None:
    authors = ("Geoffrey E. Hinton", "Sofia Müller", "Yann LeCun")
    assert matches("au:hinton", authors=authors)
    assert matches("au:muller", authors=authors)
    assert matches("au:Müller", authors=authors)
    assert matches('au:"geoffrey hinton"', authors=authors)  # middle initial skipped
    assert matches('au:"g hinton"', authors=authors)  # initial for a first name
    assert not matches('au:"sofia hinton"', authors=authors)  # parts of two authors
    assert not matches('au:"hinton geoffrey"', authors=authors)  # order counts
    assert not matches("au:hint", authors=authors)
    assert matches("au:hint*", authors=authors)
    assert not matches("hinton", authors=authors)  # authors are not title or abstract


def test_category_field() -> None:
    fields = {"categories": ("cs.CV", "cs.LG"), "primary": "cs.CV"}
    assert matches("cat:cs.CV", **fields)
    assert matches("cat:cs.cv", **fields)
    assert matches("cat:cs.LG", **fields)  # cross-lists count
    assert matches("cat:cs.*", **fields)
    assert matches("cat:cs", **fields)
    assert not matches("cat:cs.CL", **fields)
    assert not matches("cat:stat", **fields)
    assert matches("cat:stat.ML", categories=("cs.LG",), primary="stat.ML")
    assert matches("cat:hep-th", categories=("hep-th",))


# --- real abstracts ------------------------------------------------------------------------------


def _fixture_papers(fixtures_dir: Path) -> list[tuple[str, Paper]]:
    data = json.loads((fixtures_dir / "query" / "papers.json").read_text(encoding="utf-8"))
    return [
        (
            item["group"],
            Paper(
                id=item["id"],
                version=1,
                title=item["title"],
                abstract=item["abstract"],
                authors=tuple(item["authors"]),
                categories=tuple(item["categories"]),
                primary_category=item.get("primary_category"),
            ),
        )
        for item in data["papers"]
    ]


def test_talking_head_topic_on_real_abstracts(fixtures_dir: Path) -> None:
    papers = _fixture_papers(fixtures_dir)
    query = parse_query('"talking head" OR "talking face" OR "lip sync"')
    talking = [p for group, p in papers if group == "talking_head"]
    distractors = [p for group, p in papers if group == "distractor"]
    assert len(talking) >= 8 and len(distractors) >= 4
    assert [p.id for p in talking if not query.matches(p)] == []
    assert [p.id for p in distractors if query.matches(p)] == []


def test_bare_talking_head_on_real_abstracts(fixtures_dir: Path) -> None:
    by_id = {p.id: p for _, p in _fixture_papers(fixtures_dir)}
    query = parse_query("talking head")
    assert query.matches(by_id["2004.12992"])  # "Talking-Head Animation"
    assert query.matches(by_id["1905.08233"])  # "neural talking heads"
    # Bare words need not be adjacent: "keep talking" ... "head-to-head" is a match, but not
    # for the phrase.
    assert query.matches(by_id["2410.22222"])
    assert not parse_query('"talking head"').matches(by_id["2410.22222"])
    assert not query.matches(by_id["2409.11111"])  # "CLIP Talks": no "talking"


def test_exclusion_on_real_abstracts(fixtures_dir: Path) -> None:
    papers = {p.id: p for _, p in _fixture_papers(fixtures_dir)}
    survey = papers["2406.66666"]
    assert parse_query('"talking head"').matches(survey)
    assert not parse_query('"talking head" -survey').matches(survey)
    assert not parse_query('"talking head" -ti:survey').matches(survey)
    assert parse_query('"talking head" -abs:benchmark').matches(survey)
