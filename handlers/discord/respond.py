"""Answering an interaction: the first answer or a followup, text or embeds, and errors.

Discord wants an answer to every interaction within 3 seconds; slow commands defer first, and
everything after that is a followup. `answer` hides which of the two applies. `report_error`
is the one place where failures become replies: a person's mistake gets its explanation, an
arXiv outage a "try again later", anything else is logged with its traceback and apologised
for. Ephemeral answers are seen only by the person who used the command.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot import replies
from bot.errors import SourceUnavailable, UserError
from bot.rich import Rich
from handlers.discord.buttons import view_of
from handlers.discord.markup import fit_markdown, length, to_markdown
from handlers.discord.messages import MAX_CONTENT, MAX_DESCRIPTION, Embed, OutMessage

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
REPLY_COLOR = 0x5865F2


def language_of(interaction: discord.Interaction[Any]) -> str:
    """The person's client language, for answers given before a chat's own language is known."""
    return "zh" if str(interaction.locale).lower().startswith("zh") else "en"


def as_message(text: Rich) -> OutMessage:
    """A reply as message content, or as an embed when it is too long for content."""
    markdown = to_markdown(text)
    if length(markdown) <= MAX_CONTENT:
        return OutMessage(content=markdown or "…")
    return OutMessage(embeds=(Embed(description=fit_markdown(markdown, MAX_DESCRIPTION)),))


async def answer(
    interaction: discord.Interaction[Any],
    message: OutMessage | Rich,
    *,
    ephemeral: bool,
    files: Sequence[discord.File] = (),
) -> None:
    """Send `message` as the interaction's answer, or as a followup once it was deferred,
    with `files` uploaded alongside (an embed shows one as ``attachment://<name>``)."""
    out = message if isinstance(message, OutMessage) else as_message(message)
    kwargs: dict[str, Any] = {"ephemeral": ephemeral, "allowed_mentions": NO_MENTIONS}
    if files:
        kwargs["files"] = list(files)
    if out.content:
        kwargs["content"] = out.content
    if out.embeds:
        kwargs["embeds"] = out.discord_embeds()
    if out.rows:
        kwargs["view"] = view_of(out.rows)
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


def unwrap(error: BaseException) -> BaseException:
    """The exception a command raised, out of discord.py's wrapper."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


async def report_error(
    interaction: discord.Interaction[Any], error: BaseException, *, language: str | None = None
) -> None:
    """Answer a failed command or button; never raises (the client must keep running)."""
    error = unwrap(error)
    language = language or language_of(interaction)
    if isinstance(error, UserError):
        text = replies.user_error(error)
    elif isinstance(error, SourceUnavailable):
        log.warning("arXiv unavailable while answering: %s", error)
        text = replies.arxiv_unavailable(language)
    else:
        name = interaction.command.qualified_name if interaction.command else "interaction"
        log.error("%s failed", name, exc_info=error)
        text = replies.something_went_wrong(language)
    try:
        await answer(interaction, text, ephemeral=True)
    except (discord.HTTPException, discord.InteractionResponded) as exc:
        # Answered too late (10062) or the channel went away: nobody is left to tell.
        log.info("could not report an error to the user: %s", exc)
