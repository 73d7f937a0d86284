"""Validation of model output: real-looking good and bad answers in English and Chinese."""

from __future__ import annotations

import pytest

from bot.models import Paper
from bot.summaries.prompts import paper_source_text
from bot.summaries.schema import parse_payload
from bot.summaries.script import language_problems
from bot.summaries.validate import (
    find_links,
    link_problems,
    normalize_field,
    repetition_problems,
    validate_summary,
)

SOURCE = (
    "LipSync-XL: Diffusion Transformers for Expressive Audio-Driven Talking Heads\n"
    "We propose LipSync-XL, a diffusion transformer that animates a single portrait from an audio "
    "clip. On HDTF, LipSync-XL reduces FID by 31.2% compared with SadTalker.\n"
    "Project page: https://lipsync-xl.github.io/"
)

EN_TLDR = (
    "LipSync-XL is a diffusion transformer that animates a single portrait from speech audio"
    " with accurate lip synchronization."
)
EN_TAKEAWAYS = [
    "The model denoises video latents conditioned on wav2vec 2.0 audio features and a reference"
    " frame.",
    "A SyncNet expert loss is applied during the last denoising steps to sharpen lip sync.",
    "On HDTF it reduces FID by 31.2% compared with SadTalker.",
    "A user study with 40 participants preferred its videos in 78.5% of comparisons.",
    "After distillation to 4 steps it runs at 25 fps on a single A100 GPU.",
]
ZH_TLDR = (
    "本文提出 LipSync-XL，一种基于扩散 Transformer 的说话人头像生成方法，"
    "可由单张肖像和语音生成口型准确的视频。"
)
ZH_TAKEAWAYS = [
    "模型以冻结的 wav2vec 2.0 音频特征和参考帧作为条件，对视频潜变量去噪。",
    "在最后几步去噪中引入 SyncNet 专家损失，以提升口型同步。",
    "在 HDTF 数据集上，FID 比 SadTalker 降低 31.2%。",
    "蒸馏到 4 步后，模型在单张 A100 GPU 上可达每秒 25 帧。",
]


def problems(tldr: str, takeaways: list[str], language: str = "en") -> list[str]:
    return validate_summary(tldr, takeaways, language=language, source_text=SOURCE)


def test_good_english_summary_passes() -> None:
    assert problems(EN_TLDR, EN_TAKEAWAYS) == []


def test_good_chinese_summary_with_latin_terms_passes() -> None:
    assert problems(ZH_TLDR, ZH_TAKEAWAYS, "zh") == []


@pytest.mark.parametrize(
    ("language", "tldr", "takeaways"),
    [
        (
            "ja",
            "本論文は、単一の肖像画と音声から口の動きが正確な動画を生成する"
            " LipSync-XL を提案する。",
            [
                "wav2vec 2.0 の音声特徴と参照フレームを条件として動画の潜在表現を復元する。",
                "HDTF では SadTalker と比べて FID が 31.2% 改善した。",
                "4 ステップへの蒸留後、単一の A100 GPU で毎秒 25 フレームで動作する。",
            ],
        ),
        (
            "ru",
            "LipSync-XL — диффузионный трансформер, который оживляет портрет по аудиозаписи речи.",
            [
                "Модель использует признаки wav2vec 2.0 и опорный кадр в качестве условия.",
                "На наборе HDTF метрика FID снижается на 31,2% по сравнению с SadTalker.",
                "После дистилляции модель работает со скоростью 25 кадров в секунду на A100.",
            ],
        ),
        (
            "de",
            "LipSync-XL ist ein Diffusions-Transformer, der ein einzelnes Porträt mit Sprache"
            " animiert.",
            [
                "Das Modell nutzt Merkmale von wav2vec 2.0 und ein Referenzbild als Bedingung.",
                "Auf HDTF sinkt der FID im Vergleich zu SadTalker um 31,2 Prozent.",
                "Nach der Destillation läuft das Modell mit 25 Bildern pro Sekunde auf einer A100.",
            ],
        ),
    ],
)
def test_good_summaries_in_other_languages_pass(
    language: str, tldr: str, takeaways: list[str]
) -> None:
    assert problems(tldr, takeaways, language) == []


