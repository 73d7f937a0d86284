"""What the entry point needs from a chat frontend, and how a frontend says start-up failed.

`paperboy run` starts every frontend whose token is set, on one event loop, next to one
scheduler and one core. A frontend is the platform's markup, command parsing and error mapping
around the core; the entry point only starts it, registers its delivery channel and stops it.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.delivery import Channel
from bot.errors import PaperboyError


class StartupError(PaperboyError):
    """A frontend could not start."""


class PlatformUnreachable(StartupError):
    """The platform did not answer (network down, API unreachable): try again later."""


class TokenRejected(StartupError):
    """The platform refused the token: retrying cannot help. The message names the setting."""

    def __init__(self, variable: str, platform: str) -> None:
        super().__init__(f"Invalid setting {variable}: {platform} rejected the token")
        self.variable = variable


class Frontend(Protocol):
    """One chat platform, as `paperboy run` drives it."""

    @property
    def platform(self) -> str:
        """The prefix of this platform's chat keys (``telegram``, ``discord``)."""
        ...

    @property
    def channel(self) -> Channel[Any]:
        """How digests reach this platform's chats (renderer, sender, flood limits)."""
        ...

    async def start(self) -> None:
        """Connect and begin answering. Raises `PlatformUnreachable` or `TokenRejected`."""
        ...

    async def stop(self) -> None:
        """Stop answering and disconnect; safe to call after a failed or partial start."""
        ...
