"""Subscriptions and settings, and the parsing of what people type into /settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.chat_settings import (
    InvalidSetting,
    InvalidTopicNumber,
    SettingName,
    apply_setting,
    choices,
    current_value,
    parse_delivery_time,
    parse_detail,
    parse_language,
    parse_max_papers,
    parse_setting_name,
    parse_timezone,
    parse_topic_number,
)
from bot.chats import (
    MAX_SUBSCRIPTIONS,
    ChatPaused,
    ChatRef,
    ChatService,
    NoSuchSubscription,
    TooManySubscriptions,
)
from bot.config import load_settings
from bot.core import open_core
from bot.errors import InvalidLanguage, InvalidQuery
from bot.models import Chat, ChatKind, DetailLevel
from tests.fakes.arxiv_server import FakeArxiv

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


@pytest.mark.parametrize(
    ("text", "number"),
    [("3", 3), ("#3", 3), ("３", 3), ("③", 3), ("²", 2), ("٣", 3), (" 12 ", 12)],
)
def test_topic_numbers_in_any_script(text: str, number: int) -> None:
    assert parse_topic_number(text) == number


@pytest.mark.parametrize("text", ["0", "-1", "abc", "", "1" * 4400, "3.5", "1e3", "∞"])
def test_bad_topic_numbers_are_explained(text: str) -> None:
    with pytest.raises(InvalidTopicNumber, match="not a topic number"):
        parse_topic_number(text)


def test_settings_vocabulary_round_trips() -> None:
    chat = Chat("t:1", ChatKind.PRIVATE)
    assert parse_setting_name("Language") is SettingName.LANGUAGE
    assert parse_setting_name("zone") is SettingName.TIMEZONE
    with pytest.raises(InvalidSetting, match="lang, tz, time"):
        parse_setting_name("colour")
    for name in SettingName:
        for choice in choices(name):
            changed = apply_setting(chat, name, choice.value)
            assert current_value(changed, name) == choice.value
    assert choices(SettingName.TIMEZONE) == ()
    assert apply_setting(chat, SettingName.TIME, "０８：３０").delivery_time == time(8, 30)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ChatService]:
    with FakeArxiv() as arxiv:
        settings = load_settings(
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            PAPERBOY_DB=str(tmp_path / "chats.db"),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_ARXIV_RETRIES="0",
            PAPERBOY_LANG="zh",
        )
        async with open_core(settings, clock=lambda: NOW) as core:
            yield core.chats


async def enter(service: ChatService, key: str, kind: ChatKind, title: str | None = None) -> Chat:
    return (await service.enter(ChatRef(key, kind, title))).chat


async def test_subscribe_list_unsubscribe(service: ChatService) -> None:
    chat = await enter(service, "t:1", ChatKind.PRIVATE, "Ada")
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
    removed = await service.unsubscribe("t:1", "１")
    assert removed.query.startswith('"talking head"')
    assert [s.number for s in await service.subscriptions("t:1")] == [1]
    with pytest.raises(NoSuchSubscription, match="no topic number 5"):
        await service.unsubscribe("t:1", "5")
    with pytest.raises(InvalidTopicNumber):
        await service.unsubscribe("t:1", "9" * 4400)
    assert len(await service.subscriptions("t:1")) == 1  # nothing lost to bad input


async def test_bad_query_is_not_stored(service: ChatService) -> None:
    chat = await enter(service, "t:1", ChatKind.PRIVATE)
    with pytest.raises(InvalidQuery):
        await service.subscribe(chat, '"unclosed', by=None)
    assert await service.subscriptions("t:1") == []


async def test_subscription_limit(service: ChatService) -> None:
    chat = await enter(service, "t:1", ChatKind.GROUP)
    for i in range(MAX_SUBSCRIPTIONS):
        await service.subscribe(chat, f"topic{i}", by=None)
    with pytest.raises(TooManySubscriptions):
        await service.subscribe(chat, "one more", by=None)
    assert not (await service.subscribe(chat, "topic3", by=None)).created  # existing: fine


async def test_pause_resume_and_settings_persist(service: ChatService) -> None:
    chat = await enter(service, "t:1", ChatKind.PRIVATE)
    await service.subscribe(chat, "diffusion", by=None)
    assert (await service.set_paused("t:1", True)).chat.paused
    with pytest.raises(ChatPaused):
        await service.digest_now("t:1")
    await service.set_paused("t:1", False)
    result = await service.set_paused("t:1", True, number="1")
    assert result.subscription is not None and result.subscription.number == 1
    assert (await service.subscriptions("t:1"))[0].paused
    for name, value in [("tz", "Asia/Tokyo"), ("time", "7:30"), ("detail", "titles"),
                        ("papers", "5"), ("empty", "on"), ("lang", "ja")]:  # fmt: skip
        updated = await service.change_setting("t:1", name, value)
    assert (updated.timezone, updated.delivery_time, updated.detail, updated.max_papers) == (
        "Asia/Tokyo", time(7, 30), DetailLevel.TITLES, 5,
    )  # fmt: skip
    assert updated.send_empty and updated.language == "ja"
    assert await service.get("t:1") == updated
    with pytest.raises(InvalidSetting):
        await service.change_setting("t:1", "papers", "999")
    assert await service.get("t:1") == updated  # a bad value changes nothing


async def test_a_command_resumes_a_chat_delivery_suspended_but_not_one_a_person_paused(
    service: ChatService,
) -> None:
    await enter(service, "t:1", ChatKind.PRIVATE)
    await enter(service, "t:2", ChatKind.PRIVATE)
    await service.suspend("t:1", "Forbidden: bot was blocked by the user")
    await service.set_paused("t:2", True)
    assert await service.suspended("t") == ["t:1"]
    entered = await service.enter(ChatRef("t:1", ChatKind.PRIVATE))
    assert entered.resumed and not entered.chat.paused
    entered = await service.enter(ChatRef("t:2", ChatKind.PRIVATE))
    assert not entered.resumed and entered.chat.paused  # paused by a person: stays paused


async def test_regained_access_resumes_only_suspended_chats(service: ChatService) -> None:
    for key in ("d:1", "d:2", "d:3"):
        await enter(service, key, ChatKind.CHANNEL)
    await service.suspend("d:1", "Missing Access")
    await service.suspend("d:2", "Missing Permissions")
    await service.set_paused("d:3", True)
    assert await service.regained_access(["d:1", "d:3", "d:404"]) == ["d:1"]
    assert await service.suspended("d") == ["d:2"]
    assert (await service.get("d:3")).paused  # type: ignore[union-attr]
