"""Every command reply, written once for all platforms, in English and Simplified Chinese.

Functions here return `Rich` text; a frontend turns it into its markup (Telegram HTML, Discord
Markdown), escaping whatever a user or a paper supplied. What differs between platforms is only
how a command is typed, so examples come in as plain strings (`Syntax`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.errors import UserError
from bot.models import Chat, Subscription
from bot.rich import Rich, bold, code, italic, lines, pre, rich


@dataclass(frozen=True, slots=True)
class Syntax:
    """How one platform's users type the commands that replies point to."""

    subscribe_example: str  # '/subscribe "talking head" OR "lip sync"'
    paper_example: str  # '/paper 2409.03605'
    settings_example: str  # '/settings tz Europe/Berlin'


def is_zh(language: str) -> bool:
    return language.strip().lower().startswith("zh")


# --- Command descriptions (menus, slash commands) -------------------------------------------

COMMAND_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "subscribe": {"en": "Follow a topic", "zh": "订阅一个主题"},
    "list": {"en": "Topics of this chat", "zh": "本聊天的订阅主题"},
    "unsubscribe": {"en": "Stop following a topic", "zh": "取消订阅主题"},
    "digest": {"en": "The latest digest, now", "zh": "立即发送最新摘要"},
    "paper": {"en": "One paper by its arXiv id", "zh": "按 arXiv 编号查看论文"},
    "settings": {"en": "Language, time, time zone, detail", "zh": "语言、时间、时区、详细程度"},
    "pause": {"en": "Pause digests", "zh": "暂停推送"},
    "resume": {"en": "Resume digests", "zh": "恢复推送"},
    "help": {"en": "Query language and commands", "zh": "查询语法与命令"},
}


def describe_command(name: str, language: str) -> str:
    return COMMAND_DESCRIPTIONS[name]["zh" if is_zh(language) else "en"]


# --- Small facts ----------------------------------------------------------------------------


def delivery_hint(chat: Chat) -> str:
    """``at 08:30 (Europe/Berlin)`` or ``right after arXiv's announcement``."""
    zh = is_zh(chat.language)
    if chat.delivery_time is None:
        return "在 arXiv 公布后立即" if zh else "right after arXiv's announcement"
    at = chat.delivery_time.strftime("%H:%M")
    return f"在 {at}（{chat.timezone}）" if zh else f"at {at} ({chat.timezone})"


def recent_span(first: date | None, last: date | None, language: str) -> str:
    zh = is_zh(language)
    if first is None or last is None:
        return "最近的列表" if zh else "the recent listings"
    if first == last:
        return f"{last.isoformat()} 的列表" if zh else f"the listing of {last.isoformat()}"
    if zh:
        return f"{first.isoformat()} – {last.isoformat()} 的列表"
    return f"the listings of {first.isoformat()} – {last.isoformat()}"


# --- Replies --------------------------------------------------------------------------------


def welcome(language: str, syntax: Syntax, *, resumed: bool) -> Rich:
    if is_zh(language):
        text = rich(
            "👋 我会在每个 arXiv 公布日，把你关注主题的新论文连同摘要发给你。\n\n试试：\n",
            code(syntax.subscribe_example),
            "\n\n/help 介绍查询语法和全部命令。",
        )
        back = "\n\n欢迎回来：推送已恢复。"
    else:
        text = rich(
            "👋 I send you new arXiv papers on the topics you follow, summarised, every "
            "announcement day.\n\nTry:\n",
            code(syntax.subscribe_example),
            "\n\n/help shows the query language and all commands.",
        )
        back = "\n\nWelcome back: your digests are on again."
    return rich(text, back if resumed else "")


def query_language(language: str) -> Rich:
    """The query language on a few lines: the part of /help both platforms share."""
    zh = is_zh(language)
    rows: list[tuple[str, str, str]] = [
        ("talking head", "两个词都出现在标题或摘要中（复数和连字符也算）",
         "both words, in title or abstract (plurals and hyphens count)"),
        ('"talking head"', "完整短语", "the exact phrase"),
        ("a OR b · a AND b · -word · NOT word · ( )", "或、与、排除、分组",
         "either, both, without, grouping"),
        ("talk*", "以 talk 开头的词", "words starting with talk"),
        ("ti: abs: au:hinton cat:cs.CV cat:cs.*", "标题、摘要、作者、分类",
         "title, abstract, author, category"),
    ]  # fmt: skip
    head = bold("查询语法" if zh else "Query language")
    return lines([head, *(rich(code(q), " — ", zh_text if zh else en) for q, zh_text, en in rows)])


