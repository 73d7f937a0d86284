"""Pieces of the Discord frontend that need no server: error mapping, the comparison that
decides whether slash commands are synced, the zh-CN translations, and chat keys."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from bot.delivery import ChatUnreachable, MessageRejected, RetryAfter, TemporaryFailure
from bot.frontend import PlatformUnreachable, TokenRejected
from bot.models import ChatKind
from handlers.discord.access import (
    WrongPlace,
    channel_id_of,
    channel_key,
    missing_bot_permissions,
    place_of,
    user_key,
)
from handlers.discord.app import _startup_error
from handlers.discord.delivery import delivery_error
from handlers.discord.slash import ChineseTranslator
from handlers.discord.sync import normalize

CONNECTION: Any = SimpleNamespace(ssl=None, host="h", port=1)


def http_error(status: int, code: int = 0, message: str = "nope") -> discord.HTTPException:
    response: Any = SimpleNamespace(status=status, reason="Reason", headers={"Retry-After": "7"})
    cls = {403: discord.Forbidden, 404: discord.NotFound}.get(status, discord.HTTPException)
    if status >= 500:
        cls = discord.DiscordServerError
    return cls(response, {"code": code, "message": message})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (http_error(404, 10003, "Unknown Channel"), ChatUnreachable),
        (http_error(403, 50001, "Missing Access"), ChatUnreachable),
        (http_error(403, 50013, "Missing Permissions"), ChatUnreachable),
        (http_error(403, 50007, "Cannot send messages to this user"), ChatUnreachable),
        (http_error(400, 50035, "Invalid Form Body"), MessageRejected),
        (http_error(400, 50006, "Cannot send an empty message"), MessageRejected),
        (http_error(500), TemporaryFailure),
        (http_error(503), TemporaryFailure),
        (http_error(401, 0, "401: Unauthorized"), TemporaryFailure),
        (http_error(429), RetryAfter),
        (discord.RateLimited(42.0), RetryAfter),
        (aiohttp.ClientConnectionError("reset"), TemporaryFailure),
        (TimeoutError(), TemporaryFailure),
        (ConnectionRefusedError(111, "refused"), TemporaryFailure),
    ],
)
def test_delivery_errors_map_to_what_the_core_should_do(
    error: BaseException, expected: type[BaseException]
) -> None:
    mapped = delivery_error(error)
    assert isinstance(mapped, expected)
    if isinstance(mapped, RetryAfter):
        assert mapped.seconds in {7.0, 42.0}


def test_unknown_errors_are_left_alone() -> None:
    bug = KeyError("x")
    assert delivery_error(bug) is bug


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (discord.LoginFailure("Improper token has been passed."), TokenRejected),
        (discord.ConnectionClosed(SimpleNamespace(close_code=4004), shard_id=None), TokenRejected),  # type: ignore[arg-type]
        (aiohttp.ClientConnectorError(CONNECTION, OSError(111, "refused")), PlatformUnreachable),
        (http_error(503), PlatformUnreachable),
        (discord.GatewayNotFound(), PlatformUnreachable),
        (TimeoutError(), PlatformUnreachable),
    ],
)  # fmt: skip
def test_startup_errors(error: BaseException, expected: type[BaseException]) -> None:
    mapped = _startup_error(error)
    assert isinstance(mapped, expected)
    if isinstance(mapped, TokenRejected):
        assert str(mapped) == "Invalid setting DISCORD_BOT_TOKEN: Discord rejected the token"
    assert "\n" not in str(mapped)


def test_chat_keys() -> None:
    assert channel_key(123) == "discord:123" and user_key(5) == "discord:@5"
    assert channel_id_of("discord:123") == 123
    assert channel_id_of("discord:@5") is None and channel_id_of("telegram:123") is None


def test_missing_bot_permissions_are_named() -> None:
    assert missing_bot_permissions(discord.Permissions(view_channel=True)) == [
        "Send Messages",
        "Embed Links",
    ]
    everything = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
    assert missing_bot_permissions(everything) == []


def test_sync_comparison_ignores_what_discord_fills_in() -> None:
    ours = [
        {
            "name": "paper",
            "description": "One paper",
            "type": 1,
            "options": [{"type": 3, "name": "id", "description": "id", "required": True},
                        {"type": 5, "name": "full", "description": "f", "required": False}],
            "nsfw": False,
            "dm_permission": True,
            "default_member_permissions": 16,
            "contexts": [1, 0],
            "integration_types": [0],
            "name_localizations": {},
            "description_localizations": {"zh-CN": "论文"},
        }
    ]  # fmt: skip
    theirs = [
        {
            "id": "1",
            "application_id": "2",
            "version": "3",
            "name": "paper",
            "description": "One paper",
            "options": [{"type": 3, "name": "id", "description": "id", "required": True},
                        {"type": 5, "name": "full", "description": "f"}],
            "default_member_permissions": "16",
            "contexts": [0, 1],
            "integration_types": [0],
            "name_localizations": None,
            "description_localizations": {"zh-CN": "论文"},
        }
    ]  # fmt: skip
    assert normalize(ours) == normalize(theirs)
    changed = [dict(theirs[0], description="Another")]
    assert normalize(ours) != normalize(changed)
    localized = [dict(theirs[0], description_localizations={})]
    assert normalize(ours) != normalize(localized)


async def test_translator_gives_zh_cn_descriptions_only() -> None:
    translator = ChineseTranslator()
    text = discord.app_commands.locale_str("Follow a topic", zh="订阅一个主题")
    context: Any = SimpleNamespace(location=None, data=None)
    assert await translator.translate(text, discord.Locale.chinese, context) == "订阅一个主题"
    assert await translator.translate(text, discord.Locale.german, context) is None
    plain = discord.app_commands.locale_str("subscribe")
    assert await translator.translate(plain, discord.Locale.chinese, context) is None


def interaction(channel_type: discord.ChannelType | None, guild_id: int | None = 9) -> Any:
    channel = SimpleNamespace(type=channel_type, name="papers")
    user = SimpleNamespace(id=5, __str__=lambda self: "ada")
    return SimpleNamespace(guild_id=guild_id, channel=channel, channel_id=77, user=user)


@pytest.mark.parametrize(
    "kind",
    [
        discord.ChannelType.public_thread,
        discord.ChannelType.private_thread,
        discord.ChannelType.voice,
        discord.ChannelType.forum,
        discord.ChannelType.stage_voice,
    ],
)
def test_digests_need_a_text_or_announcement_channel(kind: discord.ChannelType) -> None:
    with pytest.raises(WrongPlace, match="text or announcement channel"):
        place_of(interaction(kind))


def test_places_and_their_chat_keys() -> None:
    text = place_of(interaction(discord.ChannelType.text))
    news = place_of(interaction(discord.ChannelType.news))
    assert text == news
    assert (text.key, text.kind, text.title, text.in_server) == (
        "discord:77",
        ChatKind.GROUP,
        "#papers",
        True,
    )
    dm = place_of(interaction(discord.ChannelType.private, guild_id=None))
    assert (dm.key, dm.kind, dm.in_server) == ("discord:@5", ChatKind.PRIVATE, False)
