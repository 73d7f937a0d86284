"""`paperboy stats` on the terminal: the figures as aligned tables, or as JSON.

The figures and the JSON keys come from `bot.stats`; this module only lays them out, in
English: labels left-aligned, numbers right-aligned with thousands separators.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from bot.stats import stats_dict
from storage.interfaces import Stats

_GAP = "  "


def _n(value: int) -> str:
    return f"{value:,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns as wide as their widest cell: the first left-aligned, the others right."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return _GAP.join((first, *rest)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _span(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return ""
    if first == last:
        return f"  ({first.isoformat()})"
    return f"  ({first.isoformat()} to {last.isoformat()})"


def render_stats_text(stats: Stats) -> str:
    """The readable report: one block per subject, separated by blank lines."""
    lines = [f"Paperboy statistics, {stats.today.isoformat()} (UTC)", ""]
    days = _span(stats.first_listing, stats.last_listing)
    overview = [
        ("Papers stored", stats.papers, f"  ({_n(stats.papers_announced)} announced in a listing)"),
        ("Announcement days", stats.announcement_days, days),
        ("Topics", stats.topics, f"  ({_n(stats.topics_followed)} followed by a chat)"),
    ]
    label_width = max(len(label) for label, _, _ in overview)
    value_width = max(len(_n(value)) for _, value, _ in overview)
    for label, value, note in overview:
        lines.append(f"{label.ljust(label_width)}{_GAP}{_n(value).rjust(value_width)}{note}")

    lines.append("")
    lines += _table(
        ("Chats", "Chats", "Paused", "Suspended", "Subscriptions", "Topics"),
        [
            (p.platform.capitalize(), _n(p.chats), _n(p.paused), _n(p.suspended),
             _n(p.subscriptions), _n(p.topics))
            for p in stats.platforms
        ],
    )  # fmt: skip

    lines.append("")
    lines += _table(
        ("Cached", "LLM", "Extractive", "Total"),
        [
            (name, _n(c.llm), _n(c.extractive), _n(c.total))
            for name, c in (("Summaries", stats.summaries), ("Reviews", stats.reviews))
        ],
    )

    lines.append("")
    lines += _table(
        ("LLM usage", "Calls", "Prompt tokens", "Completion tokens", "Total tokens"),
        [
            (name, _n(u.calls), _n(u.prompt_tokens), _n(u.completion_tokens), _n(u.total_tokens))
            for name, u in (("Today", stats.llm_today), ("Last 7 days", stats.llm_last_7_days))
        ],
    )

    d = stats.deliveries
    lines.append("")
    lines += _table(
        ("Deliveries", "Sent", "Queued", "Paused", "Suspended", "Skipped", "Failed"),
        [("All chats", _n(d.sent), _n(d.queued), _n(d.paused), _n(d.suspended), _n(d.skipped),
          _n(d.failed))],
    )  # fmt: skip
    lines += [
        "",
        "Paused: by a person (/pause). Suspended: by delivery, when the bot lost access to the",
        "chat; resumed when access comes back. Queued, paused and suspended deliveries are",
        "pending: kept until they can go out. Skipped: empty digests nobody asked for.",
    ]
    return "\n".join(lines) + "\n"


def render_stats_json(stats: Stats) -> str:
    """The figures as one JSON object (`bot.stats.stats_dict`), keys in a fixed order."""
    return json.dumps(stats_dict(stats), indent=2) + "\n"
