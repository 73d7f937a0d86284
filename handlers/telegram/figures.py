"""A paper's first figure as a Telegram photo, sent before its card (`/paper`, Details).

The photo is uploaded (never hot-linked: Telegram would fetch arXiv on every view, from its own
servers), fitted to `TELEGRAM_PHOTO` (10 MB, width + height ≤ 10000, sides ≤ 2560) and captioned
with the figure's caption, shortened to Telegram's 1024 characters. A figure is a bonus: when
there is none, when it takes longer than `FIGURE_WAIT`, or when Telegram refuses the photo, the
card goes out alone and the failure is logged as a warning. Digests stay text-only: a photo per
paper would flood the chats they go to.
"""

from __future__ import annotations

import html
import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.core import Core
from bot.figures import Figure
from bot.models import Paper

__all__ = ["FIGURE_WAIT", "MAX_CAPTION", "figure_caption", "send_first_figure"]

log = logging.getLogger(__name__)

FIGURE_WAIT = 20.0  # seconds the card waits for a figure still being fetched
MAX_CAPTION = 1024  # Telegram's media caption limit, after entity parsing

_PAGE = {"en": "Page {page} of the PDF", "zh": "PDF 第 {page} 页"}


def figure_caption(figure: Figure, language: str) -> str:
    """The photo's caption as Telegram HTML, at most `MAX_CAPTION` characters once parsed."""
    if figure.caption:
        return html.escape(figure.short_caption(MAX_CAPTION), quote=False)
    if figure.page is not None:
        return html.escape(_PAGE.get(language, _PAGE["en"]).format(page=figure.page))
    return ""


async def send_first_figure(
    bot: Bot, chat_id: int, core: Core, paper: Paper, *, language: str
) -> bool:
    """Send `paper`'s first figure to `chat_id` as a photo; False when there was none to send
    or Telegram refused it (never raises: the card must still go out)."""
    from bot.fulltext.figures import TELEGRAM_PHOTO

    figure = await core.figures.first_figure(paper, wait=FIGURE_WAIT)
    if figure is None:
        return False
    image = await figure.for_platform(TELEGRAM_PHOTO)
    if image is None:
        return False
    try:
        await bot.send_photo(
            chat_id=chat_id,
            photo=image.data,
            filename=image.filename,
            caption=figure_caption(figure, language) or None,
            parse_mode=ParseMode.HTML,
        )
    except TelegramError as exc:
        log.warning("Telegram refused the figure of %s: %s", paper.versioned_id, exc)
        return False
    return True
