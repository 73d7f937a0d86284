"""Discord as a delivery channel: post rendered digests, and translate Discord's answers into
the core's delivery errors.

Exactly once: every message is posted with the core's idempotency key as ``nonce`` and
``enforce_nonce``, so a message re-sent after a crash (the platform had it, our record did not)
is answered with the message Discord already has instead of a second copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp
import discord
from discord.http import Route

from bot.delivery import (
    Channel,
    ChatUnreachable,
    MessageRejected,
    RetryAfter,
    TemporaryFailure,
)
from bot.models import Chat
from bot.ratelimit import DISCORD_LIMITS
from handlers.discord.messages import OutMessage
from handlers.discord.render import DiscordRenderer

log = logging.getLogger(__name__)

# Discord error codes that mean the chat itself is out of reach: retrying will not help until
# someone gives the bot its access back (the core then keeps the deliveries queued).
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
MISSING_ACCESS = 50001
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
_UNREACHABLE = {UNKNOWN_CHANNEL, UNKNOWN_USER, MISSING_ACCESS, CANNOT_DM, MISSING_PERMISSIONS}
_DEFAULT_RETRY_AFTER = 5.0


def _retry_after(exc: discord.HTTPException) -> float:
    try:
        return float(exc.response.headers.get("Retry-After", _DEFAULT_RETRY_AFTER))
    except (AttributeError, TypeError, ValueError):
        return _DEFAULT_RETRY_AFTER


def delivery_error(exc: BaseException) -> BaseException:
    """The core's delivery error for what discord.py raised (the exception itself if unknown)."""
    if isinstance(exc, discord.RateLimited):  # a wait longer than max_ratelimit_timeout
        return RetryAfter(exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        what = f"{exc.status} {exc.code}: {exc.text[:200]}".strip()
        if exc.status == 429:  # discord.py gave up after its own retries
            return RetryAfter(_retry_after(exc))
        if isinstance(exc, discord.Forbidden | discord.NotFound) or exc.code in _UNREACHABLE:
            return ChatUnreachable(what)
        if isinstance(exc, discord.DiscordServerError) or exc.status >= 500:
            return TemporaryFailure(what)
        if exc.status == 401:  # the token stopped working: not this chat's fault
            return TemporaryFailure(what)
        return MessageRejected(what)
    if isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        return TemporaryFailure(str(exc) or type(exc).__name__)
    return exc


class DiscordSender:
    """Posts one message to a server channel, or to a user's DMs (opened on first use)."""

    def __init__(self, client: Callable[[], discord.Client | None]) -> None:
        self._client = client  # the frontend's current client: a restart makes a new one
        self._dm_channels: dict[int, int] = {}  # user id → DM channel id, for this process

    async def send(self, chat: Chat, message: OutMessage, *, key: str) -> None:
        client = self._client()
        if client is None or client.is_closed() or client.http.token is None:
            raise TemporaryFailure("not connected to Discord")
        try:
            channel_id = await self._channel_id(client, chat)
            await post(client, channel_id, message, nonce=key)
        except Exception as exc:
            mapped = delivery_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _channel_id(self, client: discord.Client, chat: Chat) -> int:
        target = chat.platform_id
        if not target.startswith("@"):
            return int(target)
        user_id = int(target[1:])
        channel_id = self._dm_channels.get(user_id)
        if channel_id is None:
            data = await client.http.start_private_message(user_id)
            channel_id = int(data["id"])
            self._dm_channels[user_id] = channel_id
        return channel_id


async def post(
    client: discord.Client, channel_id: int, message: OutMessage, *, nonce: str | None = None
) -> None:
    """``POST /channels/{id}/messages`` through discord.py's HTTP client (its rate limiting
    and retries included), with the nonce enforced when one is given."""
    payload = message.payload()
    if nonce is not None:
        payload.update(nonce=nonce, enforce_nonce=True)
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    await client.http.request(route, json=payload)


def discord_channel(client: Callable[[], discord.Client | None]) -> Channel[OutMessage]:
    return Channel(renderer=DiscordRenderer(), sender=DiscordSender(client), limits=DISCORD_LIMITS)
