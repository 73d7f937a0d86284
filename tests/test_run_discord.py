"""`paperboy run` with Discord as a real process, against the fake Discord (REST + gateway):
SIGKILL in the middle of a rate-limited fan-out repeats and loses nothing after a restart;
Telegram and Discord run in one process and share the summary cache; a rejected Discord token
stops start-up with one line; an unreachable Discord is retried while Telegram answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bot.chats import ChatRef
from bot.config import load_settings
from bot.core import open_core
from bot.delivery import message_key
from bot.models import ChatKind
from bot.service import utc_now
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.discord_server import (
    FakeChannel,
    FakeDiscord,
    FakeMessage,
    Fault,
    RateLimits,
)
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.telegram_server import Fault as TelegramFault
from tests.pipeline_data import distractor_papers, talking_head_papers
from tests.telegram_harness import LISTING, announce_talking_heads

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ('"talking head" OR "lip sync"', '"talking face"')
GUILDS = 4
CHANNELS_PER_GUILD = 15  # 60 channels, two topics each: 120 deliveries
POST_MESSAGE = "POST /channels/{channel_id}/messages"
SHARED_TOPICS = (*TOPICS, "talking* OR lip*", "emotalk3d")
IN_FLIGHT = 3  # posts held (created, unanswered) at each kill


# --- processes ------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PAPERBOY_", "ARXIV_", "OPENAI_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def bot_env(arxiv: FakeArxiv, db: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        ARXIV_API_URL=arxiv.api_url,
        ARXIV_RSS_URL=arxiv.rss_url,
        PAPERBOY_DB=str(db),
        PAPERBOY_ARXIV_DELAY="0",
        PAPERBOY_CATEGORIES="cs,eess",
        PAPERBOY_TICK_SECONDS="1",
        PAPERBOY_LOG_LEVEL="DEBUG",
        **extra,
    )


@contextlib.contextmanager
def bot_process(env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`paperboy run` with stderr appended to `log`; killed on the way out if still running."""
    with log.open("ab") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "handlers", "run"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def terminate(proc: subprocess.Popen[bytes], timeout: float = 40) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


def wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll `predicate` until it holds; fail (saying `what`, with the end of `log`) on timeout
    or if `proc` died."""
    deadline = time.monotonic() + timeout
    while not predicate():
        problem = None
        if proc is not None and proc.poll() is not None:
            problem = f"the bot exited ({proc.returncode}) before: {what}"
        elif time.monotonic() > deadline:
            problem = f"timed out after {timeout} s waiting for: {what}"
        if problem is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"{problem}\n{tail}")
        time.sleep(0.02)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def subscribe(
    arxiv: FakeArxiv, db: Path, chats: Sequence[tuple[str, ChatKind]], topics: Sequence[str]
) -> None:
    """Register `chats` and subscribe each to `topics`, straight through the core."""

    async def run() -> None:
        settings = load_settings(
            ARXIV_API_URL=arxiv.api_url,
            ARXIV_RSS_URL=arxiv.rss_url,
            PAPERBOY_DB=str(db),
            PAPERBOY_ARXIV_DELAY="0",
            PAPERBOY_CATEGORIES="cs,eess",
        )
        async with open_core(settings, clock=utc_now) as core:
            for key, kind in chats:
                chat = (await core.chats.enter(ChatRef(key, kind))).chat
                for topic in topics:
                    await core.chats.subscribe(chat, topic, by=None)

    asyncio.run(run())


def recorded_keys(db: Path) -> set[str]:
    """The idempotency keys of every message the outbox recorded as sent."""
    return {
        message_key(delivery_id, part)
        for delivery_id, _, _, parts in deliveries(db)
        for part in range(parts)
    }


def deliveries(db: Path) -> list[tuple[int, str, str, int]]:
    """The outbox (id, chat key, status, parts sent); read once the bot has exited."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT id, chat_key, status, parts_sent FROM deliveries ORDER BY id"
        ).fetchall()
    return [(int(i), str(k), str(s), int(p)) for i, k, s, p in rows]


# --- what Discord holds -------------------------------------------------------------------------


def posts(fake: FakeDiscord, channel: FakeChannel | int) -> list[FakeMessage]:
    """The bot's own posts in a channel (not answers to interactions)."""
    return [m for m in fake.messages(channel) if m.interaction_id is None]


