"""The fixed words of every frontend's messages, in English and Simplified Chinese.

Only the frame is translated (headings, labels, counts, dates); paper text and summaries are shown
as they are. Any language other than Chinese (``zh``, ``zh-cn``, ``zh-tw``, …) reads English.
Strings here are plain text: each frontend escapes them like everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.models import LinkKind

_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _en_date(day: date) -> str:
    # ``Fri 21 Nov 2026``: unambiguous whatever the reader's locale (and not strftime's, which
    # follows the server's).
    return f"{_en_short_date(day)} {day.year}"


def _en_short_date(day: date) -> str:
    return f"{_EN_DAYS[day.weekday()]} {day.day} {_EN_MONTHS[day.month - 1]}"


def _zh_date(day: date) -> str:
    return f"{day.year}年{_zh_short_date(day)}"


def _zh_short_date(day: date) -> str:
    return f"{day.month}月{day.day}日（周{'一二三四五六日'[day.weekday()]}）"


def _en_plural(n: int, one: str, many: str) -> str:
    return one.format(n=n) if n == 1 else many.format(n=n)


@dataclass(frozen=True, slots=True)
class Strings:
    """Every fixed word a message uses, for one UI language."""

    code: str
    tldr: str
    takeaways: str
    extractive: str  # follows the TL;DR label directly (its own spacing included)
    colon: str  # between a label and its text
    abstract: str
    authors: str
    comment: str
    journal_ref: str
    links: str
    more_details: str
    full_review: str
    continued: str  # "{topic}"
    no_new_papers: str  # "{date}" is filled in
    no_listing: str
    unknown_authors: str
    et_al: str  # "{names}" are the first few authors
    et_al_count: str  # "{names}" and "{n}", the total
    updated_heading: str
    updated_to: str  # "{v}" and "{was}"
    updated_to_only: str  # "{v}", when the version delivered before is unknown
    submitted: str  # "{date}"
    link_labels: dict[LinkKind, str]
    new_papers: Callable[[int], str]
    more_not_shown: Callable[[int], str]
    more_line: Callable[[int], str]  # a sentence of its own, for frontends without a header line
    extractive_all: str  # note when every summary is extractive
    extractive_some: str  # note when only some are (the LLM failed for them)
    # note when the summarizer said why: (papers extractive, papers shown, reason)
    extractive_because: Callable[[int, int, str], str]
    long_date: Callable[[date], str]
    short_date: Callable[[date], str]  # without the year, for the start of a span
    list_sep: str  # between author names


EN = Strings(
    code="en",
    tldr="TL;DR",
    takeaways="Key takeaways",
    extractive=" (extractive)",
    colon=": ",
    abstract="Abstract",
    authors="Authors",
    comment="Comment",
    journal_ref="Journal ref",
    links="Links",
    more_details="More details",
    full_review="Full review",
    continued="{topic} (continued)",
    no_new_papers="No new papers in the arXiv listing of {date}.",
    no_listing="No new papers: no arXiv listing has been received yet.",
    unknown_authors="Unknown authors",
    et_al="{names} et al.",
    et_al_count="{names} et al. ({n} authors)",
    updated_heading="Updated since you saw them",
    updated_to="updated to v{v} (was v{was})",
    updated_to_only="updated to v{v}",
    submitted="submitted {date}",
    link_labels={
        LinkKind.ABSTRACT: "Abstract page",
        LinkKind.PDF: "PDF",
        LinkKind.HTML: "HTML",
        LinkKind.CODE: "Code",
        LinkKind.PROJECT: "Project",
        LinkKind.DATA: "Data",
        LinkKind.MODEL: "Model",
        LinkKind.DEMO: "Demo",
        LinkKind.DOI: "DOI",
        LinkKind.OTHER: "Link",
    },
    new_papers=lambda n: _en_plural(n, "{n} new paper", "{n} new papers"),
    more_not_shown=lambda n: f"and {n} more not shown",
    more_line=lambda n: _en_plural(
        n, "…and {n} more matching paper not shown.", "…and {n} more matching papers not shown."
    ),
    extractive_all=(
        "Summaries are extractive (key sentences from the abstract); "
        "set OPENAI_API_KEY for LLM summaries."
    ),
    extractive_some=(
        "Some summaries are extractive (sentences from the abstract): the LLM failed for them."
    ),
    extractive_because=lambda n, total, reason: (
        f"Summaries are extractive for {n if n == total else f'{n} of {total}'} "
        f"{'paper' if total == 1 else 'papers'} (key sentences from the abstract): {reason}."
    ),
    long_date=_en_date,
    short_date=_en_short_date,
    list_sep=", ",
)

ZH = Strings(
    code="zh",
    tldr="一句话总结",
    takeaways="关键要点",
    extractive="（抽取式）",
    colon="：",
    abstract="摘要",
    authors="作者",
    comment="备注",
    journal_ref="期刊引用",
    links="链接",
    more_details="更多详情",
    full_review="完整评述",
    continued="{topic}（续）",
    no_new_papers="{date}的 arXiv 列表中暂无新论文。",
    no_listing="暂无新论文：尚未收到任何 arXiv 列表。",
    unknown_authors="作者未知",
    et_al="{names} 等",
    et_al_count="{names} 等（共 {n} 位作者）",
    updated_heading="自上次推送后有更新",
    updated_to="已更新至 v{v}（原 v{was}）",
    updated_to_only="已更新至 v{v}",
    submitted="提交于 {date}",
    link_labels={
        LinkKind.ABSTRACT: "摘要页",
        LinkKind.PDF: "PDF",
        LinkKind.HTML: "HTML",
        LinkKind.CODE: "代码",
        LinkKind.PROJECT: "项目主页",
        LinkKind.DATA: "数据",
        LinkKind.MODEL: "模型",
        LinkKind.DEMO: "演示",
        LinkKind.DOI: "DOI",
        LinkKind.OTHER: "链接",
    },
    new_papers=lambda n: f"{n} 篇新论文",
    more_not_shown=lambda n: f"另有 {n} 篇未显示",
    more_line=lambda n: f"……另有 {n} 篇匹配的论文未显示。",
    extractive_all="摘要为抽取式（论文摘要中的关键句）；设置 OPENAI_API_KEY 即可使用 LLM 摘要。",
    extractive_some="部分摘要为抽取式（论文摘要中的句子）：LLM 未能生成这些摘要。",
    extractive_because=lambda n, total, reason: (
        f"{n if n == total else f'{total} 篇中的 {n}'} 篇论文的摘要为抽取式（论文摘要中的关键句）："
        f"{reason}。"
    ),
    long_date=_zh_date,
    short_date=_zh_short_date,
    list_sep=", ",
)


def strings_for(language: str) -> Strings:
    """The UI strings for a chat language: Chinese for ``zh…``, English for anything else."""
    return ZH if language.strip().lower().startswith("zh") else EN
