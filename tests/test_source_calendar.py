"""arXiv's announcement calendar (US Eastern time, DST-aware, holidays ignored)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.source.calendar import (
    EASTERN,
    current_listing_date,
    is_listing_day,
    listing_date_for,
    listing_days_between,
    next_listing_day,
    previous_listing_day,
    submission_window,
)

# 2024-09-09 is a Monday.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2024, 9, 9) + timedelta(days=i) for i in range(7))


def et(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=EASTERN)


@pytest.mark.parametrize(
    ("submitted", "listing"),
    [
        (et(MON, 9), TUE),
        (et(MON, 13, 59), TUE),
        (et(MON, 14, 0), WED),  # the cutoff itself belongs to the next batch
        (et(TUE, 10), WED),
        (et(WED, 10), THU),
        (et(THU, 10), FRI),
        (et(THU, 15), date(2024, 9, 16)),  # after Thursday's cutoff → Friday batch → Monday
        (et(FRI, 10), date(2024, 9, 16)),  # Friday cutoff → Monday
        (et(FRI, 14, 1), date(2024, 9, 17)),  # Friday after cutoff → Tuesday
        (et(SAT, 12), date(2024, 9, 17)),
        (et(SUN, 23, 59), date(2024, 9, 17)),
        (et(MON, 0, 5) - timedelta(days=7), date(2024, 9, 3)),
    ],
)
def test_listing_date_for(submitted: datetime, listing: date) -> None:
    assert listing_date_for(submitted) == listing
    # The same instant expressed in UTC gives the same answer.
    assert listing_date_for(submitted.astimezone(UTC)) == listing


def test_cutoff_follows_daylight_saving_time() -> None:
    # 14:00 ET is 18:00 UTC in summer and 19:00 UTC in winter.
    assert listing_date_for(datetime(2024, 7, 1, 18, 30, tzinfo=UTC)) == date(2024, 7, 3)
    assert listing_date_for(datetime(2024, 12, 2, 18, 30, tzinfo=UTC)) == date(2024, 12, 3)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        listing_date_for(datetime(2024, 9, 9, 12))  # noqa: DTZ001 - the point of the test


def test_listing_days() -> None:
    assert [is_listing_day(d) for d in (MON, TUE, WED, THU, FRI, SAT, SUN)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert previous_listing_day(MON) == date(2024, 9, 6)
    assert previous_listing_day(SUN) == FRI
    assert previous_listing_day(WED) == TUE
    assert next_listing_day(FRI) == date(2024, 9, 16)
    assert listing_days_between(THU, date(2024, 9, 17)) == [
        FRI,
        date(2024, 9, 16),
        date(2024, 9, 17),
    ]
    assert listing_days_between(FRI, SUN) == []
    assert listing_days_between(TUE, TUE) == []
    assert listing_days_between(TUE, MON) == []


def test_submission_windows() -> None:
    start, end = submission_window(TUE)
    assert (start, end) == (
        et(date(2024, 9, 6), 14).astimezone(UTC),
        et(MON, 14).astimezone(UTC),
    )
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert submission_window(date(2024, 9, 16)) == (
        et(THU, 14).astimezone(UTC),
        et(FRI, 14).astimezone(UTC),
    )
    with pytest.raises(ValueError, match="weekend"):
        submission_window(SAT)


def test_windows_and_listing_dates_agree_across_dst_changes() -> None:
    # Every half hour through both 2024 DST switches: the listing a submission lands in is the
    # listing whose window contains it, and consecutive windows tile time without gaps.
    for first in (datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 10, 28, tzinfo=UTC)):
        t = first
        while t < first + timedelta(days=14):
            listing = listing_date_for(t)
            start, end = submission_window(listing)
            assert start <= t < end, (t, listing)
            assert submission_window(next_listing_day(listing))[0] == end
            t += timedelta(minutes=30)


def test_current_listing_date() -> None:
    assert current_listing_date(et(MON, 9)) == MON
    assert current_listing_date(et(SAT, 9)) == FRI
    assert current_listing_date(et(SUN, 23)) == FRI
    assert current_listing_date(datetime(2024, 9, 10, 3, tzinfo=UTC)) == MON  # 23:00 ET Monday
