"""The Discord frontend: one discord.py `Client` with a command tree, on the shared event loop.

`DiscordFrontend.start()` logs in, looks up the gateway, registers the slash commands if they
changed, and runs the gateway connection in a task (never `client.run()`, which would own the
loop); it returns once the client is ready. Start-up failures become the core's
`TokenRejected` (a 401, or gateway close 4004) or `PlatformUnreachable` (network, 5xx,
timeouts), with one line of explanation and no traceback.

The bot asks for no privileged intent: slash commands and buttons arrive as interactions, so
message content is never needed; the ``guilds`` intent keeps channels, roles and the bot's own
member cached, which is what "may I post here again?" (`regain_access`) is computed from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.config import Settings
from bot.core import Core
from bot.delivery import Channel
from bot.frontend import PlatformUnreachable, StartupError, TokenRejected
from handlers.discord.access import PLATFORM, can_post, channel_id_of
from handlers.discord.buttons import DetailsButton, ReviewButton
from handlers.discord.commands import Commands
from handlers.discord.delivery import discord_channel
from handlers.discord.messages import OutMessage
from handlers.discord.respond import report_error
from handlers.discord.slash import CONTEXTS, INSTALLS, ChineseTranslator, build_commands
from handlers.discord.sync import sync_if_changed

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "DISCORD_BOT_TOKEN"
START_TIMEOUT = 60.0  # login, gateway lookup, command sync and READY together
CLOSE_TIMEOUT = 10.0
AUTHENTICATION_FAILED = 4004  # gateway close code: the token is not (or no longer) valid
# Longer waits raise `RateLimited` instead of sleeping inside discord.py, so a delivery worker
# is not held for minutes: the core reschedules instead (30 s is discord.py's minimum).
MAX_RATELIMIT_WAIT = 30.0


class PaperboyTree(app_commands.CommandTree[discord.Client]):
    """The command tree; every failed command is answered by `report_error`."""

    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class PaperboyClient(discord.Client):
    """A client that knows our commands and buttons, and notices regained channel access."""

    def __init__(self, commands: Commands, core: Core, *, guild_ready_timeout: float) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            intents=intents,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.buttons = commands  # read by `DetailsButton` (buttons.ButtonHandler)
        self.core = core
        self.tree = PaperboyTree(self, allowed_contexts=CONTEXTS, allowed_installs=INSTALLS)
        for command in build_commands(commands):
            self.tree.add_command(command)

    async def setup_hook(self) -> None:
        # Matched on every component interaction, so buttons on messages sent by an earlier
        # process still work.
        self.add_dynamic_items(DetailsButton, ReviewButton)
        await self.tree.set_translator(ChineseTranslator())

    # -- regaining access ------------------------------------------------------------------

    async def regain_access(self, guild: discord.Guild) -> list[str]:
        """Resume this guild's channels whose deliveries were suspended for lack of access and
        that the bot may post to again. Returns the keys resumed."""
        try:
            suspended = await self.core.chats.suspended(PLATFORM)
            ready: list[str] = []
            for key in suspended:
                channel_id = channel_id_of(key)
                channel = guild.get_channel(channel_id) if channel_id is not None else None
                if channel is not None and can_post(channel):
                    ready.append(key)
            if not ready:
                return []
            resumed = await self.core.chats.regained_access(ready)
            if resumed:
                log.info("access regained; resuming deliveries to %s", ", ".join(resumed))
            return resumed
        except Exception:  # an event handler must never take the client down
            log.exception("checking regained access in guild %s failed", guild.id)
            return []

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        await self.regain_access(after.guild)

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        await self.regain_access(after.guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.regain_access(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.regain_access(guild)

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        # Only arrives for the bot itself without the members intent: a role given to the bot.
        if self.user is not None and after.id == self.user.id:
            await self.regain_access(after.guild)


class DiscordFrontend:
    """Starts and stops the Discord client on the running loop; `channel` delivers digests."""

    def __init__(
        self,
        settings: Settings,
        core: Core,
        *,
        start_timeout: float = START_TIMEOUT,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        if settings.discord_bot_token is None:
            raise ValueError(f"{TOKEN_VARIABLE} is not set")
        self._settings = settings
        self._core = core
        self._commands = Commands(core)
        self._start_timeout = start_timeout
        self._guild_ready_timeout = guild_ready_timeout
        self._client: PaperboyClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._channel: Channel[OutMessage] = discord_channel(self._current_client)

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def channel(self) -> Channel[Any]:
        return self._channel

    @property
    def client(self) -> PaperboyClient | None:
        """The running client (None before `start` and after a failed one)."""
        return self._client

    def _current_client(self) -> discord.Client | None:
        return self._client

    async def start(self) -> None:
        assert self._settings.discord_bot_token is not None
        token = self._settings.discord_bot_token.get_secret_value()
        # Both addresses are class attributes of discord.py, read on every request and every
        # (re)connection, so they are process-wide: one Discord per process, set before any
        # request. REST goes to DISCORD_API_URL; the gateway is whatever that API's
        # /gateway/bot says, because a plain Client never asks and would otherwise connect to
        # (and, after an INVALID_SESSION, return to) the real gateway.
        Route.BASE = self._settings.discord_api_url
        client = PaperboyClient(
            self._commands, self._core, guild_ready_timeout=self._guild_ready_timeout
        )
        self._client = client
        try:
            async with asyncio.timeout(self._start_timeout):
                await self._connect(client, token)
        except BaseException as exc:
            await self.stop()
            raise _startup_error(exc) from None
        assert client.user is not None
        log.info("Discord bot %s is running", client.user)

    async def _connect(self, client: PaperboyClient, token: str) -> None:
        await client.login(token)
        _, url, _ = await client.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        try:
            await sync_if_changed(client, client.tree)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            # A refused definition is our bug; the commands registered before still work.
            log.error("Discord refused the slash commands: %s", exc)
        task = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        self._task = task
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if task.done():
            failure = task.exception()
            raise failure or PlatformUnreachable("Discord closed the gateway")
        # From now on nobody awaits start(): a later end of the connection is logged.
        task.add_done_callback(_report_stop)

    async def stop(self) -> None:
        client, task = self._client, self._task
        self._client, self._task = None, None
        if client is not None and not client.is_closed():
            with contextlib.suppress(Exception):
                await client.close()
        if task is not None and not task.done():
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await asyncio.shield(task)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                pass  # already reported by _report_stop


def _startup_error(exc: BaseException) -> BaseException:
    """The core's start-up error for what starting raised (the exception itself if unknown)."""
    if isinstance(exc, StartupError):
        return exc
    if isinstance(exc, discord.LoginFailure):
        return TokenRejected(TOKEN_VARIABLE, "Discord")
    if isinstance(exc, discord.ConnectionClosed) and exc.code == AUTHENTICATION_FAILED:
        return TokenRejected(TOKEN_VARIABLE, "Discord")
    if isinstance(exc, TimeoutError):
        return PlatformUnreachable("Discord did not answer in time")
    if isinstance(exc, discord.GatewayNotFound):
        return PlatformUnreachable("Discord did not give a gateway address (GET /gateway/bot)")
    if isinstance(exc, discord.HTTPException) and (exc.status >= 500 or exc.status == 429):
        return PlatformUnreachable(f"Discord answered {exc.status} {exc.response.reason}")
    if isinstance(exc, discord.ConnectionClosed):
        return PlatformUnreachable(f"Discord closed the gateway connection ({exc.code})")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return PlatformUnreachable(f"Discord is unreachable: {exc or type(exc).__name__}")
    return exc


def _report_stop(task: asyncio.Task[None]) -> None:
    """The gateway task ended on its own: say why, once (the entry point keeps running)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is None:
        return
    error = _startup_error(exc)
    if isinstance(error, TokenRejected):
        log.error("%s; the Discord bot stopped", error)
    else:
        log.error("the Discord gateway connection ended: %s", error)