def help_text(
    language: str, commands: Sequence[tuple[str, str]], *, notes: Sequence[str] = ()
) -> Rich:
    """/help: Paperboy in one line, the commands as (usage, description), the query language,
    then platform notes (plain text)."""
    zh = is_zh(language)
    intro = rich(
        bold("Paperboy"),
        " 为你关注的每个主题推送 arXiv 新论文摘要。"
        if zh
        else " sends a digest of new arXiv papers for each topic you follow.",
    )
    command_lines = [rich(code(usage), " — ", description) for usage, description in commands]
    parts: list[Rich] = [
        intro,
        lines([bold("命令" if zh else "Commands"), *command_lines]),
        query_language(language),
    ]
    parts += [rich(note) for note in notes]
    return lines(parts, sep="\n\n")


def need_query(language: str, syntax: Syntax) -> Rich:
    if is_zh(language):
        return rich("请在命令后写上主题，例如：\n", code(syntax.subscribe_example),
                    "\n\n/help 介绍查询语法。")  # fmt: skip
    return rich(
        "Tell me the topic after the command, for example:\n",
        code(syntax.subscribe_example),
        "\n\n/help explains the query language.",
    )


def need_paper_id(language: str, syntax: Syntax) -> Rich:
    if is_zh(language):
        return rich("哪篇论文？例如 ", code(syntax.paper_example), "。")
    return rich("Which paper? For example ", code(syntax.paper_example), ".")


def no_topics(language: str, syntax: Syntax) -> Rich:
    if is_zh(language):
        return rich("还没有订阅主题。用这个命令添加：", code(syntax.subscribe_example))
    return rich("No topics yet. Add one with ", code(syntax.subscribe_example))


def no_active_topics(language: str, syntax: Syntax) -> Rich:
    if is_zh(language):
        return rich("没有正在推送的主题。用这个命令添加：", code(syntax.subscribe_example))
    return rich("No active topics. Add one with ", code(syntax.subscribe_example))


def subscribed(
    chat: Chat,
    subscription: Subscription,
    *,
    description: str,
    recent_matches: int,
    recent_from: date | None,
    recent_to: date | None,
    where: str | None = None,
    warnings: Sequence[str] = (),
) -> Rich:
    """The answer to a new subscription: how the query was understood, what it would have
    matched lately, and when digests come; then one line per query warning (`Query.warnings`,
    in English: the query is followed as typed all the same)."""
    zh = is_zh(chat.language)
    span = recent_span(recent_from, recent_to, chat.language)
    notes = "".join(f"\n⚠️ {warning}" for warning in warnings)
    if zh:
        target = f"（{where}）" if where else ""
        return rich(
            f"✅ 已订阅{target}（#{subscription.number}）：", bold(subscription.query),
            f"\n理解为：{description}\n在{span}中会匹配 ", bold(str(recent_matches)), " 篇论文。",
            f"\n\n摘要将于公布日{delivery_hint(chat)}送达；最新一期很快就到。",
            "/settings 可修改时间和方式。", notes,
        )  # fmt: skip
    target = f" for {where}" if where else ""
    plural = "s" if recent_matches != 1 else ""
    return rich(
        f"✅ Subscribed{target} (#{subscription.number}): ", bold(subscription.query),
        f"\nUnderstood as: {description}\nIt would have matched ", bold(str(recent_matches)),
        f" paper{plural} in {span}.\n\nDigests arrive {delivery_hint(chat)} on announcement "
        "days; the latest one comes shortly. /settings changes when and how.", notes,
    )  # fmt: skip


def already_following(language: str, subscription: Subscription, where: str | None = None) -> Rich:
    if is_zh(language):
        target = f"（{where}）" if where else ""
        return rich(f"已在关注{target} #{subscription.number}：", bold(subscription.query))
    target = f" for {where}" if where else ""
    return rich(f"Already following{target} #{subscription.number}: ", bold(subscription.query))


def removed(language: str, subscription: Subscription) -> Rich:
    if is_zh(language):
        return rich(f"已移除 #{subscription.number}：", bold(subscription.query))
    return rich(f"Removed #{subscription.number}: ", bold(subscription.query))


def which_topic(language: str) -> Rich:
    return rich("要移除哪个主题？" if is_zh(language) else "Which topic should go?")


def topic_lines(subscriptions: Sequence[Subscription], language: str) -> list[Rich]:
    """One line per topic, for lists that a frontend may split between messages."""
    paused = "（已暂停）" if is_zh(language) else " (paused)"
    return [
        rich(f"{s.number}. {s.query}", italic(paused) if s.paused else "") for s in subscriptions
    ]


