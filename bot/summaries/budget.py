"""The daily LLM token budget (`PAPERBOY_LLM_DAILY_TOKENS`): at most one call may cross it.

Every request to the model, for a summary or a review, goes through one `TokenBudget`
(`LLMSummarizer` holds it). Usage is what the server reports (``usage.prompt_tokens`` and
``usage.completion_tokens``), added to the UTC day's totals in a `UsageStore`, so the budget
resets at 00:00 UTC and is shared with every process on the same database.

How "at most one call crosses the budget" holds with calls in flight: each call reserves an
*upper bound* of what it can cost before it starts (`upper_bound_tokens`: the prompt's UTF-8
bytes, since a byte-level BPE token is at least one byte, plus a few tokens per message, plus
``max_completion_tokens``, which the server enforces). While today's used tokens plus every
reservation plus this one fit in the budget, calls run side by side; none of them can cross
it. A call that does not fit may run only *alone*: it waits until nothing else is in flight,
then runs, and it alone may cross the budget. Once today's used tokens reach the budget, every
new call raises `BudgetSpent` at once (callers then answer extractively). Reservations are
per process: two processes sharing a database each keep this rule, so together they may cross
by one call each.

A server that reports no usage is charged the call's upper bound (safe, if pessimistic). With
no budget set, usage is still recorded (for statistics and the benchmark), and nothing waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.errors import PaperboyError
from storage.interfaces import DailyUsage, UsageStore

__all__ = [
    "BUDGET_REASON_PREFIX",
    "BudgetSpent",
    "Charge",
    "TokenBudget",
    "budget_reason",
    "is_budget_reason",
    "next_reset",
    "upper_bound_tokens",
]

log = logging.getLogger(__name__)

PER_MESSAGE_TOKENS = 8  # role and separators; OpenAI's own accounting uses 3-4
BUDGET_REASON_PREFIX = "the day's LLM token budget"


def budget_reason(limit: int) -> str:
    """Why a summary or review is extractive once the budget is spent (shown to people)."""
    return f"{BUDGET_REASON_PREFIX} ({limit:,} tokens) is spent; it resets at 00:00 UTC"


def is_budget_reason(reason: str | None) -> bool:
    return bool(reason) and str(reason).startswith(BUDGET_REASON_PREFIX)


def next_reset(moment: datetime) -> datetime:
    """The next 00:00 UTC after `moment`: when a spent budget is available again."""
    day = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def upper_bound_tokens(texts: Sequence[str], max_completion_tokens: int) -> int:
    """The most tokens a request with these message texts can be billed."""
    prompt = sum(len(t.encode()) + PER_MESSAGE_TOKENS for t in texts)
    return prompt + max_completion_tokens


class BudgetSpent(PaperboyError):
    """Today's LLM token budget is spent: answer extractively until 00:00 UTC."""

    def __init__(self, limit: int) -> None:
        super().__init__(budget_reason(limit))
        self.limit = limit


@dataclass
class Charge:
    """One call's slot: report the server's usage with `record` (once) before it ends."""

    estimate: int
    crossing: bool  # the call did not fit and runs alone; it may cross the budget
    prompt_tokens: int = 0
    completion_tokens: int = 0
    recorded: bool = False

    def record(self, prompt_tokens: int | None, completion_tokens: int | None) -> None:
        """The usage the server reported; None (not reported) charges the upper bound."""
        if prompt_tokens is None or completion_tokens is None:
            prompt_tokens, completion_tokens = self.estimate, 0
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        self.recorded = True


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenBudget:
    """The gate every LLM request passes (see the module docstring)."""

    def __init__(
        self,
        store: UsageStore,
        daily_tokens: int | None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.limit = daily_tokens
        self._store = store
        self._clock = clock
        self._cond = asyncio.Condition()
        self._reserved = 0  # upper bounds of the calls in flight
        self._in_flight = 0
        self._crossing = False
        self.crossings = 0  # calls that ran alone because they did not fit (for tests)

    def today(self) -> date:
        return self._clock().astimezone(UTC).date()

    async def usage_today(self) -> DailyUsage:
        return await self._store.usage_on(self.today())

    async def is_spent(self) -> bool:
        """Whether a call now would be refused (cheap check before building a prompt)."""
        if self.limit is None:
            return False
        return (await self.usage_today()).total_tokens >= self.limit

    @asynccontextmanager
    async def charge(self, estimate: int) -> AsyncIterator[Charge]:
        """Hold a slot for one call that can cost at most `estimate` tokens.

        Raises `BudgetSpent` (before any request) when today's budget is used up, possibly
        after waiting for the calls in flight. The body calls `Charge.record` with the usage
        the server reported; a call that failed without an answer records nothing.
        """
        slot = await self._acquire(estimate)
        try:
            yield slot
        finally:
            try:
                if slot.recorded:
                    await self._store.add_usage(
                        self.today(),
                        prompt_tokens=slot.prompt_tokens,
                        completion_tokens=slot.completion_tokens,
                    )
            except Exception:
                # The answer is paid for either way; losing its count must not lose it.
                log.exception("Recording LLM token usage failed")
            finally:
                await self._release(slot)

    async def _acquire(self, estimate: int) -> Charge:
        async with self._cond:
            while True:
                if self.limit is None:
                    break
                used = (await self.usage_today()).total_tokens
                if used >= self.limit:
                    raise BudgetSpent(self.limit)
                if not self._crossing and used + self._reserved + estimate <= self.limit:
                    break
                if not self._crossing and self._in_flight == 0:
                    self._crossing = True
                    self.crossings += 1
                    self._in_flight += 1
                    self._reserved += estimate
                    return Charge(estimate, crossing=True)
                # Near the limit: wait for the calls in flight to report what they cost.
                await self._cond.wait()
            self._in_flight += 1
            self._reserved += estimate
            return Charge(estimate, crossing=False)

    async def _release(self, slot: Charge) -> None:
        async with self._cond:
            self._in_flight -= 1
            self._reserved -= slot.estimate
            if slot.crossing:
                self._crossing = False
            self._cond.notify_all()
