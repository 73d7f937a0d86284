"""Delivery: send queued digests to chats exactly once, within flood limits, across crashes.

The outbox lives in SQLite (`storage.outbox`). A digest is enqueued once per chat; each message
of it is committed as sent right after the platform accepted it, so a process killed in the
middle of a fan-out resumes at the first unsent message after a restart and repeats none.

Platforms plug in through a `Channel`: a renderer that turns a digest into that platform's
messages (deterministic, so a resumed delivery renders the same parts) and a sender that
translates the platform's errors into the `DeliveryError`s below. The core decides what they
mean: wait and retry, move the chat, suspend it, or try again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from bot.models import Chat, Digest
from bot.ratelimit import TELEGRAM_LIMITS, FloodControl, FloodLimits, InFlight
from bot.summaries.summarizer import Summarizer
from storage import DeliveryTask, Storage

log = logging.getLogger(__name__)

M = TypeVar("M")
M_co = TypeVar("M_co", covariant=True)
M_contra = TypeVar("M_contra", contravariant=True)

MAX_ATTEMPTS = 8  # temporary failures of one delivery before it is given up (≈ 4 hours)
MAX_RETRY_AFTER = 300.0  # longer "retry after" answers reschedule instead of holding a worker
MAX_SETBACKS = 5  # retry-afters or moves for one message before the delivery is rescheduled


class DeliveryError(Exception):
    """What a sender raises; the subclass says what the core should do."""


class RetryAfter(DeliveryError):
    """The platform asked to wait `seconds` before sending to this chat again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class ChatMoved(DeliveryError):
    """The chat has a new key (a group upgraded to a supergroup)."""

    def __init__(self, new_key: str) -> None:
        super().__init__(f"chat moved to {new_key}")
        self.new_key = new_key


class ChatUnreachable(DeliveryError):
    """Blocked, kicked, deleted, or no right to post: retrying would never help."""


class TemporaryFailure(DeliveryError):
    """Network trouble or a platform hiccup: try again later."""


class MessageRejected(DeliveryError):
    """The platform refused this message itself (a rendering bug): retrying cannot help, but
    the chat is fine, so only this delivery fails."""


class Renderer(Protocol[M_co]):
    def render(self, chat: Chat, digest: Digest) -> Sequence[M_co]: ...


class Sender(Protocol[M_contra]):
    async def send(self, chat: Chat, message: M_contra, *, key: str) -> None:
        """Send one message. `key` identifies this message of this outbox entry across
        restarts (ASCII, at most 25 characters): a platform with idempotent sends (Discord's
        nonce) uses it so that a message resent after a crash is never posted twice."""
        ...


@dataclass(frozen=True)
class Channel(Generic[M]):
    """One platform's way of turning a digest into messages and sending them, within its own
    flood limits."""

    renderer: Renderer[M]
    sender: Sender[M]
    limits: FloodLimits = TELEGRAM_LIMITS


async def _unless_stopped(wait: Awaitable[None], stop: asyncio.Event) -> bool:
    """Wait, unless `stop` is set first (then False): a long flood-control wait (after a
    "retry after", say) must not hold up a shutdown."""
    if stop.is_set():
        return False
    waiting = asyncio.ensure_future(wait)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in (waiting, stopping):
            future.cancel()
    return not stop.is_set()


def message_key(delivery_id: int, part: int) -> str:
    """The idempotency key of one message of one outbox entry (see `Sender.send`)."""
    return f"pb{delivery_id}.{part}"


@dataclass
class DeliveryReport:
    messages_sent: int = 0
    deliveries_finished: int = 0
    retried_after: int = 0  # "retry after" answers honoured
    rescheduled: int = 0
    chats_suspended: list[str] = field(default_factory=list)
    chats_moved: dict[str, str] = field(default_factory=dict)


