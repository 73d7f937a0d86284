"""`paperboy run`: the long-running bot. Builds the core, starts the scheduler and every chat
frontend whose token is set (Telegram, Discord, or both) on one event loop, and shuts them down
cleanly on SIGTERM or Ctrl-C.

A platform that cannot be reached at start-up is retried with backoff, one log line per attempt,
while the other platform and the scheduler keep running. A token the platform rejects stops the
process with one line naming the setting (exit status 2, through `ConfigError`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.core import Clock, Core, open_core, utc_now
from bot.cycle import start_scheduler
from bot.errors import ConfigError
from bot.frontend import Frontend, PlatformUnreachable, TokenRejected
from handlers.health import Heartbeat, heartbeat_path, write_heartbeat

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30  # for the messages in flight and the tick around them
RETRY_FIRST_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0

FrontendFactory = Callable[[Settings, Core], Frontend]


def _telegram(settings: Settings, core: Core) -> Frontend:
    from handlers.telegram.app import TelegramFrontend  # loaded only when its token is set

    return TelegramFrontend(settings, core)


def _discord(settings: Settings, core: Core) -> Frontend:
    from handlers.discord.app import DiscordFrontend  # loaded only when its token is set

    return DiscordFrontend(settings, core)


def configured_frontends(settings: Settings) -> list[FrontendFactory]:
    factories: list[FrontendFactory] = []
    if settings.telegram_bot_token is not None:
        factories.append(_telegram)
    if settings.discord_bot_token is not None:
        factories.append(_discord)
    return factories


async def run_bot(
    settings: Settings, *, stop: asyncio.Event | None = None, clock: Clock = utc_now
) -> None:
    """Run until `stop` is set (by default: until SIGTERM or SIGINT)."""
    factories = configured_frontends(settings)
    if not factories:
        raise ConfigError(
            "Nothing to run: set TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN or both (see .env.example)"
        )
    stop = stop or _stop_on_signals()
    async with open_core(settings, clock=clock) as core:
        frontends = [factory(settings, core) for factory in factories]
        rejected: list[TokenRejected] = []
        scheduler = start_scheduler(core.cycle, every_seconds=settings.tick_seconds)
        _beat_with(scheduler, core, settings)
        deliveries: list[asyncio.Task[None]] = []
        starting = [
            asyncio.create_task(_start(frontend, core, stop, rejected, deliveries))
            for frontend in frontends
        ]
        try:
            await stop.wait()
            log.info("stopping: finishing the messages in flight")
        finally:
            for task in starting:
                task.cancel()
            await asyncio.gather(*starting, return_exceptions=True)
            # The running tick and any /digest delivery end after their current message; wait
            # for them before stopping the scheduler, whose shutdown would cancel a tick
            # mid-send, and before the frontends close the connections they send on.
            core.cycle.stop.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                    await core.cycle.idle()
                    await core.deliverer.idle()
                    await asyncio.gather(*deliveries)
            scheduler.shutdown(wait=False)
            for frontend in frontends:
                try:
                    await frontend.stop()
                except Exception:  # one platform's shutdown trouble must not skip the other's
                    log.exception("stopping %s failed", frontend.platform)
    if rejected:
        raise ConfigError(str(rejected[0]))
    log.info("stopped")


async def _start(
    frontend: Frontend,
    core: Core,
    stop: asyncio.Event,
    rejected: list[TokenRejected],
    deliveries: list[asyncio.Task[None]],
) -> None:
    """Start one frontend, retrying with backoff while its platform cannot be reached."""
    delay = RETRY_FIRST_SECONDS
    attempt = 1
    while not stop.is_set():
        try:
            await frontend.start()
        except TokenRejected as exc:
            rejected.append(exc)  # reported once, by the command line, as one line
            stop.set()
            return
        except PlatformUnreachable as exc:
            log.warning(
                "%s unreachable (attempt %d): %s; retrying in %.0f s",
                frontend.platform,
                attempt,
                exc,
                delay,
            )
            with contextlib.suppress(Exception):
                await frontend.stop()  # release what the failed attempt opened
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stop.wait()
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            attempt += 1
            continue
        core.add_channel(frontend.platform, frontend.channel)
        log.info("%s frontend started", frontend.platform)
        # What fell due for this platform while it was starting goes out now, beside any pass
        # over another platform, rather than at the next tick. Not part of this task: shutdown
        # cancels a start that is still retrying, but lets a delivery finish its message.
        deliveries.append(asyncio.create_task(_deliver(core, frontend.platform)))
        return


def _beat_with(scheduler: AsyncIOScheduler, core: Core, settings: Settings) -> None:
    """A heartbeat for `paperboy health` every tick, from a job of its own: it keeps beating
    during a long fan-out, and stops if the event loop hangs."""
    path = heartbeat_path(settings.db_path)
    failed = False

    async def beat() -> None:
        nonlocal failed
        progress = [t for t in (core.cycle.last_finished, core.deliverer.last_progress) if t]
        try:
            write_heartbeat(path, Heartbeat(core.clock(), max(progress, default=None)))
        except OSError as exc:
            if not failed:  # once: a read-only data directory is not news every minute
                log.warning("cannot write the health file %s: %s", path, exc)
            failed = True

    scheduler.add_job(
        beat,
        IntervalTrigger(seconds=settings.tick_seconds),
        id="heartbeat",
        next_run_time=datetime.now().astimezone(),
        coalesce=True,
        misfire_grace_time=None,
    )


async def _deliver(core: Core, platform: str) -> None:
    try:
        await core.deliverer.deliver_due(platforms=[platform])
    except Exception:  # the next tick tries again
        log.exception("delivering to %s failed", platform)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    return stop
