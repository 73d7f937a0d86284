"""Discord rendering: digests, paper cards and paper details as embeds with buttons.

Pure functions from the core's presentation model (`bot.present`) to `OutMessage`s. Every
message stays within Discord's limits whatever the input (`messages.MAX_*`): a digest is a
header embed (topic and facts) followed by one embed per paper, split into several messages
only between papers. Each paper has a row of buttons (Details, PDF, Code), and a message has at
most five rows, so at most five papers go into one message. A pathological field (a
10,000-character title) is shortened with an ellipsis; nothing is ever refused for length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.models import Chat, DetailLevel, Digest, Paper, Summary
from bot.present import (
    FACTS_SEP,
    DigestView,
    LinkView,
    PaperView,
    UpdatedView,
    digest_view,
    paper_card,
    paper_details,
    strings_for,
)
from handlers.discord.buttons import details_custom_id, review_custom_id
from handlers.discord.markup import escape, fit_escaped, fit_markdown, length, link, url
from handlers.discord.messages import (
    MAX_DESCRIPTION,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_ROWS,
    MAX_TITLE,
    Button,
    Embed,
    OutMessage,
)

ARXIV_RED = 0xB31B1B
UPDATE_GREY = 0x8B8B8B

# Caps per field, before the per-message budget: no real paper reaches them, but one
# pathological field must not crowd out the other papers of its message.
_PAPER_DESCRIPTION = 1100  # a pathological paper or two push the rest to the next message
_AUTHORS = 200
_TLDR = 500
_TAKEAWAY = 220
_TAKEAWAYS = 5
_URL = 512  # longer link targets are left out rather than eat the budget
_UPDATE_TITLE = 300
_HEADER_DESCRIPTION = 1000
_DETAILS_ABSTRACT = 2500


# --- Digests --------------------------------------------------------------------------------


class DiscordRenderer:
    """The core's `Renderer` for Discord: a digest as the messages to post, in order."""

    def render(self, chat: Chat, digest: Digest) -> Sequence[OutMessage]:
        return render_digest(digest, detail=chat.detail, language=chat.language)


def render_digest(digest: Digest, *, detail: DetailLevel, language: str) -> list[OutMessage]:
    view = digest_view(digest, detail=detail, language=language)
    header = _header(view)
    if view.is_empty:
        note = fit_escaped(view.empty_note or "", MAX_DESCRIPTION)
        return [OutMessage(embeds=(_with_description(header, note),))]
    items: list[tuple[Embed, tuple[Button, ...]]] = [
        (_paper_embed(paper), _paper_buttons(paper)) for paper in view.papers
    ]
    items += [(embed, ()) for embed in _updated_embeds(view)]
    return _pack(header, _continued(view), items)


def _pack(
    header: Embed, continued: Embed, items: Sequence[tuple[Embed, tuple[Button, ...]]]
) -> list[OutMessage]:
    """Fill messages in order, each starting with a header, within embed, size and row limits."""
    messages: list[OutMessage] = []
    embeds: list[Embed] = [header]
    rows: list[tuple[Button, ...]] = []
    for embed, buttons in items:
        fits = (
            len(embeds) < MAX_EMBEDS
            and sum(e.size() for e in embeds) + embed.size() <= MAX_EMBED_TOTAL
            and len(rows) + (1 if buttons else 0) <= MAX_ROWS
        )
        if not fits and len(embeds) > 1:
            messages.append(OutMessage(embeds=tuple(embeds), rows=tuple(rows)))
            embeds, rows = [continued], []
        embeds.append(embed)
        if buttons:
            rows.append(buttons)
    messages.append(OutMessage(embeds=tuple(embeds), rows=tuple(rows)))
    return messages


def _header(view: DigestView) -> Embed:
    lines = []
    if view.query:
        lines.append(escape(view.query))
    lines.append(escape(view.facts))
    if view.summary_note:
        lines.append(f"*{escape(view.summary_note)}*")
    return Embed(
        title=fit_escaped(view.name, MAX_TITLE),
        description=fit_markdown("\n".join(lines), _HEADER_DESCRIPTION),
        color=ARXIV_RED,
    )


def _continued(view: DigestView) -> Embed:
    return Embed(title=fit_escaped(view.continued, MAX_TITLE), color=ARXIV_RED)


def _with_description(embed: Embed, text: str) -> Embed:
    description = "\n".join(t for t in (embed.description, text) if t)
    return Embed(
        title=embed.title,
        url=embed.url,
        description=fit_markdown(description, MAX_DESCRIPTION),
        color=embed.color,
        footer=embed.footer,
    )


def _links(links: Iterable[LinkView]) -> str:
    return FACTS_SEP.join(link(ln.label, ln.url) for ln in links if len(ln.url) <= _URL)


def _summary_lines(paper: PaperView) -> list[str]:
    if paper.tldr is None:
        return []
    label = escape(paper.tldr_label + paper.labels.colon.rstrip())
    lines = [f"**{label}** {fit_escaped(paper.tldr, _TLDR)}"]
    lines += [f"• {fit_escaped(t, _TAKEAWAY)}" for t in paper.takeaways[:_TAKEAWAYS]]
    return lines