def headers(messages: Sequence[FakeMessage]) -> list[str]:
    """The digest header titles among `messages` (one per digest delivered)."""
    return [
        m.embeds[0].get("title", "")
        for m in messages
        if m.embeds and "new paper" in m.embeds[0].get("description", "")
    ]


def posted_total(fake: FakeDiscord, channels: Sequence[FakeChannel]) -> int:
    return sum(len(posts(fake, c)) for c in channels)


def discord_log_problems(log: str) -> list[str]:
    bad = ("Traceback", "failed unexpectedly", "giving up", "refused part", "retrying in")
    return [line for line in log.splitlines() if any(b in line for b in bad)]


# --- kill -9 in the middle of a fan-out -------------------------------------------------------


def test_sigkill_mid_fan_out_repeats_and_loses_nothing_on_discord(tmp_path: Path) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    with (
        FakeArxiv() as arxiv,
        FakeDiscord(rate_limits=RateLimits.discord(), latency=0.1) as fake,
    ):
        announce_talking_heads(arxiv)
        channels = [
            fake.add_text_channel(guild, f"papers-{i}")
            for guild in (fake.add_guild(f"Lab {g}") for g in range(GUILDS))
            for i in range(CHANNELS_PER_GUILD)
        ]
        subscribe(arxiv, db, [(f"discord:{c.id}", ChatKind.GROUP) for c in channels], TOPICS)
        env = bot_env(arxiv, db, DISCORD_BOT_TOKEN=fake.token, DISCORD_API_URL=fake.api_url)
        expected = len(channels) * len(TOPICS)  # each digest is one message (3 or fewer papers)

        killed_at: list[int] = []
        unrecorded: list[int] = []  # posts Discord has but the outbox had not recorded
        for threshold in (10, 45, 85):  # three kills, early, middle and late in the fan-out
            with bot_process(env, tmp_path, log) as proc:
                posted = threshold
                wait_for(
                    lambda: posted_total(fake, channels) >= posted,  # noqa: B023 - called here
                    60,
                    f"{threshold} digests posted",
                    proc,
                    log,
                )
                # The worst moment: Discord has created the next posts, but the bot has not
                # heard back, so its outbox cannot have recorded them when it dies.
                faults = fake.counters.faults + IN_FLIGHT
                fake.inject(POST_MESSAGE, *[Fault.slow(3.0, process=True)] * IN_FLIGHT)
                wait_for(
                    lambda: fake.counters.faults >= faults,  # noqa: B023 - called here
                    30,
                    "posts in flight",
                    proc,
                    log,
                )
                time.sleep(0.3)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
            killed_at.append(posted_total(fake, channels))
            on_discord = {str(m.nonce) for c in channels for m in posts(fake, c)}
            unrecorded.append(len(on_discord - recorded_keys(db)))
        assert all(n < expected for n in killed_at), f"the kills came too late: {killed_at}"
        assert all(n >= 1 for n in unrecorded), unrecorded  # the kills hit the window

        with bot_process(env, tmp_path, log) as proc:
            wait_for(
                lambda: all(len(headers(posts(fake, c))) >= len(TOPICS) for c in channels),
                60,
                "every channel has its digests",
                proc,
                log,
            )
            time.sleep(1.5)  # one more tick: nothing else may arrive
            assert terminate(proc) == 0

        counters = fake.counters
        print(
            f"\nkilled after {killed_at} of {expected} posts, with {unrecorded} posted but "
            f"not recorded; nonce dedups: "
            f"{counters.nonce_dedups}; 429 answers: {counters.rate_limited} "
            f"(global {counters.rate_limited_global}); identifies: {counters.identifies}"
        )
        assert fake.server_errors == [] and fake.unknown_routes == []
        # Each post Discord had but the outbox did not was sent again after the restart, with
        # its nonce, and Discord answered with the post it had instead of a second one.
        assert counters.nonce_dedups >= sum(unrecorded)

    outbox = deliveries(db)
    assert len(outbox) == expected
    assert {status for _, _, status, _ in outbox} == {"sent"}, outbox
    by_chat: dict[str, Counter[str]] = {}
    for delivery_id, chat_key, _, parts in outbox:
        by_chat.setdefault(chat_key, Counter()).update(
            message_key(delivery_id, part) for part in range(parts)
        )
    for channel in channels:
        mine = posts(fake, channel)
        # Exactly the messages the outbox recorded, each once: no duplicate, none missing.
        assert Counter(str(m.nonce) for m in mine) == by_chat[f"discord:{channel.id}"], channel
        assert not any(m.deleted for m in mine)
        titles = headers(mine)
        assert len(titles) == len(TOPICS) == len(set(titles)), titles  # each digest once
    problems = discord_log_problems(log.read_text(errors="replace"))
    assert problems == [], "\n".join(problems)  # no 429 (or anything else) got through
    assert fake.token not in log.read_text(errors="replace")