class Deliverer:
    """Works through the outbox: due deliveries, grouped by chat, several chats at a time.

    Frontends register their `Channel` once they are up (`add_channel`); deliveries to a
    platform without one stay queued. Each platform gets its own flood control from its
    channel's limits. `stop` is the process's "stopping" signal: the message in flight
    finishes, its progress is saved, and the rest waits for the next start.
    """

    def __init__(
        self,
        storage: Storage,
        summarizer: Summarizer,
        *,
        clock: Callable[[], datetime],
        workers: int = 8,
        flood_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._summarizer = summarizer
        self._channels: dict[str, Channel[Any]] = {}
        self._flood: dict[str, FloodControl] = {}
        self._inflight: dict[str, InFlight] = {}
        self._clock = clock
        self._flood_clock = flood_clock
        self._workers = workers
        # One pass over a platform's outbox at a time; platforms do not wait for each other.
        self._passes: dict[str, asyncio.Lock] = {}
        # One sender per chat at a time: a /digest and a scheduled pass never interleave
        # (or repeat) one chat's messages.
        self._chat_locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, tasks using it
        # Per platform: chats a /digest served during its current pass.
        self._requested: dict[str, set[str]] = {}
        self._busy = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self.stop = asyncio.Event()
        self.last_progress: datetime | None = None  # the last message sent, for health checks

    def add_channel(self, platform: str, channel: Channel[Any]) -> None:
        self._channels[platform] = channel
        self._flood[platform] = FloodControl(channel.limits, clock=self._flood_clock)
        self._passes.setdefault(platform, asyncio.Lock())
        self._requested.setdefault(platform, set())
        self._inflight[platform] = InFlight(channel.limits.per_second, ceiling=self._workers)

    async def idle(self) -> None:
        """Return once nothing is being delivered (used on shutdown, after `stop` is set)."""
        await self._quiet.wait()

    @contextlib.asynccontextmanager
    async def _working(self) -> AsyncIterator[None]:
        self._busy += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._quiet.set()

    async def deliver_due(
        self, stop: asyncio.Event | None = None, *, platforms: Sequence[str] | None = None
    ) -> DeliveryReport:
        """Send every due delivery (of `platforms`, by default all registered ones). With
        `stop` (or `self.stop`) set, the messages in flight finish, progress is saved, and the
        rest waits for the next run. Platforms are served side by side, each in its own pass,
        so a long fan-out on one never holds up another."""
        stop = stop or self.stop
        report = DeliveryReport()
        names = [p for p in (platforms or list(self._channels)) if p in self._channels]
        async with self._working():
            await asyncio.gather(*(self._pass(name, stop, report) for name in names))
        return report

    async def _pass(self, platform: str, stop: asyncio.Event, report: DeliveryReport) -> None:
        async with self._passes[platform]:
            self._requested[platform].clear()
            # Read inside the lock: a pass that just ended may have sent what was due before.
            due = await self._storage.outbox.due_deliveries(self._clock())
            by_chat: dict[str, list[DeliveryTask]] = {}
            for task in due:
                if task.chat_key.split(":", 1)[0] == platform:
                    by_chat.setdefault(task.chat_key, []).append(task)
            queue: asyncio.Queue[list[DeliveryTask]] = asyncio.Queue()
            for chat_tasks in by_chat.values():
                queue.put_nowait(chat_tasks)
            workers = [
                asyncio.create_task(self._worker(queue, stop, report))
                for _ in range(min(self._workers, len(by_chat)))
            ]
            try:
                await asyncio.gather(*workers)
            except BaseException:
                # One worker died (or we were cancelled): let the others finish and record the
                # message they have in flight, so none of them is sent again after a restart.
                stop.set()
                await asyncio.gather(*workers, return_exceptions=True)
                raise

    async def deliver_chat(self, chat_key: str) -> DeliveryReport:
        """Send one chat's due deliveries now (a /digest), through the same flood control."""
        report = DeliveryReport()
        platform = chat_key.split(":", 1)[0]
        if platform not in self._channels:
            return report
        async with self._working():
            if self._passes[platform].locked():
                # The running pass must re-read this chat
                self._requested[platform].add(chat_key)
            await self._deliver_chat(chat_key, None, self.stop, report)
        return report

    async def _worker(
        self,
        queue: asyncio.Queue[list[DeliveryTask]],
        stop: asyncio.Event,
        report: DeliveryReport,
    ) -> None:
        while not stop.is_set():
            try:
                chat_tasks = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self._deliver_chat(chat_tasks[0].chat_key, chat_tasks, stop, report)
            except Exception:
                # A bug in one chat's delivery must not stop the others; it stays pending.
                log.exception("delivery to %s failed unexpectedly", chat_tasks[0].chat_key)

    async def _deliver_chat(
        self,
        chat_key: str,
        tasks: list[DeliveryTask] | None,
        stop: asyncio.Event,
        report: DeliveryReport,
    ) -> None:
        lock_key = chat_key
        platform = chat_key.split(":", 1)[0]
        lock, users = self._chat_locks.get(lock_key) or (asyncio.Lock(), 0)
        self._chat_locks[lock_key] = (lock, users + 1)
        try:
            async with lock:
                if tasks is None or chat_key in self._requested[platform]:
                    # Read afresh: a /digest may have sent some of what the pass listed.
                    tasks = await self._storage.outbox.due_deliveries(
                        self._clock(), chat_key=chat_key
                    )
                for task in tasks:
                    chat = await self._storage.chats.get_chat(chat_key)
                    if chat is None or chat.paused or stop.is_set():
                        return
                    outcome = await self._deliver(chat, task, stop, report)
                    if outcome is None:
                        return  # the chat is unreachable or must wait: keep its order
                    chat_key = outcome
        finally:
            lock, users = self._chat_locks[lock_key]
            if users == 1:
                del self._chat_locks[lock_key]  # bounded by the chats being delivered to
            else:
                self._chat_locks[lock_key] = (lock, users - 1)

    async def _deliver(
        self, chat: Chat, task: DeliveryTask, stop: asyncio.Event, report: DeliveryReport
    ) -> str | None:
        """Send one delivery's remaining messages. Returns the chat key to continue with, or
        None when this chat should get nothing more in this run."""
        channel = self._channels[chat.platform]
        flood = self._flood[chat.platform]
        messages = await self._messages(channel, chat, task)
        part = task.parts_sent
        setbacks = 0  # retry-afters and moves for the current message
        while part < len(messages):
            if stop.is_set():
                return None
            if setbacks > MAX_SETBACKS:
                await self._reschedule(task, TemporaryFailure("kept being refused"), report)
                return None
            if not await _unless_stopped(flood.wait(chat), stop):
                return None  # stopping: a message whose turn had not come stays queued
            error = await self._send(channel, chat, task, messages, part)
            if isinstance(error, RetryAfter):
                setbacks += 1
                report.retried_after += 1
                if error.seconds > MAX_RETRY_AFTER:
                    await self._reschedule(task, error, report, delay=error.seconds)
                    return None
                flood.retry_after(chat, error.seconds)
                continue  # the flood control now waits long enough
            if isinstance(error, ChatMoved):
                setbacks += 1
                log.info("chat %s moved to %s; following it", chat.key, error.new_key)
                await self._storage.chats.move_chat(chat.key, error.new_key)
                report.chats_moved[chat.key] = error.new_key
                flood.forget(chat.key)
                moved = await self._storage.chats.get_chat(error.new_key)
                if moved is None:
                    return None
                chat = moved
                continue
            if isinstance(error, ChatUnreachable):
                log.warning("suspending deliveries to %s: %s", chat.key, error)
                # The delivery stays queued: if the chat comes back (the user unblocks the bot
                # and writes to it), it gets what it missed.
                await self._storage.chats.set_paused(
                    chat.key, True, reason=str(error)[:200], now=self._clock()
                )
                report.chats_suspended.append(chat.key)
                return None
            if isinstance(error, MessageRejected):
                log.error("%s refused part %d of delivery %d: %s", chat.key, part, task.id, error)
                await self._storage.outbox.fail_delivery(
                    task.id, error=str(error), now=self._clock()
                )
                return chat.key
            if error is not None:  # TemporaryFailure, or a sender's own DeliveryError
                await self._reschedule(task, error, report)
                return None
            part += 1
            setbacks = 0
            report.messages_sent += 1
            self.last_progress = self._clock()
            report.deliveries_finished += part == len(messages)
        if not messages:
            await self._storage.outbox.mark_part_sent(task.id, 0, finished=True, now=self._clock())
        return chat.key

    async def _send(
        self,
        channel: Channel[Any],
        chat: Chat,
        task: DeliveryTask,
        messages: Sequence[object],
        part: int,
    ) -> DeliveryError | None:
        """Send one message and record it; returns the platform's refusal, if any.

        Sending and recording happen inside one in-flight slot: a process killed between the
        two would send that message again after a restart, so only as many messages as the
        flood limit needs at the measured round-trip time are ever in that state.
        """
        async with self._inflight[chat.platform].slot():
            try:
                await channel.sender.send(chat, messages[part], key=message_key(task.id, part))
            except DeliveryError as exc:
                return exc
            # Shielded: once the platform has the message, cancelling us must not lose the
            # record of it (that would send it again after a restart).
            await asyncio.shield(
                self._storage.outbox.mark_part_sent(
                    task.id, part + 1, finished=part + 1 == len(messages), now=self._clock()
                )
            )
        return None

    async def _messages(
        self, channel: Channel[Any], chat: Chat, task: DeliveryTask
    ) -> list[object]:
        digest = await self._storage.digests.get_digest(task.digest_id)
        if digest is None:
            return []
        papers = [e.paper for e in digest.new_entries]
        # Cached when the digest was planned; this only reads the cache (or falls back).
        summaries = await self._summarizer.summarize_many(papers, chat.language)
        return list(channel.renderer.render(chat, replace(digest, summaries=summaries)))

    async def _reschedule(
        self,
        task: DeliveryTask,
        exc: DeliveryError,
        report: DeliveryReport,
        *,
        delay: float | None = None,
    ) -> None:
        attempts = task.attempts + 1
        now = self._clock()
        if attempts >= MAX_ATTEMPTS:
            log.warning("giving up delivery %d to %s: %s", task.id, task.chat_key, exc)
            await self._storage.outbox.fail_delivery(task.id, error=str(exc), now=now)
            return
        wait = delay if delay is not None else min(3600.0, 30.0 * 2 ** (attempts - 1))
        log.info("delivery %d to %s: %s; retrying in %.0f s", task.id, task.chat_key, exc, wait)
        await self._storage.outbox.retry_delivery_later(
            task.id, attempts=attempts, at=now + timedelta(seconds=wait), error=str(exc)
        )
        report.rescheduled += 1
