"""arXiv's announcement calendar, in US Eastern time.

How arXiv works (all times America/New_York, DST included):

* Submissions close at 14:00 on weekdays. What arrived since the previous cutoff is announced the
  same evening at 20:00 (Sunday–Thursday evenings; Friday's batch is announced on Sunday).
* The RSS/Atom listing feeds are rebuilt around midnight after an announcement and are dated with
  that new day, so listing dates are Monday–Friday. We call that date the *listing date*.
* Hence a submission before the cutoff on weekday D (Mon–Thu) is in the listing dated D+1; Friday's
  cutoff batch is in Monday's listing; weekend (and Friday-after-cutoff) submissions are in
  Tuesday's listing.
* A feed therefore only changes in its nightly rebuild: a feed read after one rebuild is still
  current until the next (`feed_may_have_changed`), whatever the weekday.

arXiv holidays (a few days a year with no announcement) are deliberately ignored: they are
published only as a yearly web page, and treating a holiday as an empty listing is harmless for
Paperboy (the feed is simply empty, and the next listing carries the papers).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CUTOFF",
    "EASTERN",
    "current_listing_date",
    "feed_may_have_changed",
    "is_listing_day",
    "listing_date_for",
    "listing_days_between",
    "next_listing_day",
    "previous_listing_day",
    "submission_window",
]

EASTERN = ZoneInfo("America/New_York")
CUTOFF = time(14, 0)  # daily submission deadline, Eastern time
# When the listing feeds may be rebuilt, Eastern time: "around midnight", with an hour's margin.
REBUILD_START, REBUILD_END = time(0, 0), time(1, 0)

_ONE_DAY = timedelta(days=1)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def is_listing_day(d: date) -> bool:
    """Listing dates are Monday to Friday."""
    return d.weekday() < 5


def next_listing_day(d: date) -> date:
    """The first listing day strictly after `d`."""
    d += _ONE_DAY
    while not is_listing_day(d):
        d += _ONE_DAY
    return d


def previous_listing_day(d: date) -> date:
    """The last listing day strictly before `d`."""
    d -= _ONE_DAY
    while not is_listing_day(d):
        d -= _ONE_DAY
    return d


def listing_date_for(submitted: datetime) -> date:
    """The date of the listing in which a paper submitted at `submitted` (aware) appears."""
    _require_aware(submitted, "submitted")
    local = submitted.astimezone(EASTERN)
    # The weekday whose 14:00 cutoff closes the batch containing this submission.
    cutoff_day = local.date() if local.time() < CUTOFF else local.date() + _ONE_DAY
    while not is_listing_day(cutoff_day):
        cutoff_day += _ONE_DAY
    return next_listing_day(cutoff_day)


def submission_window(listing: date) -> tuple[datetime, datetime]:
    """The half-open interval ``[start, end)`` (aware, UTC) of submissions in `listing`."""
    if not is_listing_day(listing):
        raise ValueError(f"{listing.isoformat()} is a weekend day; arXiv has no listing then")
    cutoff_day = previous_listing_day(listing)
    start_day = previous_listing_day(cutoff_day)
    start = datetime.combine(start_day, CUTOFF, tzinfo=EASTERN).astimezone(UTC)
    end = datetime.combine(cutoff_day, CUTOFF, tzinfo=EASTERN).astimezone(UTC)
    return start, end


def listing_days_between(after: date, upto: date) -> list[date]:
    """Listing days d with ``after < d <= upto``, oldest first (empty if upto <= after)."""
    days: list[date] = []
    d = after + _ONE_DAY
    while d <= upto:
        if is_listing_day(d):
            days.append(d)
        d += _ONE_DAY
    return days


def current_listing_date(now: datetime) -> date:
    """The newest listing date whose feed should exist at `now` (aware).

    Approximate around midnight Eastern: arXiv rebuilds the feeds "around" midnight, so just
    after 00:00 the feed may still carry the previous listing.
    """
    _require_aware(now, "now")
    today = now.astimezone(EASTERN).date()
    return today if is_listing_day(today) else previous_listing_day(today)


def feed_may_have_changed(fetched_at: datetime, now: datetime) -> bool:
    """Whether a feed read at `fetched_at` may differ at `now` (both aware): true when a nightly
    rebuild window (`REBUILD_START`–`REBUILD_END` Eastern) overlaps ``(fetched_at, now]``."""
    _require_aware(fetched_at, "fetched_at")
    _require_aware(now, "now")
    if now <= fetched_at:
        return False
    day = fetched_at.astimezone(EASTERN).date()
    last = now.astimezone(EASTERN).date()
    while day <= last:
        start = datetime.combine(day, REBUILD_START, tzinfo=EASTERN)
        end = datetime.combine(day, REBUILD_END, tzinfo=EASTERN)
        if end > fetched_at and start <= now:
            return True
        day += _ONE_DAY
    return False