# --- Telegram and Discord in one process ------------------------------------------------------


def telegram_digests(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in tg.sent_messages(chat_id) if "📰" in m.text]


def test_telegram_and_discord_in_one_process_share_the_summaries(tmp_path: Path) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    with (
        FakeArxiv() as arxiv,
        FakeTelegram() as tg,
        FakeDiscord() as fake,
        FakeLLMServer() as llm,
    ):
        announce_talking_heads(arxiv)
        reader = tg.add_user("Reader")
        channel = fake.add_text_channel(fake.add_guild("Lab"), "papers")
        chats = [
            (f"telegram:{reader.id}", ChatKind.PRIVATE),
            (f"discord:{channel.id}", ChatKind.GROUP),
        ]
        # Telegram's first send is slow, so SIGTERM finds it in flight.
        tg.inject("sendMessage", TelegramFault.slow(2.5, process=False))
        env = bot_env(
            arxiv,
            db,
            TELEGRAM_BOT_TOKEN=tg.token,
            TELEGRAM_API_URL=tg.base_url,
            DISCORD_BOT_TOKEN=fake.token,
            DISCORD_API_URL=fake.api_url,
            OPENAI_API_KEY="test-key",
            OPENAI_BASE_URL=llm.base_url,
        )
        with bot_process(env, tmp_path, log) as proc:

            def started() -> bool:
                text = log.read_text(errors="replace")
                return "telegram frontend started" in text and "discord frontend started" in text

            wait_for(started, 30, "both frontends started", proc, log)
            # Subscribed now, both chats' digests go out in one fan-out over both platforms.
            fake.latency = 0.4  # each post takes long enough for SIGTERM to find one
            subscribe(arxiv, db, chats, SHARED_TOPICS)
            wait_for(lambda: len(posts(fake, channel)) >= 1, 30, "a Discord digest", proc, log)
            telegram_at_sigterm = len(telegram_digests(tg, reader.id))
            assert terminate(proc) == 0
            fake.latency = 0.0
        # Whatever was sent is recorded, and whatever is recorded was sent: the message in
        # flight finished on both platforms and nothing half-sent is left behind.
        first_run = deliveries(db)
        discord_keys = Counter(str(m.nonce) for m in posts(fake, channel))
        recorded = Counter(
            message_key(i, part)
            for i, key, _, parts in first_run
            if key.startswith("discord:")
            for part in range(parts)
        )
        assert discord_keys == recorded, (discord_keys, first_run)
        telegram_parts = sum(p for _, key, _, p in first_run if key.startswith("telegram:"))
        assert len(telegram_digests(tg, reader.id)) == telegram_parts > telegram_at_sigterm
        unfinished = [d for d in first_run if d[2] != "sent"]
        assert {key.split(":")[0] for _, key, _, _ in unfinished} == {"telegram", "discord"}, (
            "SIGTERM should leave digests to send on both platforms"
        )

        with bot_process(env, tmp_path, log) as proc:
            wait_for(
                lambda: (
                    len(headers(posts(fake, channel))) >= len(SHARED_TOPICS)
                    and len(telegram_digests(tg, reader.id)) >= len(SHARED_TOPICS)
                ),
                30,
                "both platforms have every digest",
                proc,
                log,
            )
            time.sleep(1.5)  # another tick: nothing more may arrive
            assert terminate(proc) == 0

        known = [p.title for p in (*talking_head_papers(LISTING), *distractor_papers(LISTING))]
        calls_per_paper = {title: llm.calls_matching(title) for title in known}
        total_calls = llm.calls
        assert fake.server_errors == [] and fake.unknown_routes == []

    summarized = {title for title, calls in calls_per_paper.items() if calls}
    print(
        f"\nafter SIGTERM: {len(first_run) - len(unfinished)} of {len(first_run)} deliveries "
        f"done, Discord posts {sum(discord_keys.values())}, Telegram digests "
        f"{telegram_at_sigterm} at SIGTERM and {telegram_parts} after it; "
        f"LLM calls {total_calls} for {len(summarized)} papers, two platforms, two processes"
    )
    final = deliveries(db)
    assert len(final) == 2 * len(SHARED_TOPICS) and {d[2] for d in final} == {"sent"}, final
    titles = headers(posts(fake, channel))
    assert len(titles) == len(set(titles)) == len(SHARED_TOPICS), titles
    assert Counter(str(m.nonce) for m in posts(fake, channel)) == Counter(
        message_key(i, part) for i, key, _, n in final if key.startswith("discord:")
        for part in range(n)
    )  # fmt: skip
    sent_to_reader = telegram_digests(tg, reader.id)
    assert len(sent_to_reader) == len(set(sent_to_reader)) == len(SHARED_TOPICS)
    # One LLM call per paper (and language): not one per platform, nor per process.
    assert {p.title for p in talking_head_papers(LISTING)} <= summarized
    assert set(calls_per_paper.values()) <= {0, 1}, calls_per_paper
    assert total_calls == len(summarized)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "telegram frontend started" in text
    assert "discord frontend started" in text
    assert fake.token not in text and tg.token.split(":")[1] not in text