def _facts(paper: PaperView, authors: str) -> str:
    facts = [fit_escaped(authors, _AUTHORS)]
    if paper.primary_category:
        facts.append(escape(paper.primary_category))
    return FACTS_SEP.join(facts)


def _paper_embed(paper: PaperView) -> Embed:
    # The number is ours, so it is not escaped ("1\." would show in clients that do not
    # render lists in titles, which is all of them).
    number = f"{paper.number}. " if paper.number is not None else ""
    lines = [_facts(paper, paper.authors_short), *_summary_lines(paper)]
    links = _links(paper.compact_links)
    if links:
        lines.append(links)
    return Embed(
        title=number + fit_escaped(paper.title, MAX_TITLE - len(number)),
        url=paper.abs_url,
        description=fit_markdown("\n".join(lines), _PAPER_DESCRIPTION),
        color=ARXIV_RED,
    )


def _paper_buttons(paper: PaperView) -> tuple[Button, ...]:
    buttons: list[Button] = []
    custom_id = details_custom_id(paper.details_id) if paper.details_id else None
    if custom_id is not None:
        label = paper.labels.more_details
        if paper.number is not None:
            label = f"{paper.number}. {label}"
        buttons.append(Button(label, custom_id=custom_id))
    buttons.append(Button(paper.pdf.label, url=paper.pdf.url))
    if paper.code is not None and len(paper.code.url) <= _URL:
        buttons.append(Button(paper.code.label, url=paper.code.url))
    return tuple(buttons)


def _update_line(update: UpdatedView) -> str:
    label = f"{update.number}. {fit_escaped(update.title, _UPDATE_TITLE)}"
    return f"[{label}]({url(update.abs_url)}) — {escape(update.note)}"


def _updated_embeds(view: DigestView) -> list[Embed]:
    """The "updated since you saw them" lines, as many embeds as their length needs."""
    if not view.updated:
        return []
    heading = fit_escaped(view.updated_heading, MAX_TITLE)
    embeds: list[Embed] = []
    lines: list[str] = []
    for update in view.updated:
        line = _update_line(update)
        if lines and length("\n".join([*lines, line])) > _HEADER_DESCRIPTION * 2:
            embeds.append(Embed(title=heading, description="\n".join(lines), color=UPDATE_GREY))
            lines = []
        lines.append(line)
    embeds.append(Embed(title=heading, description="\n".join(lines), color=UPDATE_GREY))
    return embeds


# --- Single papers --------------------------------------------------------------------------


def render_paper_card(paper: Paper, summary: Summary | None, *, language: str) -> OutMessage:
    """The answer to ``/paper``: the paper's facts and summary, with Details, PDF and Code."""
    view = paper_card(paper, summary, language=language)
    lines = [_facts(view, view.authors_long)]
    if view.submitted:
        lines[0] += FACTS_SEP + escape(view.submitted)
    lines += _summary_lines(view)
    if view.summary_note and view.tldr is not None:
        lines.append(f"*{escape(view.summary_note)}*")
    links = _links(view.compact_links)
    if links:
        lines.append(links)
    embed = Embed(
        title=fit_escaped(view.title, MAX_TITLE),
        url=view.abs_url,
        description=fit_markdown("\n".join(lines), MAX_DESCRIPTION),
        color=ARXIV_RED,
        footer=view.versioned_id,
    )
    return OutMessage(embeds=(embed,), rows=(_paper_buttons(view),))


def render_paper_details(paper: Paper, summary: Summary | None, *, language: str) -> OutMessage:
    """What the Details button shows: everything we know of the paper, in one embed."""
    view = paper_details(paper, summary, language=language)
    labels = view.labels

    def labelled(label: str, text: str, limit: int) -> str:
        return f"**{escape(label + labels.colon.rstrip())}** {fit_escaped(text, limit)}"

    lines = [labelled(labels.authors, view.authors_long, 1500)]
    facts = [escape(c) for c in view.categories[:8]]
    if view.submitted:
        facts.append(escape(view.submitted))
    if facts:
        lines.append(FACTS_SEP.join(facts))
    lines += _summary_lines(view)
    lines.append(labelled(labels.abstract, view.abstract, _DETAILS_ABSTRACT))
    if view.comment:
        lines.append(labelled(labels.comment, view.comment, 300))
    if view.journal_ref:
        lines.append(labelled(labels.journal_ref, view.journal_ref, 300))
    links = _links(view.all_links)
    if links:
        lines.append(f"**{escape(labels.links + labels.colon.rstrip())}** {links}")
    embed = Embed(
        title=fit_escaped(view.title, MAX_TITLE),
        url=view.abs_url,
        description=fit_markdown("\n".join(lines), MAX_DESCRIPTION),
        color=ARXIV_RED,
        footer=view.versioned_id,
    )
    buttons = [Button(view.pdf.label, url=view.pdf.url)]
    if view.code is not None and len(view.code.url) <= _URL:
        buttons.append(Button(view.code.label, url=view.code.url))
    review_id = review_custom_id(view.details_id) if view.details_id else None
    if review_id is not None:  # a full review, one click away
        label = strings_for(language).full_review
        buttons.append(Button(label, custom_id=review_id, emoji="📖"))
    return OutMessage(embeds=(embed,), rows=(tuple(buttons),))
