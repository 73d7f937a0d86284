"""A paper's first figure as the image of its card's embed (`/paper`, the Details button).

The image is uploaded with the message (never hot-linked) and shown by the embed as
``attachment://figure1.png``, fitted to `DISCORD_IMAGE` (10 MiB, sides ≤ 4096). Ephemeral
followups carry files too, so Details get the figure as well. A figure is a bonus: with none,
one still on its way after `FIGURE_WAIT`, or one Discord refuses, the card goes out without
an image (the refusal logged as a warning). Digests stay text-only.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import Any

import discord

from bot.core import Core
from bot.models import Paper
from handlers.discord.messages import OutMessage
from handlers.discord.respond import answer

__all__ = ["FIGURE_WAIT", "answer_with_figure", "with_image"]

log = logging.getLogger(__name__)

FIGURE_WAIT = 20.0  # seconds the card waits for a figure still being fetched (defer allows 15 min)


def with_image(message: OutMessage, filename: str) -> OutMessage:
    """`message` with its first embed showing the attached file `filename`."""
    if not message.embeds:
        return message
    first = replace(message.embeds[0], image=f"attachment://{filename}")
    return replace(message, embeds=(first, *message.embeds[1:]))


async def answer_with_figure(
    interaction: discord.Interaction[Any],
    core: Core,
    paper: Paper,
    card: OutMessage,
    *,
    ephemeral: bool,
) -> None:
    """Answer with `card`, its embed showing `paper`'s first figure when there is one."""
    from bot.fulltext.figures import DISCORD_IMAGE

    figure = await core.figures.first_figure(paper, wait=FIGURE_WAIT)
    image = None if figure is None else await figure.for_platform(DISCORD_IMAGE)
    if image is not None:
        file = discord.File(io.BytesIO(image.data), filename=image.filename)
        try:
            await answer(
                interaction, with_image(card, image.filename), ephemeral=ephemeral, files=[file]
            )
            return
        except discord.HTTPException as exc:
            log.warning("Discord refused the figure of %s: %s", paper.versioned_id, exc)
    await answer(interaction, card, ephemeral=ephemeral)