def chat_state(chat: Chat) -> Rich:
    """The line under a topic list: paused, or when and how digests come."""
    zh = is_zh(chat.language)
    if chat.paused:
        return rich("⏸ 已暂停 — /resume 恢复" if zh else "⏸ paused — /resume to restart")
    if zh:
        return rich(
            f"摘要{delivery_hint(chat)}送达，详细程度 {chat.detail.value}，"
            f"每期最多 {chat.max_papers} 篇，语言 {chat.language}。"
        )
    return rich(
        f"Digests {delivery_hint(chat)}, {chat.detail.value}, up to {chat.max_papers} papers, "
        f"in {chat.language}."
    )


def topic_list(chat: Chat, subscriptions: Sequence[Subscription], name: str) -> Rich:
    zh = is_zh(chat.language)
    head = bold(f"{name}的主题" if zh else f"Topics of {name}")
    return lines([head, *topic_lines(subscriptions, chat.language), "", chat_state(chat)])


def paused(language: str, *, paused: bool, what: str) -> Rich:
    if is_zh(language):
        return rich(f"{'⏸ 已暂停' if paused else '▶️ 已恢复'}{what}的推送。")
    return rich(f"{'⏸ Paused' if paused else '▶️ Resumed'} digests for {what}.")


def topic_label(language: str, number: int) -> str:
    return f"主题 #{number}" if is_zh(language) else f"topic #{number}"


def settings_summary(chat: Chat, name: str, *, usage: Sequence[str] = ()) -> Rich:
    """The chat's settings, then examples of changing them (platform syntax, as code)."""
    zh = is_zh(chat.language)
    at = chat.delivery_time.strftime("%H:%M") if chat.delivery_time else "auto"
    empty = ("提示" if chat.send_empty else "静默") if zh else (
        "noted" if chat.send_empty else "silent"
    )  # fmt: skip
    labels = (
        ("语言", "推送", "详细程度", "每期论文数", "无新论文的日子")
        if zh
        else ("Language", "Delivery", "Detail", "Papers per digest", "Empty days")
    )
    body = lines(
        [
            bold(f"{name}的设置" if zh else f"Settings of {name}"),
            rich(f"{labels[0]}: ", bold(chat.language)),
            rich(f"{labels[1]}: ", bold(at), f" ({chat.timezone})"),
            rich(
                f"{labels[2]}: ",
                bold(chat.detail.value),
                " · ",
                f"{labels[3]}: ",
                bold(str(chat.max_papers)),
            ),
            rich(f"{labels[4]}: ", bold(empty)),
        ]
    )
    if not usage:
        return body
    examples: list[Rich] = []
    for i, example in enumerate(usage):
        examples.append(rich(" · " if i else "", code(example)))
    hint = "点击下方按钮，或输入例如：" if zh else "Tap below, or type for example:"
    return rich(body, "\n\n", hint, "\n", *examples)


def digest_posted(language: str, *, topics: int, messages: int, queued: int) -> Rich:
    """The answer to /digest once its digests went out through the outbox."""
    zh = is_zh(language)
    if messages == 0 and queued:
        return rich(
            "摘要已排队，平台限速解除后送达。" if zh
            else "The digests are queued and will arrive as soon as the platform allows."
        )  # fmt: skip
    if zh:
        text = f"已发送 {topics} 个主题的最新摘要。"
        return rich(text + (f"另有 {queued} 条稍后送达。" if queued else ""))
    text = f"Posted the latest digest of {topics} topic{'s' if topics != 1 else ''}."
    return rich(text + (f" {queued} more will follow shortly." if queued else ""))


def no_listing_yet(language: str) -> Rich:
    if is_zh(language):
        return rich("尚未保存任何 arXiv 列表，且 arXiv 暂无响应。请几分钟后再试。")
    return rich(
        "No arXiv listing is stored yet and arXiv is not answering. "
        "Please try again in a few minutes."
    )


def arxiv_unavailable(language: str) -> Rich:
    if is_zh(language):
        return rich("arXiv 暂时无响应，请几分钟后再试。")
    return rich("arXiv is not answering right now. Please try again in a few minutes.")


def something_went_wrong(language: str) -> Rich:
    if is_zh(language):
        return rich("抱歉，我这边出了问题，已记录日志。")
    return rich("Sorry, something went wrong on my side. It has been logged.")


def user_error(error: UserError) -> Rich:
    """A person's mistake, explained. Errors that quote input (a query with a caret under the
    problem) keep their later lines as a preformatted block so the caret stays in place."""
    text = str(error)
    if "\n" in text:
        first, rest = text.split("\n", 1)
        return rich(first, "\n", pre(rest))
    return rich(text)
