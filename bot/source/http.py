"""HTTP plumbing for all arXiv traffic: a process-wide throttle and a retrying session.

arXiv asks for at most one request every three seconds and one connection at a time, counted
across the query API, the RSS feeds and OAI-PMH together. `Throttle` enforces exactly that for the
whole process: a request starts only when no other request is in flight *and* `delay` seconds
have passed since the previous one ended. By default every `ArxivSession` shares the one
`shared_throttle()`, so several sources (or a CLI and a bot in one process) cannot add up to more
traffic than arXiv allows. A session given a `RequestSpacing` (the database's shared slot, from
`storage`) also reserves each request there, so the rule holds across processes as well.

`ArxivSession` is a `requests.Session` that, for every request:

* waits for a slot of the throttle (the whole request, including reading the body, runs inside
  the slot, so requests are strictly serialised);
* sets a default timeout (requests has none) and a User-Agent naming Paperboy, replacing the
  one the ``arxiv`` package sends;
* retries 429/500/502/503/504, connection errors, timeouts and bodies rejected by
  `response_check`, with exponential backoff and jitter, honouring ``Retry-After``. The retry
  goes through the throttle again, and the wait is pushed into the throttle so *every* caller
  backs off, not just this one (arXiv's rate limit is per client, not per request);
* runs `response_check` (the session's, or one given per request as ``response_check=``) inside
  the slot; with ``stream=True`` such a check is where the body is read (to a file, under a size
  cap), so a download, too, is one throttled request;
* raises instead of returning a failure: `RetriesExhausted` (a ``requests.RetryError``) once
  retries run out, ``requests.HTTPError`` (with ``.response``) for other non-2xx answers. The
  ``arxiv`` package only retries ``ConnectionError`` and its own errors, so neither exception
  is retried a second time on top of ours.

urllib3's ``Retry`` is not used: it sleeps inside the connection pool, outside the throttle, so its
retries would break the spacing.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, Self

import requests

__all__ = [
    "RETRY_STATUSES",
    "USER_AGENT",
    "ArxivSession",
    "BadResponse",
    "Closing",
    "RequestSpacing",
    "RetriesExhausted",
    "Throttle",
    "parse_retry_after",
    "shared_throttle",
]

log = logging.getLogger(__name__)

try:
    _VERSION = version("paperboy")
except PackageNotFoundError:  # running from a checkout without installing
    _VERSION = "0"

USER_AGENT = f"Paperboy/{_VERSION} (self-hosted arXiv digest bot; python-requests)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SHARED_POLL_SECONDS = 0.2


class BadResponse(Exception):
    """Raised by a `response_check` when a 2xx body is unusable (truncated, not XML...).

    Treated like a 5xx: such bodies are usually a transient hiccup of a proxy or of arXiv.
    """


class RetriesExhausted(requests.exceptions.RetryError):
    """Every attempt failed with a retryable error; `reason` describes the last failure."""

    def __init__(self, url: str, attempts: int, reason: str, *, unreachable: bool = False) -> None:
        self.url = url
        self.attempts = attempts
        self.reason = reason
        self.unreachable = unreachable  # the last attempt got no HTTP answer at all
        super().__init__(f"{reason} (gave up after {attempts} attempt{'s' * (attempts != 1)})")


class RequestSpacing(Protocol):
    """A request slot shared with other processes (Unix times; see `storage.spacing`)."""

    def reserve(self, hold: float) -> float:
        """Take the slot for at most `hold` s and return 0, or return the seconds to wait."""
        ...

    def release(self, not_before: float) -> None:
        """The request ended: nobody may start another before `not_before` (Unix time)."""
        ...


class Throttle:
    """At most one request at a time, and a minimum gap between one's end and the next's start.

    Thread-safe. Waiting happens in the calling thread (asyncio code runs requests in worker
    threads), so holding the lock while sleeping is what serialises the callers. With a
    `RequestSpacing`, the slot is also reserved there, for other processes to respect.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_end = -math.inf  # time.monotonic() when the previous request ended
        self._not_before = -math.inf  # set by defer(): nobody starts before this
        self._deferred_wall = -math.inf  # the same, in Unix time, for other processes

    @contextmanager
    def slot(
        self, delay: float, *, spacing: RequestSpacing | None = None, hold: float = 60.0
    ) -> Iterator[None]:
        """Hold the right to make one request, `delay` s after the previous one ended.

        `hold` bounds how long a process dying mid-request can keep the others waiting.
        """
        with self._lock:
            while True:
                now = time.monotonic()
                ready = max(self._last_end + delay, self._not_before)
                if now >= ready:
                    break
                time.sleep(ready - now)
            shared = spacing if delay > 0 else None  # no spacing asked (tests, mirrors)
            if shared is not None:
                # Poll while another process holds the slot: its hold is an upper bound, and
                # it hands the slot back (with the exact next start) as soon as it is done.
                while (wait := shared.reserve(hold)) > 0:
                    time.sleep(min(wait, _SHARED_POLL_SECONDS))
            try:
                yield
            finally:
                self._last_end = time.monotonic()
                if shared is not None:
                    shared.release(max(time.time() + delay, self._deferred_wall))

    def defer(self, seconds: float) -> None:
        """Let no request start within `seconds` from now. Call it while holding a slot."""
        self._not_before = max(self._not_before, time.monotonic() + seconds)
        self._deferred_wall = max(self._deferred_wall, time.time() + seconds)