@pytest.mark.parametrize(
    ("language", "tldr", "takeaways", "expected"),
    [
        ("zh", EN_TLDR, EN_TAKEAWAYS, "not written in Simplified Chinese"),
        ("en", ZH_TLDR, ZH_TAKEAWAYS, "not written in English"),
        (
            "zh",
            "本論文は、単一の肖像画と音声から口の動きが正確な動画を生成する手法を提案する。",
            [
                "音声特徴と参照フレームを条件として動画の潜在表現を復元する。",
                "HDTF では既存手法と比べて FID が改善した。",
                "単一の GPU で毎秒 25 フレームで動作する。",
            ],
            "looks like Japanese",
        ),
        ("ja", ZH_TLDR, ZH_TAKEAWAYS, "looks like Chinese"),
        ("ru", EN_TLDR, EN_TAKEAWAYS, "not written in Russian"),
        ("de", EN_TLDR, EN_TAKEAWAYS, "in English, not German"),
        ("pl", EN_TLDR, EN_TAKEAWAYS, "in English, not Polish"),
        (
            "en",
            "LipSync-XL ist ein Diffusions-Transformer, der ein einzelnes Porträt animiert.",
            [
                "Das Modell nutzt Merkmale von wav2vec 2.0 und ein Referenzbild als Bedingung.",
                "Auf HDTF sinkt der FID im Vergleich zu SadTalker um 31,2 Prozent.",
                "Nach der Destillation läuft das Modell mit 25 Bildern pro Sekunde.",
            ],
            "does not read as English",
        ),
    ],
)
def test_wrong_language_is_rejected(
    language: str, tldr: str, takeaways: list[str], expected: str
) -> None:
    found = problems(tldr, takeaways, language)
    assert any(expected in p for p in found), found


def test_terse_english_is_still_english() -> None:
    assert (
        language_problems("Runs in real time on a single GPU. Beats SadTalker on HDTF.", "en") == []
    )


@pytest.mark.parametrize(
    ("tldr", "expected"),
    [
        ("", "the TL;DR is empty"),
        (EN_TLDR + " It also runs in real time.", "must be exactly one sentence"),
        (
            "LipSync-XL " + "animates portraits with speech audio and " * 8 + "more.",
            "keep it under",
        ),
        ("Talking heads.", "too short"),
    ],
)
def test_tldr_shape(tldr: str, expected: str) -> None:
    found = problems(tldr, EN_TAKEAWAYS)
    assert any(expected in p for p in found), found


def test_one_sentence_tldr_may_contain_abbreviations_and_decimals() -> None:
    tldr = (
        "Unlike prior work (e.g. Wav2Lip by Prajwal et al.), LipSync-XL cuts FID by 31.2%"
        " on HDTF (Fig. 2)."
    )
    assert problems(tldr, EN_TAKEAWAYS) == []


def test_chinese_caps_are_in_characters() -> None:
    long_tldr = "本文提出一种基于扩散模型的说话人头像生成方法" * 6 + "。"
    found = problems(long_tldr, ZH_TAKEAWAYS, "zh")
    assert any("keep it under 120" in p for p in found), found
    assert any(
        "two" in p or "2 sentences" in p
        for p in problems(ZH_TLDR + "效果很好。", ZH_TAKEAWAYS, "zh")
    )


@pytest.mark.parametrize(
    ("takeaways", "expected"),
    [
        (EN_TAKEAWAYS[:2], "there are 2 takeaways"),
        (
            EN_TAKEAWAYS + EN_TAKEAWAYS[:1] + ["Eight is too many for a digest entry."] * 2,
            "there are 8 takeaways",
        ),
        ([*EN_TAKEAWAYS[:3], "  "], "takeaway 4 is empty"),
        (
            [*EN_TAKEAWAYS[:3], "The model " + "is trained on talking-head video " * 9],
            "takeaway 4 is",
        ),
        ([*EN_TAKEAWAYS[:3], "**Speed**: it runs at 25 fps on one A100 GPU."], "markdown"),
    ],
)
def test_takeaway_shape(takeaways: list[str], expected: str) -> None:
    found = problems(EN_TLDR, takeaways)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    "fields",
    [
        [EN_TLDR, "The results improve and the results improve and the results improve a lot."],
        [EN_TLDR, "Quality is very very very very good on HDTF."],
        [ZH_TLDR, "效果很好，效果很好，效果很好，效果很好，效果很好，效果很好。"],
        [EN_TLDR, *EN_TAKEAWAYS[:2], EN_TAKEAWAYS[0]],  # a takeaway given twice
        [EN_TLDR, EN_TAKEAWAYS[2], EN_TAKEAWAYS[2].replace("31.2%", "31.3%")],  # near-duplicate
        [
            EN_TLDR,
            *(["It runs in real time on a single consumer GPU with four denoising steps."] * 1),
            *[
                f"Variant {i}: it runs in real time on a single consumer GPU with four steps."
                for i in range(5)
            ],
        ],
    ],
)
def test_repetition_is_rejected(fields: list[str]) -> None:
    assert repetition_problems(fields), fields


