"""Subscriptions and settings, and the parsing of what people type into /settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.chats import (
    MAX_SUBSCRIPTIONS,
    ChatService,
    InvalidSetting,
    NoSuchSubscription,
    TooManySubscriptions,
    parse_delivery_time,
    parse_detail,
    parse_language,
    parse_max_papers,
    parse_timezone,
)
from bot.digest import DigestBuilder
from bot.errors import InvalidLanguage, InvalidQuery
from bot.models import ChatKind, DetailLevel
from storage import Storage

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Beijing", "Asia/Shanghai"),
        ("UTC+8", "Etc/GMT-8"),
        ("utc-5", "Etc/GMT+5"),
        ("+0", "UTC"),
        ("America/New York", "America/New_York"),
    ],
)
def test_timezones(text: str, zone: str) -> None:
    assert parse_timezone(text) == zone


@pytest.mark.parametrize("text", ["", "Mars/Olympus", "UTC+99", "<b>", "🙂"])
def test_bad_timezones_say_what_to_use(text: str) -> None:
    with pytest.raises(InvalidSetting, match=r"time zone|Give a time zone|offset"):
        parse_timezone(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:30", time(8, 30)), ("8", time(8)), ("8pm", time(20)), ("12am", time(0)),
     ("20.15", time(20, 15)), ("auto", None)],
)  # fmt: skip
def test_delivery_times(text: str, expected: time | None) -> None:
    assert parse_delivery_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "8:75", "13pm", "noon-ish", ""])
def test_bad_delivery_times(text: str) -> None:
    with pytest.raises(InvalidSetting, match="not a time"):
        parse_delivery_time(text)


def test_other_settings() -> None:
    assert parse_detail("TL;DR") is DetailLevel.TLDR
    assert parse_max_papers(" 20 ") == 20
    assert parse_language("中文") == "zh"
    for bad in (lambda: parse_detail("everything"), lambda: parse_max_papers("0"),
                lambda: parse_max_papers("many")):  # fmt: skip
        with pytest.raises(InvalidSetting):
            bad()
    with pytest.raises(InvalidLanguage):
        parse_language("<b>")


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ChatService]:
    storage = await Storage.open(tmp_path / "chats.db")
    yield ChatService(
        storage, DigestBuilder(storage, clock=lambda: NOW), default_language="zh",
        clock=lambda: NOW,
    )  # fmt: skip
    await storage.close()


async def test_subscribe_list_unsubscribe(service: ChatService) -> None:
    chat = await service.chat("t:1", ChatKind.PRIVATE, "Ada")
    assert chat.language == "zh"  # the instance's default
    first = await service.subscribe(chat, '"talking head" OR lipsync', by="7")
    assert first.created and first.subscription.number == 1
    assert "talking head" in first.description
    again = await service.subscribe(chat, '"Talking  Head"  OR  lipsync', by="7")
    assert not again.created  # the same topic, however it is spaced or cased
    await service.subscribe(chat, "diffusion", by="7")
    assert [s.query for s in await service.subscriptions("t:1")] == [
        '"talking head" OR lipsync',
        "diffusion",
    ]
    removed = await service.unsubscribe("t:1", 1)
    assert removed.query.startswith('"talking head"')
    assert [s.number for s in await service.subscriptions("t:1")] == [1]
    with pytest.raises(NoSuchSubscription, match="no topic number 5"):
        await service.unsubscribe("t:1", 5)


async def test_bad_query_is_not_stored(service: ChatService) -> None:
    chat = await service.chat("t:1", ChatKind.PRIVATE)
    with pytest.raises(InvalidQuery):
        await service.subscribe(chat, '"unclosed', by=None)
    assert await service.subscriptions("t:1") == []


async def test_subscription_limit(service: ChatService) -> None:
    chat = await service.chat("t:1", ChatKind.GROUP)
    for i in range(MAX_SUBSCRIPTIONS):
        await service.subscribe(chat, f"topic{i}", by=None)
    with pytest.raises(TooManySubscriptions):
        await service.subscribe(chat, "one more", by=None)
    assert not (await service.subscribe(chat, "topic3", by=None)).created  # existing: fine


async def test_pause_resume_and_settings_persist(service: ChatService) -> None:
    chat = await service.chat("t:1", ChatKind.PRIVATE)
    await service.subscribe(chat, "diffusion", by=None)
    assert (await service.set_paused("t:1", True)).paused
    await service.set_paused("t:1", False)
    await service.set_paused("t:1", True, number=1)
    assert (await service.subscriptions("t:1"))[0].paused
    updated = await service.update(
        "t:1", timezone="Asia/Tokyo", delivery_time=time(7, 30), detail=DetailLevel.TITLES,
        max_papers=5, send_empty=True, language="ja",
    )  # fmt: skip
    assert (updated.timezone, updated.delivery_time, updated.detail, updated.max_papers) == (
        "Asia/Tokyo", time(7, 30), DetailLevel.TITLES, 5,
    )  # fmt: skip
    assert await service.get("t:1") == updated
