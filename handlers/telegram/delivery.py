"""Telegram as a delivery channel: render digests to HTML messages, send them, and translate
Telegram's answers into the core's delivery errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.delivery import (
    Channel,
    ChatMoved,
    ChatUnreachable,
    MessageRejected,
    TemporaryFailure,
)
from bot.delivery import RetryAfter as CoreRetryAfter
from bot.models import Chat, Digest
from bot.ratelimit import TELEGRAM_LIMITS, FloodLimits
from handlers.telegram.context import chat_key
from handlers.telegram.render import (
    OutMessage,
    render_digest,
    render_empty_digest,
    to_reply_markup,
)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# BadRequest descriptions that mean the chat itself is out of reach, not that the message
# was malformed.
_UNREACHABLE = (
    "chat not found",
    "need administrator rights",
    "not enough rights",
    "chat_write_forbidden",
    "have no rights to send",
    "bot is not a member",
    "user is deactivated",
    "peer_id_invalid",
)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramRenderer:
    def render(self, chat: Chat, digest: Digest) -> Sequence[OutMessage]:
        if not digest.entries:
            return [render_empty_digest(digest, language=chat.language)]
        return render_digest(digest, detail=chat.detail, language=chat.language)


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat: Chat, message: OutMessage, *, key: str) -> None:
        # `key` is unused: the Bot API has no idempotency key (see the README's guarantee).
        await send_message(self._bot, int(chat.platform_id), message)


async def send_message(bot: Bot, chat_id: int, message: OutMessage) -> None:
    """Send one rendered message; raise the core's delivery errors on failure."""
    try:
        await bot.send_message(
            chat_id=chat_id,
            text=message.text,
            parse_mode=ParseMode.HTML,
            reply_markup=to_reply_markup(message.buttons),
            link_preview_options=NO_PREVIEW,
        )
    except RetryAfter as exc:
        raise CoreRetryAfter(_seconds(exc.retry_after)) from exc
    except ChatMigrated as exc:
        raise ChatMoved(chat_key(exc.new_chat_id)) from exc
    except Forbidden as exc:
        raise ChatUnreachable(exc.message) from exc
    except BadRequest as exc:
        if any(marker in exc.message.lower() for marker in _UNREACHABLE):
            raise ChatUnreachable(exc.message) from exc
        raise MessageRejected(exc.message) from exc
    except NetworkError as exc:  # includes TimedOut
        raise TemporaryFailure(str(exc) or type(exc).__name__) from exc


def telegram_channel(bot: Bot, limits: FloodLimits = TELEGRAM_LIMITS) -> Channel[OutMessage]:
    return Channel(renderer=TelegramRenderer(), sender=TelegramSender(bot), limits=limits)
