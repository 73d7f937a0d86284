"""The Telegram frontend: one python-telegram-bot `Application`, every handler registered here.

It shares the process's event loop with the scheduler (no `run_polling()`): `TelegramFrontend`
is started and stopped by the entry point around everything else.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.config import Settings
from bot.delivery import Channel
from bot.errors import SourceUnavailable, UserError
from handlers.telegram import commands
from handlers.telegram.context import PaperboyContext, Services
from handlers.telegram.delivery import telegram_channel
from handlers.telegram.render import OutMessage

log = logging.getLogger(__name__)

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("subscribe", 'Follow a topic: /subscribe "talking head" OR lipsync'),
        ("list", "Topics of this chat"),
        ("unsubscribe", "Stop following a topic"),
        ("digest", "The latest digest, now"),
        ("paper", "One paper: /paper 2409.03605"),
        ("settings", "Language, time, time zone, detail"),
        ("pause", "Pause digests"),
        ("resume", "Resume digests"),
        ("help", "Query language and commands"),
    ],
    "zh": [
        ("subscribe", '订阅主题：/subscribe "talking head" OR lipsync'),
        ("list", "本聊天的订阅主题"),
        ("unsubscribe", "取消订阅主题"),
        ("digest", "立即发送最新摘要"),
        ("paper", "查看论文：/paper 2409.03605"),
        ("settings", "语言、时间、时区、详细程度"),
        ("pause", "暂停推送"),
        ("resume", "恢复推送"),
        ("help", "查询语法与命令"),
    ],
}

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
    try:
        if isinstance(error, UserError):
            if message is not None and query is None:
                await commands.reply_error(message, error)
            elif query is not None:
                await query.answer(str(error)[:190], show_alert=True)
            return
        if isinstance(error, SourceUnavailable):
            log.warning("arXiv unavailable while answering: %s", error)
            text = "arXiv is not answering right now. Please try again in a few minutes."
        else:
            log.error("handler failed", exc_info=error)
            text = "Sorry, something went wrong on my side. It has been logged."
        if query is not None:
            await query.answer(text[:190], show_alert=True)
        elif message is not None:
            await message.reply_text(text)
    except TelegramError as exc:  # e.g. the user blocked the bot meanwhile
        log.info("could not report an error to the chat: %s", exc)


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu, in English and (for Chinese-language clients) Chinese."""
    for language, entries in COMMANDS.items():
        await application.bot.set_my_commands(
            [BotCommand(name, description) for name, description in entries],
            language_code=None if language == "en" else language,
        )


class TelegramFrontend:
    """Builds the Application and runs it on the current event loop."""

    def __init__(self, settings: Settings, services: Services) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        # Opt into python-telegram-bot's coming timedelta durations (RetryAfter.retry_after);
        # our code reads both forms, and this silences a deprecation warning per 429.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
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
        self.application.bot_data["services"] = services
        for name, handler in HANDLERS.items():
            self.application.add_handler(CommandHandler(name, handler))
        self.application.add_handler(CallbackQueryHandler(commands.on_button))
        self.application.add_error_handler(on_error)
        self.channel: Channel[OutMessage] = telegram_channel(self.application.bot)

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        log.info("Telegram bot @%s is running", app.bot.username)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