# --- start-up failures ------------------------------------------------------------------------


def test_a_rejected_discord_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with FakeArxiv() as arxiv, FakeDiscord() as fake:
        wrong = fake.token[:-6] + ("A" if fake.token[-6] != "A" else "B") + fake.token[-5:]
        env = bot_env(
            arxiv, tmp_path / "x.db", DISCORD_BOT_TOKEN=wrong, DISCORD_API_URL=fake.api_url
        )
        env["PAPERBOY_LOG_LEVEL"] = "INFO"
        done = subprocess.run(
            [sys.executable, "-m", "handlers", "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=40,
        )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    named = [line for line in done.stderr.splitlines() if "DISCORD_BOT_TOKEN" in line]
    assert len(named) == 1 and "rejected" in named[0], done.stderr
    for part in wrong.split("."):
        assert part not in done.stderr


class LatePort:
    """A TCP forwarder that starts listening on `port` only when `open_to` is called, so the
    bot meets a closed port first and the fake Discord behind it later."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()

    def open_to(self, target_port: int) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.1)
        self._server = server
        self._spawn(self._accept, target_port)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, target_port: int) -> None:
        assert self._server is not None
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", target_port))
            self._spawn(self._serve, client, upstream)

    def _serve(self, client: socket.socket, upstream: socket.socket) -> None:
        back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
        back.start()
        self._pipe(client, upstream)
        back.join(5)
        client.close()
        upstream.close()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for thread in self._threads:
            thread.join(2)


def test_an_unreachable_discord_is_retried_while_telegram_answers(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    late = LatePort(closed_port())
    with FakeArxiv() as arxiv, FakeTelegram() as tg, FakeDiscord() as fake:
        env = bot_env(
            arxiv,
            tmp_path / "x.db",
            TELEGRAM_BOT_TOKEN=tg.token,
            TELEGRAM_API_URL=tg.base_url,
            DISCORD_BOT_TOKEN=fake.token,
            DISCORD_API_URL=f"http://127.0.0.1:{late.port}/api/v10",
        )
        reader = tg.add_user("Reader")
        try:
            with bot_process(env, tmp_path, log) as proc:
                wait_for(
                    lambda: "discord unreachable (attempt 2)" in log.read_text(errors="replace"),
                    30,
                    "a second Discord attempt",
                    proc,
                    log,
                )
                # Meanwhile Telegram works.
                tg.send_text(reader, reader, "/help")
                [answer] = tg.wait_for_messages(reader, 1, timeout=15)
                assert "/subscribe" in answer.text
                # Discord comes up on that address: the next attempt connects.
                late.open_to(fake.port)
                wait_for(
                    lambda: "discord frontend started" in log.read_text(errors="replace"),
                    30,
                    "the Discord frontend to start",
                    proc,
                    log,
                )
                fake.wait_connected(timeout=10)
                assert terminate(proc) == 0
        finally:
            late.close()
        assert fake.server_errors == [] and fake.unknown_routes == []
    text = log.read_text(errors="replace")
    attempts = [line for line in text.splitlines() if "unreachable (attempt" in line]
    assert len(attempts) >= 2 and all("discord" in line for line in attempts), text
    assert [int(line.split("(attempt ")[1].split(")")[0]) for line in attempts] == list(
        range(1, len(attempts) + 1)
    )  # one line per attempt
    assert "Traceback" not in text, text
    assert fake.token not in text
