"""When digests fall due, in each chat's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.models import Chat, ChatKind
from bot.schedule import due_at, listing_available_at

TUE = date(2026, 11, 17)


def chat(zone: str, at: time | None) -> Chat:
    return Chat("t:1", ChatKind.PRIVATE, timezone=zone, delivery_time=at)


def test_listing_is_available_at_midnight_eastern() -> None:
    assert listing_available_at(TUE) == datetime(2026, 11, 17, 5, 0, tzinfo=UTC)


def test_default_is_as_soon_as_the_listing_is_in() -> None:
    assert due_at(chat("Asia/Shanghai", None), TUE) == listing_available_at(TUE)


def test_local_morning_after_the_listing() -> None:
    due = due_at(chat("Europe/Berlin", time(8, 30)), TUE)
    assert due == datetime(2026, 11, 17, 7, 30, tzinfo=UTC)  # 08:30 CET


def test_time_before_availability_moves_to_the_next_day() -> None:
    # 07:00 in Shanghai is before 13:00 Shanghai, when Tuesday's listing appears.
    due = due_at(chat("Asia/Shanghai", time(7, 0)), TUE)
    assert due == datetime(2026, 11, 17, 23, 0, tzinfo=UTC)  # Wed 07:00 CST


def test_daylight_saving_is_followed() -> None:
    summer = due_at(chat("Europe/Berlin", time(8, 0)), date(2026, 7, 14))
    winter = due_at(chat("Europe/Berlin", time(8, 0)), date(2026, 12, 15))
    assert summer.astimezone(UTC).hour == 6 and winter.astimezone(UTC).hour == 7
