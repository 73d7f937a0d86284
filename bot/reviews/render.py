"""A review as labelled plain-text blocks in English or Chinese, for any frontend to mark up.

`review_blocks(review, ui)` returns (heading, text) pairs in display order; headings are in
the interface language `ui` (``en`` or ``zh``; others fall back to English). It always lists
the affiliations ("not stated" when the paper gives none) and the code and project links, and
ends with the ``Source: HTML|PDF|abstract`` line (label localized, value not), the notes on
what was not read, and, for an extractive review, why it is extractive.
"""

from __future__ import annotations

from bot.reviews.model import Review, ReviewOrigin
from bot.rich import Rich, bold, rich

__all__ = ["LABELS", "review_blocks", "review_rich", "review_text", "source_line"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Title", "authors": "Authors", "affiliations": "Affiliations",
        "not_stated": "not stated", "keywords": "Keywords", "links": "Links",
        "none": "none found", "background": "Background", "prior_work": "Earlier approaches",
        "method": "Method", "results": "Results", "steps": "Method, step by step",
        "significance": "Significance", "strengths": "Strengths", "weaknesses": "Weaknesses",
        "source": "Source", "notes": "Notes", "extractive": "Extractive review",
    },
    "zh": {
        "title": "标题", "authors": "作者", "affiliations": "机构", "not_stated": "未注明",
        "keywords": "关键词", "links": "链接", "none": "未找到", "background": "背景",
        "prior_work": "已有方法", "method": "方法", "results": "结果",
        "steps": "方法步骤", "significance": "意义", "strengths": "优点", "weaknesses": "不足",
        "source": "来源", "notes": "说明", "extractive": "摘录式评述",
    },
}  # fmt: skip


def _labels(ui: str) -> dict[str, str]:
    return LABELS.get(ui.split("-")[0], LABELS["en"])


def source_line(review: Review, ui: str = "en") -> str:
    """``Source: HTML`` / ``来源: PDF`` / ``Source: abstract``."""
    return f"{_labels(ui)['source']}: {review.source.value}"


def review_blocks(review: Review, ui: str = "en") -> list[tuple[str, str]]:
    """(heading, text) pairs in display order; empty prose fields are left out."""
    t = _labels(ui)
    title = review.title
    if review.translated_title:
        title = f"{review.translated_title}\n{review.title}"
    links = "\n".join(f"{x.label}: {x.url}" for x in review.code_links) or t["none"]
    blocks = [
        (t["title"], title),
        (t["authors"], ", ".join(review.authors)),
        (t["affiliations"], "; ".join(review.affiliations) or t["not_stated"]),
        (t["keywords"], ", ".join(review.keywords)),
        (t["links"], links),
        (t["background"], review.background),
        (t["prior_work"], review.prior_work),
        (t["method"], review.method),
        (t["results"], review.results),
        (t["steps"], "\n".join(f"{i}. {s}" for i, s in enumerate(review.method_steps, 1))),
        (t["significance"], review.significance),
        (t["strengths"], review.strengths),
        (t["weaknesses"], review.weaknesses),
    ]
    blocks = [(h, text) for h, text in blocks if text]
    blocks.append((t["source"], review.source.value))
    if review.notes:
        blocks.append((t["notes"], "\n".join(str(n) for n in review.notes)))
    if review.origin is ReviewOrigin.EXTRACTIVE and review.fallback_reason:
        blocks.append((t["extractive"], review.fallback_reason))
    return blocks


def review_text(review: Review, ui: str = "en") -> str:
    """The whole review as plain text (the command line's ``paper --full``)."""
    return "\n\n".join(f"{heading}: {text}" for heading, text in review_blocks(review, ui))


def review_rich(review: Review, ui: str = "en") -> list[Rich]:
    """The review as rich text, one part per block (a bold heading, then its text), so that a
    frontend splits long reviews between sections."""
    return [rich(bold(heading), "\n", text) for heading, text in review_blocks(review, ui)]
