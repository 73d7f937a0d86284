"""`paperboy run`: the long-running bot. Wires the core, the scheduler and the chat frontends
on one event loop, and shuts them down cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.chats import ChatService
from bot.config import Settings
from bot.cycle import DigestCycle, start_scheduler
from bot.delivery import Channel, Deliverer
from bot.errors import ConfigError
from bot.ratelimit import FloodControl
from bot.service import open_paperboy, utc_now
from handlers.telegram.app import TelegramFrontend
from handlers.telegram.context import Services

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30  # for the message in flight and the tick around it


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (by default: until SIGTERM or SIGINT)."""
    if settings.telegram_bot_token is None:
        raise ConfigError(
            "Invalid setting TELEGRAM_BOT_TOKEN: not set; `paperboy run` needs a bot token "
            "from @BotFather"
        )
    stop = stop or _stop_on_signals()
    async with open_paperboy(settings) as core:
        chats = ChatService(
            core.storage, core.digests, default_language=settings.language, clock=utc_now
        )
        services = Services(paperboy=core, chats=chats)
        telegram = TelegramFrontend(settings, services)
        channels: dict[str, Channel[object]] = {"telegram": telegram.channel}  # type: ignore[dict-item]
        deliverer = Deliverer(
            core.storage, core.summarizer, channels, flood=FloodControl(), clock=utc_now
        )
        cycle = DigestCycle(core, deliverer, clock=utc_now)
        services.cycle = cycle
        await telegram.start()
        scheduler = start_scheduler(cycle, every_seconds=settings.tick_seconds)
        try:
            await stop.wait()
            log.info("stopping: finishing the message in flight")
        finally:
            # The running tick (if any) ends after its current message; wait for it before
            # stopping the scheduler, whose shutdown would cancel it mid-send.
            cycle.stop.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                    await cycle.idle()
            scheduler.shutdown(wait=False)
            await telegram.stop()
    log.info("stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    return stop
