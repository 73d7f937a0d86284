"""How many full reviews one chat may ask for per hour.

A full review can cost an LLM call over thousands of tokens; one busy group must not spend the
whole instance's budget. The limit is per chat key over a sliding hour, kept in memory (a
restart forgets it, which errs on the side of the user), and bounded: chats idle for an hour
are dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.errors import UserError

REVIEWS_PER_HOUR = 10
_WINDOW = timedelta(hours=1)


class TooManyReviews(UserError):
    """The chat asked for more full reviews this hour than allowed; says when it can again."""


class ReviewQuota:
    """`take(chat_key)` before each full review; raises `TooManyReviews` past the limit."""

    def __init__(self, clock: Callable[[], datetime], *, per_hour: int = REVIEWS_PER_HOUR) -> None:
        self._clock = clock
        self._per_hour = per_hour
        self._taken: dict[str, deque[datetime]] = {}

    def take(self, chat_key: str) -> None:
        now = self._clock()
        self._forget_idle(now)
        times = self._taken.setdefault(chat_key, deque())
        while times and now - times[0] >= _WINDOW:
            times.popleft()
        if len(times) >= self._per_hour:
            again = times[0] + _WINDOW
            raise TooManyReviews(
                f"Full reviews are limited to {self._per_hour} an hour per chat. The next one "
                f"can be asked for at {again.strftime('%H:%M')} UTC; summaries and details "
                "work meanwhile."
            )
        times.append(now)

    def _forget_idle(self, now: datetime) -> None:
        if len(self._taken) < 1_000:
            return
        self._taken = {
            key: times for key, times in self._taken.items() if times and now - times[-1] < _WINDOW
        }
