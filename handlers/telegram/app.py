"""The Telegram frontend: one python-telegram-bot `Application`, every handler registered here.

It shares the process's event loop with the scheduler (no `run_polling()`): `TelegramFrontend`
is started and stopped by the entry point around everything else.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot import replies
from bot.config import Settings
from bot.core import Core
from bot.delivery import Channel
from bot.errors import SourceUnavailable, UserError
from bot.frontend import PlatformUnreachable, TokenRejected
from bot.rich import plain_text
from handlers.telegram import commands
from handlers.telegram.context import PaperboyContext
from handlers.telegram.delivery import telegram_channel
from handlers.telegram.render import OutMessage

log = logging.getLogger(__name__)


# The command menu, in the order people need them; descriptions come from the core.
MENU = (
    "subscribe",
    "list",
    "unsubscribe",
    "digest",
    "paper",
    "settings",
    "pause",
    "resume",
    "help",
)

Handler = Any  # a coroutine function (Update, PaperboyContext) -> None

HANDLERS: dict[str, Handler] = {
    "start": commands.start,
    "help": commands.help_command,
    "subscribe": commands.subscribe,
    "unsubscribe": commands.unsubscribe,
    "list": commands.list_topics,
    "pause": commands.pause,
    "resume": commands.resume,
    "settings": commands.settings,
    "paper": commands.paper,
    "digest": commands.digest_now,
}


async def on_error(update: object, context: PaperboyContext) -> None:
    """Expected mistakes get their message; anything else is logged and apologised for."""
    error = context.error
    message = update.effective_message if isinstance(update, Update) else None
    query = update.callback_query if isinstance(update, Update) else None
    language = "en"
    user = update.effective_user if isinstance(update, Update) else None
    if user is not None and user.language_code:
        language = user.language_code
    try:
        if isinstance(error, UserError):
            if message is not None and query is None:
                await commands.reply_rich(message, replies.user_error(error))
            elif query is not None:
                await query.answer(str(error)[:190], show_alert=True)
            return
        if isinstance(error, SourceUnavailable):
            log.warning("arXiv unavailable while answering: %s", error)
            text = replies.arxiv_unavailable(language)
        else:
            log.error("handler failed", exc_info=error)
            text = replies.something_went_wrong(language)
        if query is not None:
            await query.answer(plain_text(text)[:190], show_alert=True)
        elif message is not None:
            await commands.reply_rich(message, text)
    except TelegramError as exc:  # e.g. the user blocked the bot meanwhile
        log.info("could not report an error to the chat: %s", exc)


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu, in English and (for Chinese-language clients) Chinese."""
    for language in ("en", "zh"):
        await application.bot.set_my_commands(
            [BotCommand(name, replies.describe_command(name, language)) for name in MENU],
            language_code=None if language == "en" else language,
        )


class _OutagePages(logging.Filter):
    """python-telegram-bot logs the HTML error page of an outage at ERROR before raising the
    `NetworkError` we handle; the handler's own warning is enough, so that line drops to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage().startswith(
            "Can not load invalid JSON data"
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_PTB_REQUEST_LOGGER = "telegram.request.BaseRequest"


def _quiet_outage_pages() -> None:
    logger = logging.getLogger(_PTB_REQUEST_LOGGER)
    if not any(isinstance(f, _OutagePages) for f in logger.filters):
        logger.addFilter(_OutagePages())


def _polling_failed(error: TelegramError) -> None:
    """A failed getUpdates (an outage's 502 page, a timeout): python-telegram-bot retries with
    backoff by itself, so one warning line says it, instead of its traceback at ERROR."""
    log.warning("Telegram polling failed, retrying: %s", error)


class TelegramFrontend:
    """Builds the Application and runs it on the current event loop."""

    platform = "telegram"

    def __init__(self, settings: Settings, core: Core) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        # Opt into python-telegram-bot's coming timedelta durations (RetryAfter.retry_after);
        # our code reads both forms, and this silences a deprecation warning per 429.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        _quiet_outage_pages()
        base = settings.telegram_api_url.rstrip("/")
        self.application = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(base)
            .base_file_url(base.removesuffix("/bot") + "/file/bot")
            .context_types(ContextTypes(context=PaperboyContext))
            .concurrent_updates(True)  # a slow /paper never holds up anybody else's command
            # Room for the final getUpdates at shutdown while a long poll is still open.
            .get_updates_connection_pool_size(2)
            .post_init(set_commands)
            .build()
        )
        self.application.bot_data["core"] = core
        for name, handler in HANDLERS.items():
            self.application.add_handler(CommandHandler(name, handler))
        self.application.add_handler(CallbackQueryHandler(commands.on_button))
        self.application.add_error_handler(on_error)
        self._channel: Channel[OutMessage] = telegram_channel(self.application.bot)

    @property
    def channel(self) -> Channel[OutMessage]:
        return self._channel

    async def start(self) -> None:
        app = self.application
        try:
            await app.initialize()
            if app.post_init is not None:
                await app.post_init(app)
        except InvalidToken:
            raise TokenRejected("TELEGRAM_BOT_TOKEN", "Telegram") from None
        except NetworkError as exc:  # TimedOut included; the Bot API or the network is down
            raise PlatformUnreachable(f"Telegram Bot API: {exc}") from None
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, error_callback=_polling_failed
        )
        log.info("Telegram bot @%s is running", app.bot.username)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