_SHARED_THROTTLE = Throttle()


def shared_throttle() -> Throttle:
    """The process-wide throttle every `ArxivSession` uses unless given another one."""
    return _SHARED_THROTTLE


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ArxivSession(requests.Session):
    """A `requests.Session` that is throttled, retried, time-limited and counted.

    `request_count` is the number of HTTP requests actually sent (retries included).
    """

    def __init__(
        self,
        *,
        delay_seconds: float = 3.0,
        timeout_seconds: float = 30.0,
        retries: int = 4,
        backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 60.0,
        max_retry_after_seconds: float = 300.0,
        throttle: Throttle | None = None,
        spacing: RequestSpacing | None = None,
        response_check: Callable[[requests.Response], None] | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        super().__init__()
        if delay_seconds < 0 or timeout_seconds <= 0 or retries < 0 or backoff_seconds < 0:
            raise ValueError("delay, backoff and retries must be >= 0 and the timeout > 0")
        self.delay_seconds = delay_seconds
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        # A server asking us to come back in an hour is an outage: fail instead of hanging.
        self.max_retry_after_seconds = max_retry_after_seconds
        self.throttle = throttle if throttle is not None else shared_throttle()
        self.spacing = spacing
        self.response_check = response_check
        self.user_agent = user_agent
        self.headers["User-Agent"] = user_agent
        self.request_count = 0

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": half fixed, half random, so callers that failed
        # together do not come back together.
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_seconds
        headers = kwargs.get("headers")
        if headers:
            # The arxiv package sends its own User-Agent per request; ours must win.
            kwargs["headers"] = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
        target = url.decode() if isinstance(url, bytes) else url
        check = kwargs.pop("response_check", self.response_check)

        attempt = 0
        while True:
            hold = 2 * self.timeout_seconds + self.delay_seconds
            with self.throttle.slot(self.delay_seconds, spacing=self.spacing, hold=hold):
                self.request_count += 1
                retry_after: float | None = None
                unreachable = False
                try:
                    response = super().request(method, url, *args, **kwargs)
                except (
                    requests.ConnectionError,
                    requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                ) as exc:
                    reason = _describe(exc)
                    unreachable = True
                else:
                    if response.status_code in RETRY_STATUSES:
                        reason = f"HTTP {response.status_code}"
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        response.close()
                    elif response.status_code == 304:  # a conditional request: unchanged
                        return response
                    elif not 200 <= response.status_code < 300:
                        raise requests.HTTPError(
                            f"HTTP {response.status_code} for {target}", response=response
                        )
                    elif check is None:
                        return response
                    else:
                        try:
                            check(response)
                        except BadResponse as exc:
                            reason = f"unusable response ({exc})"
                        else:
                            return response

                if retry_after is not None and retry_after > self.max_retry_after_seconds:
                    raise RetriesExhausted(
                        target, attempt + 1, f"{reason}, asked to wait {retry_after:.0f} s"
                    )
                if attempt >= self.retries:
                    raise RetriesExhausted(target, attempt + 1, reason, unreachable=unreachable)
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                log.warning(
                    "arXiv request failed (%s); retry %d/%d in %.1f s: %s",
                    reason,
                    attempt + 1,
                    self.retries,
                    max(wait, self.delay_seconds),
                    target,
                )
                # Deferred inside the slot: no other caller can sneak in before the wait.
                self.throttle.defer(wait)
            attempt += 1


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection broken while reading the response"
    return "connection failed"


class Closing:
    """`with` and `async with` for an object whose `close()` releases what it holds (an HTTP
    session): both leave by calling `close()`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