def test_varied_summary_is_not_repetitive() -> None:
    assert repetition_problems([EN_TLDR, *EN_TAKEAWAYS]) == []
    assert repetition_problems([ZH_TLDR, *ZH_TAKEAWAYS]) == []


@pytest.mark.parametrize(
    ("language", "tldr", "extra"),
    [
        ("en", "Sure! Here is the summary: " + EN_TLDR, None),
        (
            "en",
            "Here's a concise summary of LipSync-XL, a diffusion model for talking heads.",
            None,
        ),
        ("en", EN_TLDR, "I hope this meets your requirements and helps with your research."),
        ("en", EN_TLDR, "Let me know if you would like more detail on the experiments."),
        (
            "en",
            "As an AI language model, I summarise LipSync-XL as a talking-head generator.",
            None,
        ),
        ("zh", ZH_TLDR, "希望以上回答对您有所帮助。"),
        ("zh", "以下是本文的摘要：LipSync-XL 是一种说话人头像生成方法。", None),
        ("zh", ZH_TLDR, "如有其他问题，请随时告诉我。"),
        ("zh", "好的！LipSync-XL 是一种基于扩散模型的说话人头像生成方法。", None),
    ],
)
def test_assistant_chatter_is_rejected(language: str, tldr: str, extra: str | None) -> None:
    base = ZH_TAKEAWAYS if language == "zh" else EN_TAKEAWAYS[:4]
    takeaways = [*base, extra] if extra else base
    found = problems(tldr, takeaways, language)
    assert any("conversational" in p for p in found), found


@pytest.mark.parametrize(
    ("takeaway", "language"),
    [
        ("Code and models are available at https://link.to.paper for everyone.", "en"),
        ("The authors host the code at github.com/lipsync/lipsync-xl for reuse.", "en"),
        ("More examples can be found on www.lipsync-demo.com and in the paper.", "en"),
        ("代码见github.com/lipsync/lipsync-xl获取。", "zh"),
        ("项目主页 https://lipsync-xl.github.io/demo 提供了更多视频。", "zh"),
    ],
)
def test_links_not_in_the_source_are_rejected(takeaway: str, language: str) -> None:
    base = ZH_TAKEAWAYS if language == "zh" else EN_TAKEAWAYS[:4]
    tldr = ZH_TLDR if language == "zh" else EN_TLDR
    found = problems(tldr, [*base, takeaway], language)
    assert any("do not include links" in p for p in found), found


def test_links_copied_verbatim_from_the_source_are_allowed() -> None:
    takeaway = "Videos and results are shown on https://lipsync-xl.github.io/."
    assert problems(EN_TLDR, [*EN_TAKEAWAYS[:4], takeaway]) == []


def test_links_from_latex_source_count_as_verbatim() -> None:
    paper = Paper(
        id="2409.03605",
        version=1,
        title="X",
        abstract=r"We propose X. Code: \url{https://github.com/a/b\_c}.",
    )
    assert link_problems("See https://github.com/a/b_c.", paper_source_text(paper)) == []


def test_find_links_ignores_numbers_abbreviations_and_file_names() -> None:
    text = "It improves by 3.5%, e.g. on HDTF (Fig. 2), with train.py and a 1.5B model vs. GPT-4o."
    assert find_links(text) == []
    assert find_links("See https://link.to.paper.") == ["https://link.to.paper"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("- The model runs in real time.", "The model runs in real time."),
        ("2. The model  runs\nin real time.", "The model runs in real time."),
        ("TL;DR: LipSync-XL animates portraits.", "LipSync-XL animates portraits."),
        ('"LipSync-XL animates portraits."', "LipSync-XL animates portraits."),
        ("3D heads are rendered at 25 fps.", "3D heads are rendered at 25 fps."),
        ("2.5x faster than SadTalker.", "2.5x faster than SadTalker."),
    ],
)
def test_normalize_field(raw: str, clean: str) -> None:
    assert normalize_field(raw) == clean


def test_parse_payload_reports_schema_and_json_errors() -> None:
    payload, errs = parse_payload('```json\n{"tldr": "x", "takeaways": ["a"], "extra": 1}\n```')
    assert payload is not None and payload.takeaways == ["a"] and errs == []
    payload, errs = parse_payload('{"tldr": "LipSync-XL animates portraits", "takeaways": [')
    assert payload is None and "not valid JSON" in errs[0]
    payload, errs = parse_payload('{"tldr": 3, "takeaways": "one"}')
    assert payload is None and "tldr" in errs[0] and "takeaways" in errs[0]
