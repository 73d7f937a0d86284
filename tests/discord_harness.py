"""A whole Paperboy bot on Discord in the test process: fake arXiv + fake Discord (REST and
gateway), the real discord.py client driven by `DiscordFrontend`, the real core on a SQLite file,
and a clock the test moves. The scheduler is not started: tests call `cycle.tick()` when the
time has come. `ask` runs a slash command and waits for its whole answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
from discord.gateway import DiscordWebSocket

from bot.config import load_settings
from bot.core import Core, open_core
from handlers.discord.app import DiscordFrontend
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import FakeChannel, FakeDiscord, FakeInteraction, FakeUser

DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
MESSAGE = 4  # CHANNEL_MESSAGE_WITH_SOURCE
AUTOCOMPLETE = 8
EPHEMERAL = 1 << 6


@contextmanager
def restore_discord_addresses() -> Iterator[None]:
    """The frontend sets discord.py's process-wide REST base and gateway; put them back."""
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        DiscordWebSocket.DEFAULT_GATEWAY = gateway


@dataclass
class Running:
    core: Core
    frontend: DiscordFrontend


class DiscordHarness:
    """`async with DiscordHarness(...) as bot:` starts everything; leaving stops it cleanly."""

    def __init__(
        self,
        arxiv: FakeArxiv,
        fake: FakeDiscord,
        db: Path,
        clock: Any,
        *,
        llm_url: str | None = None,
        token: str | None = None,
        api_url: str | None = None,
    ) -> None:
        self.fake = fake
        extra: dict[str, str] = {}
        if llm_url is not None:
            extra.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=llm_url)
        self.settings = load_settings(
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            ARXIV_SITE_URL=arxiv.site_url,
            PAPERBOY_DB=str(db),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_CATEGORIES="cs,eess",
            DISCORD_BOT_TOKEN=token or fake.token,
            DISCORD_API_URL=api_url or fake.api_url,
            **extra,
        )
        self._cm = open_core(self.settings, clock=clock)
        self.running: Running | None = None

    async def __aenter__(self) -> Running:
        core = await self._cm.__aenter__()
        frontend = DiscordFrontend(self.settings, core, guild_ready_timeout=0.05)
        try:
            await frontend.start()
        except BaseException:
            await self._cm.__aexit__(None, None, None)
            raise
        core.add_channel("discord", frontend.channel)  # as `paperboy run` does once it is up
        self.running = Running(core, frontend)
        return self.running

    async def __aexit__(self, *exc: object) -> None:
        assert self.running is not None
        await self.running.frontend.stop()
        await self._cm.__aexit__(None, None, None)


@dataclass
class Answer:
    """What the bot answered to one interaction: the initial response and any followups."""

    interaction: FakeInteraction
    type: int
    ephemeral: bool
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]

    @property
    def markdown(self) -> str:
        """Content and embed texts together, as sent."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
        return "\n".join(p for p in parts if p)

    @property
    def text(self) -> str:
        """`markdown` without its backslash escapes: what a person reads."""
        return unescape(self.markdown)


def unescape(markdown: str) -> str:
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", markdown)


async def ask(
    fake: FakeDiscord,
    command: str,
    options: Mapping[str, Any] | None = None,
    *,
    user: FakeUser,
    channel: FakeChannel | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 - how long the bot may take to answer in full
    locale: str = "en-US",
) -> Answer:
    """`user` runs `/command` in `channel` (None: their DM with the bot); returns the answer,
    waiting past a deferral for the followup."""
    interaction = fake.invoke(command, options, user=user, channel=channel, locale=locale)
    return await answer_of(fake, interaction, timeout=timeout)


async def answer_of(
    fake: FakeDiscord,
    interaction: FakeInteraction,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> Answer:
    callback = await fake.wait_for_response_async(interaction, timeout=timeout)
    if callback.type == DEFERRED:
        # The first followup replaces the "thinking…" message, as on Discord.
        def answered() -> bool:
            original = interaction.original
            return original is not None and not original.loading

        await fake.wait_until_async(answered, timeout=timeout)
        message = interaction.original
        assert message is not None
        return Answer(
            interaction,
            callback.type,
            message.ephemeral,
            message.content,
            message.embeds,
            message.components,
        )
    data = callback.data or {}
    return Answer(
        interaction,
        callback.type,
        bool(int(data.get("flags") or 0) & EPHEMERAL),
        data.get("content") or "",
        list(data.get("embeds") or []),
        list(data.get("components") or []),
    )


async def choices(
    fake: FakeDiscord,
    command: str,
    options: Mapping[str, Any] | None = None,
    focused: str = "topic",
    *,
    user: FakeUser,
    channel: FakeChannel | None = None,
) -> list[dict[str, Any]]:
    """The autocomplete choices the bot offers while `user` types into `focused`."""
    interaction = fake.autocomplete(command, options, focused, user=user, channel=channel)
    callback = await fake.wait_for_response_async(interaction)
    assert callback.type == AUTOCOMPLETE
    return list((callback.data or {}).get("choices") or [])
