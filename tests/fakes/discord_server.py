"""A protocol-faithful fake of Discord (REST v10 + JSON gateway) on 127.0.0.1, for real discord.py.

The fake serves both halves of Discord from one random loopback port: REST under ``/api/v10`` and
the gateway websocket at ``/gateway``. discord.py is pointed at it by two class attributes, which
`point_discord_py_at` sets and restores::

    @pytest.fixture
    def fake() -> Iterator[FakeDiscord]:
        with FakeDiscord() as server, point_discord_py_at(server):  # background thread
            yield server
            assert server.server_errors == [] and server.unknown_routes == []

    async def test_hello(fake: FakeDiscord) -> None:
        guild = fake.add_guild("Physics")
        general = fake.add_text_channel(guild, "general")
        ada = fake.add_user("ada")
        client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        tree = app_commands.CommandTree(client)

        @tree.command(description="Say hello")
        async def hello(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"Hello {name}")

        await client.login(fake.token)           # GET /users/@me, /oauth2/applications/@me
        task = asyncio.create_task(client.connect())
        await client.wait_until_ready()          # HELLO, IDENTIFY, READY, GUILD_CREATE...
        await tree.sync()                        # PUT /applications/{id}/commands
        inter = fake.invoke("hello", {"name": "Ada"}, user=ada, channel=general)
        callback = await fake.wait_for_response_async(inter)
        assert callback.type == 4 and callback.data["content"] == "Hello Ada"
        await client.close()
        await task

``point_discord_py_at`` sets ``discord.http.Route.BASE = fake.api_url``
(``http://127.0.0.1:PORT/api/v10``) and ``DiscordWebSocket.DEFAULT_GATEWAY =
yarl.URL(fake.gateway_url)`` (``ws://127.0.0.1:PORT/gateway``). discord.py 2.7 never asks
``/gateway/bot`` for a plain `Client`: it connects to ``DEFAULT_GATEWAY`` with
``?v=10&encoding=json&compress=zlib-stream`` (``zstd-stream`` only if the ``zstandard`` package is
installed). The fake answers ``compress=zlib-stream`` like Discord: binary frames from one zlib
stream per connection, each message ending in a ``Z_SYNC_FLUSH`` (``00 00 ff ff``), which is how
discord.py finds message boundaries. Without ``compress`` (or with ``zstd-stream``, which the fake
cannot produce) it sends text frames, which discord.py reads as well. The ``compress`` flag of
IDENTIFY (per-payload compression) is ignored. A client may also read ``GET /gateway/bot``.

What it implements:

* Gateway v10, JSON: HELLO (``heartbeat_interval`` configurable), heartbeats (op 1 → op 11; a
  client silent for more than two intervals plus a second is closed with 4009), IDENTIFY (token →
  4004, malformed intents → 4013, privileged intents the application lacks → 4014, shards),
  READY (guild stubs, ``session_id``, ``resume_gateway_url``, ``application``) followed by one
  GUILD_CREATE per guild, RESUME (replays the missed dispatches, then RESUMED; unknown or
  invalidated session → op 9 ``false``), sequence numbers, events filtered by intents. A clean
  close (1000/1001) by the client ends its session; any other loss leaves it resumable.
  Dispatches: GUILD_CREATE/DELETE, CHANNEL_CREATE/UPDATE/DELETE, GUILD_ROLE_CREATE/UPDATE,
  GUILD_MEMBER_ADD/UPDATE, MESSAGE_CREATE/UPDATE/DELETE (the bot's own messages),
  INTERACTION_CREATE, GUILD_MEMBERS_CHUNK.
* REST: ``/gateway``, ``/gateway/bot``, ``/users/@me``, ``/users/{id}``, ``/users/@me/channels``
  (open a DM), ``/oauth2/applications/@me``, global and guild application commands (GET, PUT bulk
  overwrite keeping ids, POST, DELETE; `Counters.command_syncs` counts the PUTs), channels and
  messages (GET, POST as JSON or multipart with ``payload_json`` + ``files[n]``, PATCH, DELETE,
  typing), guilds, channels, roles and members; interaction callbacks (types 1, 4-9, with and
  without ``?with_response=true``, which discord.py 2.7 always sends and which answers an
  ``InteractionCallbackResponse``), followups and ``@original`` (GET/PATCH/DELETE).
* Bodies are validated like Discord (content ≤ 2000, ≤ 10 embeds, embed limits and the 6000
  total, ≤ 5 action rows of ≤ 5 buttons, labels, custom ids, link buttons), answering 400
  ``{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`` with Discord's nested
  ``errors`` layout, or 50006 for an empty message. The ``code`` strings inside ``errors`` follow
  Discord's style but are not all verified against the real service.
* Idempotent sends: ``nonce`` (≤ 25 chars) + ``enforce_nonce`` within `nonce_window` seconds of
  the fake's clock in the same channel answers the earlier message and creates nothing
  (`Counters.nonce_dedups`). discord.py's ``Messageable.send(nonce=...)`` sends both fields.
* Permissions are computed as Discord does (@everyone, roles, administrator, owner, channel
  overwrites for @everyone/roles/member, implicit denials): 404 10003 Unknown Channel, 403 50001
  Missing Access, 403 50013 Missing Permissions (SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES), 403
  50007 for a user who closed DMs.
* Interactions: a callback later than `interaction_timeout` (3 s) on the fake's clock → 404 10062,
  a second one → 400 40060; followups need an acknowledged interaction and a token younger than
  15 minutes. The first followup after a "thinking" defer replaces the loading message, as on
  Discord.
* Rate limits (`RateLimits`, off by default): per-channel message creation (5 per 5 s) and a
  global budget (50 per s), answered with 429 ``{"message", "retry_after", "global"}`` plus
  ``Retry-After``, ``Via: 1.1 google`` (without it discord.py takes a 429 for a Cloudflare ban),
  ``X-RateLimit-Global`` and ``X-RateLimit-Scope``. Every answer carries the ``X-RateLimit-*``
  bucket headers discord.py reads. Rate limits always run on real monotonic time, because
  discord.py really sleeps.
* Latency (`FakeDiscord.latency`) and scripted faults (`Fault`, `FakeDiscord.inject`): HTTP
  status pages, Discord error envelopes, 429s, slow answers, connection resets.

Test helpers (thread-safe; see `FakeDiscord`): ``add_user``, ``add_guild``, ``add_text_channel``,
``add_role``, ``add_member``, ``set_role_permissions``, ``set_bot_permissions``,
``set_overwrite``, ``set_bot_roles``, ``update_channel``, ``delete_channel``, ``remove_bot``,
``close_dms``/``open_dms``, ``edit_command``; interactions ``invoke``, ``autocomplete``,
``click``; records ``messages``, ``message``, ``commands``, ``interaction_responses``,
``requests``, ``dispatched``, ``identifies``, ``counters``, ``server_errors``,
``unknown_routes``; waits ``wait_until``,
``wait_for_messages``, ``wait_for_response``, ``wait_for_identify``, ``wait_connected`` (each
with an ``_async`` twin for coroutines on the bot's loop); ``disconnect_all`` drops the gateway
connections. State (guilds, messages, commands) outlives bot instances: a second client sees
what the first left.

Anything the fake itself gets wrong (an exception in a handler) is answered with HTTP 500 and kept
in `FakeDiscord.server_errors`; a route the fake does not implement is answered 404 and kept in
`FakeDiscord.unknown_routes`. Fixtures should assert both stay empty.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import datetime as dt
import enum
import hashlib
import json
import math
import re
import socket
import threading
import time
import traceback
import uuid
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, Self

from aiohttp import WSMsgType, web

__all__ = [
    "API_VERSION",
    "DEFAULT_APPLICATION_ID",
    "CommandSync",
    "Counters",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Fault",
    "FaultKind",
    "GatewayEvent",
    "Intent",
    "InteractionCallback",
    "ManualClock",
    "Perm",
    "RateLimits",
    "RecordedRequest",
    "point_discord_py_at",
]

JSON = dict[str, Any]

API_VERSION: Final = 10
DISCORD_EPOCH_MS: Final = 1_420_070_400_000
DEFAULT_APPLICATION_ID: Final = 1_187_654_321_098_765_432
DEFAULT_HEARTBEAT_INTERVAL_MS: Final = 41_250
ATTACHMENT_SIZE_LIMIT: Final = 10 * 1024 * 1024
HISTORY_LIMIT: Final = 2_000  # dispatches kept per session for RESUME

MAX_CONTENT: Final = 2000
MAX_EMBEDS: Final = 10
MAX_EMBED_TITLE: Final = 256
MAX_EMBED_DESCRIPTION: Final = 4096
MAX_EMBED_FIELDS: Final = 25
MAX_FIELD_NAME: Final = 256
MAX_FIELD_VALUE: Final = 1024
MAX_FOOTER_TEXT: Final = 2048
MAX_AUTHOR_NAME: Final = 256
MAX_EMBED_TOTAL: Final = 6000
MAX_ACTION_ROWS: Final = 5
MAX_ROW_COMPONENTS: Final = 5
MAX_BUTTON_LABEL: Final = 80
MAX_CUSTOM_ID: Final = 100
MAX_NONCE: Final = 25
MAX_CHOICES: Final = 25
MAX_COMMANDS: Final = 100


class Perm(enum.IntFlag):
    """Discord permission bits (the ones the fake and its tests care about, plus defaults)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS: Final = (1 << 51) - 1
DEFAULT_EVERYONE_PERMISSIONS: Final = int(
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.STREAM
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CONNECT
    | Perm.SPEAK
    | Perm.USE_VAD
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
)
#: What the bot's managed role grants by default (an invite link asking for these).
DEFAULT_BOT_PERMISSIONS: Final = int(
    Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.EMBED_LINKS | Perm.READ_MESSAGE_HISTORY
)
#: What ``app_permissions`` says in a DM with the bot.
DM_PERMISSIONS: Final = int(
    Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
)
_NEEDS_SEND: Final = int(
    Perm.SEND_TTS_MESSAGES | Perm.MENTION_EVERYONE | Perm.EMBED_LINKS | Perm.ATTACH_FILES
)


class Intent(enum.IntFlag):
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16
    AUTO_MODERATION_CONFIGURATION = 1 << 20
    AUTO_MODERATION_EXECUTION = 1 << 21
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25


ALL_INTENTS: Final = int(sum(Intent))
PRIVILEGED_INTENTS: Final = int(
    Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT
)
# Application flags for enabled privileged intents (the "_LIMITED" variants of unverified apps).
_APP_FLAG_FOR_INTENT: Final = {
    int(Intent.GUILD_PRESENCES): 1 << 13,
    int(Intent.GUILD_MEMBERS): 1 << 15,
    int(Intent.MESSAGE_CONTENT): 1 << 19,
}

CHANNEL_TYPES: Final = {"text": 0, "dm": 1, "announcement": 5}
MESSAGE_FLAG_SUPPRESS_EMBEDS: Final = 1 << 2
MESSAGE_FLAG_EPHEMERAL: Final = 1 << 6
MESSAGE_FLAG_LOADING: Final = 1 << 7
MESSAGE_FLAG_SUPPRESS_NOTIFICATIONS: Final = 1 << 12
MESSAGE_FLAG_COMPONENTS_V2: Final = 1 << 15
_CREATE_FLAGS: Final = (
    MESSAGE_FLAG_SUPPRESS_EMBEDS | MESSAGE_FLAG_SUPPRESS_NOTIFICATIONS | MESSAGE_FLAG_COMPONENTS_V2
)

# Interaction types and callback types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE = 1, 4, 5
DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 6, 7, 8, 9
_CALLBACKS_FOR: Final = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE},
}
OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP = 1, 2
OPTION_STRING, OPTION_INTEGER, OPTION_BOOLEAN, OPTION_NUMBER = 3, 4, 5, 10

_COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
_ROUTE_PARAM_RE = re.compile(r"\{(\w+)\}")


# =============================================================================================
# Public records
# =============================================================================================


@dataclass(frozen=True)
class FakeUser:
    id: int
    name: str
    bot: bool = False

    def to_api(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None if self.bot else self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class FakeGuild:
    """A handle on a guild; its id is also the id of its @everyone role."""

    id: int
    name: str


@dataclass(frozen=True)
class FakeChannel:
    """A handle on a channel. ``guild_id`` is None for a DM (``kind == "dm"``)."""

    id: int
    name: str
    guild_id: int | None
    kind: Literal["text", "announcement", "dm"]


@dataclass(frozen=True)
class FakeRole:
    id: int
    guild_id: int
    name: str


@dataclass(frozen=True)
class FakeAttachment:
    id: int
    filename: str
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class FakeMessage:
    """A snapshot of a message the bot created (by REST, interaction response or followup).

    ``created_at`` is on the fake's clock. ``edits`` counts the edits so far, ``deleted`` tells
    whether it was deleted since. ``interaction_id`` links responses and followups to their
    `FakeInteraction`.
    """

    id: int
    channel_id: int
    guild_id: int | None
    content: str
    embeds: list[JSON]
    components: list[JSON]
    attachments: tuple[FakeAttachment, ...]
    nonce: str | int | None
    flags: int
    type: int
    created_at: float
    edits: int
    deleted: bool
    interaction_id: int | None
    tts: bool

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred ("thinking") response not yet replaced by an edit or followup."""
        return bool(self.flags & MESSAGE_FLAG_LOADING)

    def components_flat(self) -> list[JSON]:
        """All components below the top level (buttons, selects...), in order."""
        out: list[JSON] = []

        def walk(items: Sequence[Any]) -> None:
            for item in items:
                if isinstance(item, dict):
                    out.append(item)
                    walk(item.get("components") or [])

        walk(self.components)
        return [c for c in out if c.get("type") != 1]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.components_flat() if "custom_id" in c]

    def buttons(self) -> list[JSON]:
        return [c for c in self.components_flat() if c.get("type") == 2]


@dataclass(frozen=True)
class InteractionCallback:
    """An accepted ``POST /interactions/{id}/{token}/callback``: its ``type`` and ``data``."""

    type: int
    data: JSON | None
    at: float
    with_response: bool


@dataclass(frozen=True)
class CommandSync:
    """One ``PUT`` of application commands; ``guild_id`` None for global commands."""

    guild_id: int | None
    names: list[str]
    at: float


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request (the gateway upgrade excluded).

    ``route`` is the matched template (``"POST /channels/{channel_id}/messages"``) or None for an
    unknown route; ``started``/``responded`` are `time.monotonic()` stamps; ``status`` is None
    when the connection was reset by a fault.
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    body: Any
    status: int | None
    code: int | None  # Discord's JSON error code, if any
    started: float
    responded: float
    fault: FaultKind | None


@dataclass(frozen=True)
class GatewayEvent:
    """A dispatch (op 0) sent, or queued for replay, to one gateway session."""

    session_id: str
    name: str
    seq: int
    data: JSON


@dataclass(frozen=True)
class Counters:
    """A snapshot of the fake's counters."""

    requests: int
    rejected: dict[int, int]  # HTTP status -> number of error answers
    rate_limited: int  # 429s from the rate limits (not from injected faults)
    rate_limited_global: int
    nonce_dedups: int
    command_syncs: int  # PUT /applications/{id}[/guilds/{id}]/commands
    messages_created: int
    messages_edited: int
    messages_deleted: int
    interactions: int
    faults: int
    identifies: int
    resumes: int
    heartbeats: int
    heartbeat_acks: int


class ManualClock:
    """A clock that only moves when told to. Thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass(frozen=True)
class RateLimits:
    """Discord's rate limits, as fixed windows on real monotonic time.

    * per channel: `message_limit` message creations per `message_window` seconds (5 per 5 s);
    * global: `global_limit` bot requests per `global_window` seconds (50 per s). Interaction
      callbacks and webhook (followup) routes do not count, as on Discord.

    Off by default (``RateLimits()`` is off; ``RateLimits.discord()`` is Discord's).
    """

    enabled: bool = False
    message_limit: int = 5
    message_window: float = 5.0
    global_limit: int = 50
    global_window: float = 1.0

    @classmethod
    def discord(cls, **overrides: Any) -> RateLimits:
        return cls(enabled=True, **overrides)


class FaultKind(enum.Enum):
    HTTP = "http"  # a bare status with an HTML body (Cloudflare or a load balancer answering)
    ERROR = "error"  # a Discord JSON error with any status/code/message
    RATE_LIMIT = "rate_limit"  # a 429 with retry_after
    SLOW = "slow"  # answer after `delay` seconds
    RESET = "reset"  # drop the connection without an answer


@dataclass(frozen=True)
class Fault:
    """A misbehaviour served once to the next request of the route it was injected for."""

    kind: FaultKind
    status: int = 500
    code: int = 0
    message: str = ""
    retry_after: float = 0.0
    is_global: bool = False
    via: bool = True
    delay: float = 0.0
    process: bool = False

    @classmethod
    def http(cls, status: int = 502) -> Fault:
        """An HTML error page. discord.py retries 500/502/504/524 (sleeping 1 + 2n s)."""
        return cls(FaultKind.HTTP, status=status)

    @classmethod
    def error(cls, status: int, code: int, message: str) -> Fault:
        """A Discord error envelope, e.g. ``Fault.error(503, 0, "Service Unavailable")``."""
        return cls(FaultKind.ERROR, status=status, code=code, message=message)

    @classmethod
    def rate_limited(
        cls, retry_after: float = 0.1, *, is_global: bool = False, via: bool = True
    ) -> Fault:
        """A 429. With ``via=False`` it looks like a Cloudflare ban (discord.py raises)."""
        return cls(
            FaultKind.RATE_LIMIT, status=429, retry_after=retry_after, is_global=is_global, via=via
        )

    @classmethod
    def slow(cls, delay: float, *, process: bool = True) -> Fault:
        """Answer after `delay` s. With `process` the request takes effect at once."""
        return cls(FaultKind.SLOW, delay=delay, process=process)

    @classmethod
    def reset(cls, *, process: bool = False) -> Fault:
        """Drop the connection; with `process`, after executing the request."""
        return cls(FaultKind.RESET, process=process)


class FakeInteraction:
    """An interaction the test created; its properties read the fake's live records."""

    def __init__(self, fake: FakeDiscord, state: _Interaction) -> None:
        self._fake = fake
        self._state = state
        self.id = state.id
        self.token = state.token
        self.type = state.type
        self.name = state.name
        self.user = state.user
        self.channel_id = state.channel_id
        self.guild_id = state.guild_id
        self.payload: JSON = state.payload

    def __repr__(self) -> str:
        return f"<FakeInteraction id={self.id} type={self.type} name={self.name!r}>"

    @property
    def callback(self) -> InteractionCallback | None:
        """The accepted initial response, if any."""
        with self._fake._lock:
            return self._state.callback

    @property
    def responded(self) -> bool:
        return self.callback is not None

    @property
    def ephemeral(self) -> bool:
        cb = self.callback
        return bool(cb and cb.data and int(cb.data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)

    @property
    def choices(self) -> list[JSON] | None:
        """The autocomplete choices answered (callback type 8)."""
        cb = self.callback
        if cb is None or cb.type != AUTOCOMPLETE_RESULT or cb.data is None:
            return None
        return list(cb.data.get("choices") or [])

    @property
    def original(self) -> FakeMessage | None:
        """The response message (type 4/5), or the clicked message (type 6/7)."""
        with self._fake._lock:
            mid = self._state.original_id
            return None if mid is None else self._fake._snapshot(self._fake._messages[mid])

    @property
    def followups(self) -> list[FakeMessage]:
        with self._fake._lock:
            return [self._fake._snapshot(self._fake._messages[m]) for m in self._state.followups]

    @property
    def original_edits(self) -> int:
        with self._fake._lock:
            return self._state.original_edits


# =============================================================================================
# Validation of message bodies (Discord's "Invalid Form Body")
# =============================================================================================


class ApiError(Exception):
    """A Discord error answer."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        payload: JSON | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})
        self.payload = payload

    def body(self) -> JSON:
        if self.payload is not None:
            return self.payload
        out: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            out["errors"] = self.errors
        return out


def _unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


class _FormErrors:
    """Collects field errors and renders Discord's nested ``errors`` object."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[str | int, ...], str, str]] = []

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        self.items.append((path, code, message))

    def max_len(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if isinstance(value, (str, list)) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def string(
        self, path: tuple[str | int, ...], value: Any, limit: int, *, required: bool = False
    ) -> str:
        if value is None:
            if required:
                self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return ""
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Could not interpret value as string.")
            return ""
        if required and not value.strip():
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        self.max_len(path, value, limit)
        return value

    def raise_if_any(self) -> None:
        if not self.items:
            return
        errors: JSON = {}
        for path, code, message in self.items:
            node = errors
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        raise ApiError(400, 50035, "Invalid Form Body", errors)


def _check_embeds(errs: _FormErrors, embeds: Any) -> None:
    if not isinstance(embeds, list):
        errs.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > MAX_EMBEDS:
        errs.max_len(("embeds",), embeds, MAX_EMBEDS)
    total = 0
    for i, embed in enumerate(embeds):
        p: tuple[str | int, ...] = ("embeds", i)
        if not isinstance(embed, dict):
            errs.add(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        total += len(errs.string((*p, "title"), embed.get("title"), MAX_EMBED_TITLE))
        total += len(
            errs.string((*p, "description"), embed.get("description"), MAX_EMBED_DESCRIPTION)
        )
        fields = embed.get("fields") or []
        if not isinstance(fields, list):
            errs.add((*p, "fields"), "BASE_TYPE_ARRAY", "Must be an array.")
            fields = []
        errs.max_len((*p, "fields"), fields, MAX_EMBED_FIELDS)
        for j, fld in enumerate(fields):
            fp = (*p, "fields", j)
            if not isinstance(fld, dict):
                errs.add(fp, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
                continue
            total += len(errs.string((*fp, "name"), fld.get("name"), MAX_FIELD_NAME, required=True))
            total += len(
                errs.string((*fp, "value"), fld.get("value"), MAX_FIELD_VALUE, required=True)
            )
        footer = embed.get("footer")
        if isinstance(footer, dict):
            total += len(
                errs.string(
                    (*p, "footer", "text"), footer.get("text"), MAX_FOOTER_TEXT, required=True
                )
            )
        author = embed.get("author")
        if isinstance(author, dict):
            total += len(
                errs.string(
                    (*p, "author", "name"), author.get("name"), MAX_AUTHOR_NAME, required=True
                )
            )
        for key in ("url",):
            url = embed.get(key)
            if url is not None and not (
                isinstance(url, str) and url.startswith(("http://", "https://"))
            ):
                errs.add((*p, key), "URL_TYPE_INVALID_URL", "Not a well formed URL.")
    if total > MAX_EMBED_TOTAL:
        errs.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )


_SELECT_TYPES: Final = frozenset({3, 5, 6, 7, 8})


def _check_components(errs: _FormErrors, components: Any, flags: int) -> None:
    if not isinstance(components, list):
        errs.add(("components",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if flags & MESSAGE_FLAG_COMPONENTS_V2:
        errs.max_len(("components",), components, 40)  # layout components: not checked further
        return
    errs.max_len(("components",), components, MAX_ACTION_ROWS)
    seen: set[str] = set()
    for i, row in enumerate(components):
        p: tuple[str | int, ...] = ("components", i)
        if not isinstance(row, dict) or row.get("type") != 1:
            errs.add(
                (*p, "type"),
                "COMPONENT_LAYOUT_INVALID",
                "Top-level components must be action rows.",
            )
            continue
        children = row.get("components")
        if not isinstance(children, list) or not children or len(children) > MAX_ROW_COMPONENTS:
            errs.add(
                (*p, "components"),
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {MAX_ROW_COMPONENTS} in length.",
            )
            children = children if isinstance(children, list) else []
        for j, comp in enumerate(children):
            cp = (*p, "components", j)
            if not isinstance(comp, dict):
                errs.add(cp, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
                continue
            ctype = comp.get("type")
            custom_id = comp.get("custom_id")
            if ctype == 2:
                _check_button(errs, cp, comp)
            elif ctype in _SELECT_TYPES:
                if len(children) > 1:
                    errs.add(
                        cp,
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    )
                errs.string((*cp, "custom_id"), custom_id, MAX_CUSTOM_ID, required=True)
                errs.string((*cp, "placeholder"), comp.get("placeholder"), 150)
                if ctype == 3:
                    options = comp.get("options") or []
                    if not isinstance(options, list) or not 1 <= len(options) <= 25:
                        errs.add(
                            (*cp, "options"),
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 25 in length.",
                        )
            else:
                errs.add((*cp, "type"), "COMPONENT_TYPE_INVALID", "Invalid component type.")
                continue
            if isinstance(custom_id, str):
                if custom_id in seen:
                    errs.add(
                        (*cp, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)


def _check_button(errs: _FormErrors, p: tuple[str | int, ...], button: JSON) -> None:
    style = button.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errs.add((*p, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
    errs.string((*p, "label"), button.get("label"), MAX_BUTTON_LABEL)
    if not button.get("label") and not button.get("emoji") and style != 6:
        errs.add(
            (*p, "label"),
            "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
            "A button must have a label or an emoji.",
        )
    custom_id = button.get("custom_id")
    if style == 5:
        url = button.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "discord://")):
            errs.add((*p, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A link button requires a url.")
        if custom_id is not None:
            errs.add(
                (*p, "custom_id"),
                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                "A link button cannot have a custom id.",
            )
    elif style != 6:
        errs.string((*p, "custom_id"), custom_id, MAX_CUSTOM_ID, required=True)
        if button.get("url") is not None:
            errs.add(
                (*p, "url"), "BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only link buttons have a url."
            )


def _check_message_body(
    body: JSON, *, has_files: bool, allowed_flags: int, partial: bool = False
) -> None:
    """Field checks for a message create/edit (``partial``: only the fields present)."""
    errs = _FormErrors()
    if "content" in body and body["content"] is not None:
        errs.string(("content",), body["content"], MAX_CONTENT)
    if body.get("embeds") is not None:
        _check_embeds(errs, body["embeds"])
    flags = body.get("flags")
    if flags is not None and (not isinstance(flags, int) or flags & ~allowed_flags):
        errs.add(("flags",), "MESSAGE_FLAGS_INVALID", "Invalid message flags.")
        flags = 0
    if body.get("components") is not None:
        _check_components(errs, body["components"], int(flags or 0))
    nonce = body.get("nonce")
    if nonce is not None:
        if isinstance(nonce, bool) or not isinstance(nonce, (str, int)):
            errs.add(("nonce",), "NONCE_TYPE_INVALID", "Nonce must be an integer or a string.")
        elif isinstance(nonce, str):
            errs.max_len(("nonce",), nonce, MAX_NONCE)
        elif not -(1 << 63) <= nonce < (1 << 64):
            errs.add(("nonce",), "NONCE_TYPE_INVALID", "Nonce must be an integer or a string.")
    errs.raise_if_any()
    if partial:
        return
    if not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or has_files
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _embed_text_present(embeds: Any) -> bool:
    return isinstance(embeds, list) and len(embeds) > 0


# =============================================================================================
# Internal state
# =============================================================================================


@dataclass
class _Role:
    id: int
    name: str
    permissions: int
    position: int
    managed: bool = False
    bot_id: int | None = None

    def to_api(self) -> JSON:
        out: JSON = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            out["tags"] = {"bot_id": str(self.bot_id)}
        return out


@dataclass
class _Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int
    deny: int

    def to_api(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class _Channel:
    id: int
    type: int
    name: str
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: list[_Overwrite] = field(default_factory=list)
    recipient_id: int | None = None  # DMs
    deleted: bool = False
    last_message_id: int | None = None

    @property
    def kind(self) -> Literal["text", "announcement", "dm"]:
        return "dm" if self.type == 1 else "announcement" if self.type == 5 else "text"


@dataclass
class _Member:
    user_id: int
    roles: list[int]
    joined_at: str
    nick: str | None = None


@dataclass
class _Guild:
    id: int
    name: str
    owner_id: int
    locale: str
    roles: dict[int, _Role]
    channels: list[int]
    members: dict[int, _Member]
    bot_role_id: int
    joined_at: str
    bot_present: bool = True


@dataclass
class _Message:
    id: int
    channel_id: int
    guild_id: int | None
    content: str
    embeds: list[JSON]
    components: list[JSON]
    attachments: list[FakeAttachment]
    nonce: str | int | None
    flags: int
    type: int
    created_at: float
    timestamp: str
    tts: bool = False
    edited_timestamp: str | None = None
    edits: int = 0
    deleted: bool = False
    interaction_id: int | None = None


@dataclass
class _Interaction:
    id: int
    token: str
    type: int
    name: str
    user: FakeUser
    channel_id: int
    guild_id: int | None
    payload: JSON
    created_at: float
    callback: InteractionCallback | None = None
    original_id: int | None = None
    original_edits: int = 0
    followups: list[int] = field(default_factory=list)
    source_message_id: int | None = None


@dataclass
class _Upload:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Call:
    """A parsed request, handed to a route handler."""

    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[_Upload]
    authorization: str | None


@dataclass
class _Reply:
    status: int
    body: Any = None  # None → no body
    headers: dict[str, str] = field(default_factory=dict)
    via: bool = True  # Discord's answers all pass Google's load balancer


_Handler = Callable[[_Call], _Reply]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: _Handler
    auth: bool
    bucket: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@dataclass
class _Close:
    code: int
    reason: str


class _Conn:
    """One gateway websocket connection (lives on the server loop)."""

    def __init__(self, ws: web.WebSocketResponse, compression: str | None) -> None:
        self.ws = ws
        self.compression = compression
        self.zlib = zlib.compressobj() if compression == "zlib-stream" else None
        self.outbox: asyncio.Queue[JSON | _Close] = asyncio.Queue()
        self.session: _Session | None = None
        self.closing = False
        self.client_close_code: int | None = None
        self.last_heartbeat = time.monotonic()

    def send(self, payload: JSON | _Close) -> None:
        self.outbox.put_nowait(payload)

    def encode(self, payload: JSON) -> bytes | str:
        raw = json.dumps(payload, separators=(",", ":"))
        if self.zlib is None:
            return raw
        return self.zlib.compress(raw.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH)


@dataclass
class _Session:
    id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    history: list[JSON] = field(default_factory=list)
    conn: _Conn | None = None
    invalid: bool = False

    def wants_guild(self, guild_id: int | None) -> bool:
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id


@dataclass
class _Window:
    """A fixed rate-limit window."""

    started: float
    count: int = 0


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


def _bucket_hash(template: str) -> str:
    return hashlib.sha1(template.encode()).hexdigest()[:32]


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in {"1", "true", "yes"}


# =============================================================================================
# The fake
# =============================================================================================


def _make_token(application_id: int) -> str:
    head = base64.b64encode(str(application_id).encode()).decode().rstrip("=")
    tail = hashlib.sha256(f"paperboy-{application_id}".encode()).hexdigest()[:38]
    return f"{head}.GfAkE0.{tail}"


DEFAULT_TOKEN: Final = _make_token(DEFAULT_APPLICATION_ID)


class FakeDiscord:
    """Discord's REST API and gateway on a random loopback port. Use ``with`` or start()/stop().

    Args:
        token: the bot token the client must use (default: a well-formed one for the app).
        application_id: the application's id, also the bot user's id (as for any modern app).
        bot_name: the bot user's name.
        privileged_intents: the privileged intents enabled for the app in the developer portal
            (`Intent` bits among GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT); asking for
            others in IDENTIFY closes the gateway with 4014.
        heartbeat_interval: milliseconds announced in HELLO.
        clock: the clock of nonce windows, interaction deadlines and ``created_at`` stamps
            (`ManualClock` to drive it by hand); timestamps in payloads use `wall_clock`.
        rate_limits: `RateLimits` (off by default); can be replaced at any time.
        interaction_timeout: seconds to send the initial interaction response (Discord: 3).
        token_lifetime: seconds an interaction token accepts followups (Discord: 15 min).
        nonce_window: seconds an ``enforce_nonce`` nonce deduplicates sends (Discord: minutes).
        latency: seconds to wait before handling each HTTP request (changeable at any time).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        application_id: int = DEFAULT_APPLICATION_ID,
        bot_name: str = "Paperboy",
        privileged_intents: int = 0,
        heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL_MS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rate_limits: RateLimits | None = None,
        interaction_timeout: float = 3.0,
        token_lifetime: float = 900.0,
        nonce_window: float = 300.0,
        latency: float = 0.0,
    ) -> None:
        if privileged_intents & ~PRIVILEGED_INTENTS:
            raise ValueError(
                "privileged_intents takes GUILD_MEMBERS/GUILD_PRESENCES/MESSAGE_CONTENT"
            )
        self.application_id = application_id
        self.token = token if token is not None else _make_token(application_id)
        self.bot = FakeUser(application_id, bot_name, bot=True)
        self.privileged_intents = privileged_intents
        self.heartbeat_interval = heartbeat_interval
        self.clock = clock
        self.wall_clock = wall_clock
        self.rate_limits = rate_limits if rate_limits is not None else RateLimits()
        self.interaction_timeout = interaction_timeout
        self.token_lifetime = token_lifetime
        self.nonce_window = nonce_window
        self.latency = latency
        #: Whether heartbeats are acknowledged (False simulates a zombied connection).
        self.ack_heartbeats = True

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._last_id = 0

        self._users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.owner = self._new_user("app-owner")
        self._guilds: dict[int, _Guild] = {}
        self._channels: dict[int, _Channel] = {}
        self._dms: dict[int, int] = {}  # user id -> DM channel id
        self._closed_dms: set[int] = set()
        self._messages: dict[int, _Message] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._commands: dict[int | None, list[JSON]] = {}
        self._syncs: list[CommandSync] = []
        self._interactions: dict[int, _Interaction] = {}
        self._faults: dict[str, list[Fault]] = {}

        self._conns: set[_Conn] = set()
        self._sessions: dict[str, _Session] = {}
        self._events: list[GatewayEvent] = []
        self._identify_payloads: list[JSON] = []
        self.gateway_queries: list[dict[str, str]] = []

        self._requests: list[RecordedRequest] = []
        self._rejected: Counter[int] = Counter()
        self._counts: Counter[str] = Counter()
        self._msg_windows: dict[int, _Window] = {}
        self._global_window: _Window | None = None
        #: Exceptions raised inside the fake's own handlers (answered with 500): fake bugs.
        self.server_errors: list[str] = []
        #: ``"METHOD /path"`` of requests to routes the fake does not implement.
        self.unknown_routes: list[str] = []
        self._routes = self._build_routes()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            return self
        started = threading.Event()
        failure: list[BaseException] = []
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self._port = sock.getsockname()[1]

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            runner: web.AppRunner | None = None
            try:
                runner = loop.run_until_complete(self._start_server(sock))
            except BaseException as exc:  # pragma: no cover - startup failure
                failure.append(exc)
                sock.close()
                loop.close()
                started.set()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._stop_server(runner))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="FakeDiscord", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            self._thread = None
            raise RuntimeError("FakeDiscord failed to start") from failure[0]
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _start_server(self, sock: socket.socket) -> web.AppRunner:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        return runner

    async def _stop_server(self, runner: web.AppRunner | None) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            self._close(conn, 1001, "The fake is shutting down.")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            with self._lock:
                if not self._conns:
                    break
            await asyncio.sleep(0.01)
        if runner is not None:
            await runner.cleanup()

    @property
    def port(self) -> int:
        if self._port is None or self._thread is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """For ``discord.http.Route.BASE`` (and the bot's DISCORD_API_URL)."""
        return f"{self.root_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """For ``DiscordWebSocket.DEFAULT_GATEWAY``; also what ``GET /gateway/bot`` answers."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- ids and users ---------------------------------------------------------------------------

    def _snowflake(self) -> int:
        with self._lock:
            now = (int(self.wall_clock() * 1000) - DISCORD_EPOCH_MS) << 22
            self._last_id = max(now, self._last_id + 1)
            return self._last_id

    def _new_user(self, name: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self._snowflake(), name, bot=bot)
        self._users[user.id] = user
        return user

    def add_user(self, name: str, *, bot: bool = False) -> FakeUser:
        with self._lock:
            return self._new_user(name, bot=bot)

    def user(self, user_id: int) -> FakeUser:
        with self._lock:
            return self._users[user_id]

    # -- guild state helpers (each dispatches the gateway event Discord would) -----------------

    def add_guild(
        self,
        name: str,
        *,
        owner: FakeUser | None = None,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        locale: str = "en-US",
    ) -> FakeGuild:
        """A guild the bot is in: @everyone, the bot's managed role (`bot_permissions`), the bot
        and `owner` (a new user by default) as members. Dispatches GUILD_CREATE if connected."""
        with self._lock:
            gid = self._snowflake()
            owner = owner or self._new_user(f"{name}-owner")
            self._users.setdefault(owner.id, owner)
            now = _iso(self.wall_clock())
            everyone = _Role(gid, "@everyone", everyone_permissions, 0)
            bot_role = _Role(
                self._snowflake(),
                self.bot.name,
                bot_permissions,
                1,
                managed=True,
                bot_id=self.bot.id,
            )
            guild = _Guild(
                id=gid,
                name=name,
                owner_id=owner.id,
                locale=locale,
                roles={everyone.id: everyone, bot_role.id: bot_role},
                channels=[],
                members={
                    self.bot.id: _Member(self.bot.id, [bot_role.id], now),
                    owner.id: _Member(owner.id, [], now),
                },
                bot_role_id=bot_role.id,
                joined_at=now,
            )
            self._guilds[gid] = guild
            self._emit_guild_create(gid)
            return FakeGuild(gid, name)

    def add_text_channel(
        self,
        guild: FakeGuild | int,
        name: str,
        kind: Literal["text", "announcement"] = "text",
        *,
        topic: str | None = None,
    ) -> FakeChannel:
        """A text or announcement channel; dispatches CHANNEL_CREATE."""
        with self._lock:
            g = self._guild(guild)
            ch = _Channel(
                id=self._snowflake(),
                type=CHANNEL_TYPES[kind],
                name=name,
                guild_id=g.id,
                position=len(g.channels),
                topic=topic,
            )
            self._channels[ch.id] = ch
            g.channels.append(ch.id)
            self._emit("CHANNEL_CREATE", self._channel_api(ch), Intent.GUILDS, g.id)
            return self._channel_handle(ch)

    def channel(self, channel_id: int) -> FakeChannel:
        with self._lock:
            return self._channel_handle(self._channels[channel_id])

    def channels(self, guild: FakeGuild | int) -> list[FakeChannel]:
        with self._lock:
            g = self._guild(guild)
            return [
                self._channel_handle(self._channels[c])
                for c in g.channels
                if not self._channels[c].deleted
            ]

    def add_role(self, guild: FakeGuild | int, name: str, permissions: int = 0) -> FakeRole:
        """A role; dispatches GUILD_ROLE_CREATE."""
        with self._lock:
            g = self._guild(guild)
            role = _Role(self._snowflake(), name, permissions, len(g.roles))
            g.roles[role.id] = role
            self._emit(
                "GUILD_ROLE_CREATE",
                {"guild_id": str(g.id), "role": role.to_api()},
                Intent.GUILDS,
                g.id,
            )
            return FakeRole(role.id, g.id, name)

    def bot_role(self, guild: FakeGuild | int) -> FakeRole:
        with self._lock:
            g = self._guild(guild)
            return FakeRole(g.bot_role_id, g.id, g.roles[g.bot_role_id].name)

    def add_member(
        self,
        guild: FakeGuild | int,
        user: FakeUser,
        *,
        roles: Sequence[FakeRole] = (),
        permissions: int | None = None,
    ) -> None:
        """Make `user` a member with `roles`; `permissions` adds a role of their own granting them
        (e.g. ``Perm.MANAGE_CHANNELS`` or ``Perm.ADMINISTRATOR``). GUILD_MEMBER_ADD is dispatched
        to sessions with the GUILD_MEMBERS intent."""
        with self._lock:
            g = self._guild(guild)
            self._users.setdefault(user.id, user)
            role_ids = [r.id for r in roles]
            if permissions is not None:
                role = _Role(self._snowflake(), f"{user.name}-perms", permissions, len(g.roles))
                g.roles[role.id] = role
                self._emit(
                    "GUILD_ROLE_CREATE",
                    {"guild_id": str(g.id), "role": role.to_api()},
                    Intent.GUILDS,
                    g.id,
                )
                role_ids.append(role.id)
            member = _Member(user.id, role_ids, _iso(self.wall_clock()))
            g.members[user.id] = member
            self._emit(
                "GUILD_MEMBER_ADD",
                {"guild_id": str(g.id), **self._member_api(member)},
                Intent.GUILD_MEMBERS,
                g.id,
            )

    def set_role_permissions(self, role: FakeRole, permissions: int) -> None:
        """Set a role's permissions (the @everyone role's id is the guild id); dispatches
        GUILD_ROLE_UPDATE."""
        with self._lock:
            g = self._guilds[role.guild_id]
            g.roles[role.id].permissions = permissions
            self._emit_role_update(g, g.roles[role.id])

    def set_everyone_permissions(self, guild: FakeGuild | int, permissions: int) -> None:
        with self._lock:
            g = self._guild(guild)
            g.roles[g.id].permissions = permissions
            self._emit_role_update(g, g.roles[g.id])

    def set_bot_permissions(
        self, target: FakeGuild | FakeChannel | int, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Change what the bot may do.

        On a channel: merge `allow`/`deny` into the bot's member overwrite there (CHANNEL_UPDATE).
        On a guild (or guild id): add `allow` to the bot's role and strip `deny` from it and from
        @everyone, so the bot loses those bits guild-wide unless another role grants them
        (GUILD_ROLE_UPDATE).
        """
        with self._lock:
            if isinstance(target, FakeChannel):
                self._merge_overwrite(target, self.bot.id, 1, allow, deny)
                return
            g = self._guild(target)
            bot_role = g.roles[g.bot_role_id]
            bot_role.permissions = (bot_role.permissions | allow) & ~deny
            self._emit_role_update(g, bot_role)
            everyone = g.roles[g.id]
            if everyone.permissions & deny:
                everyone.permissions &= ~deny
                self._emit_role_update(g, everyone)

    def set_overwrite(
        self,
        channel: FakeChannel,
        target: FakeRole | FakeUser | FakeGuild,
        *,
        allow: int = 0,
        deny: int = 0,
    ) -> None:
        """Replace the channel overwrite for a role, a member or @everyone (pass the guild);
        dispatches CHANNEL_UPDATE. ``allow == deny == 0`` removes it."""
        with self._lock:
            kind = 1 if isinstance(target, FakeUser) else 0
            ch = self._live_channel(channel)
            ch.overwrites = [o for o in ch.overwrites if not (o.id == target.id and o.type == kind)]
            if allow or deny:
                ch.overwrites.append(_Overwrite(target.id, kind, allow, deny))
            self._emit("CHANNEL_UPDATE", self._channel_api(ch), Intent.GUILDS, ch.guild_id)

    def _merge_overwrite(
        self, channel: FakeChannel, target_id: int, kind: int, allow: int, deny: int
    ) -> None:
        ch = self._live_channel(channel)
        current = next((o for o in ch.overwrites if o.id == target_id and o.type == kind), None)
        if current is None:
            current = _Overwrite(target_id, kind, 0, 0)
            ch.overwrites.append(current)
        current.allow = (current.allow & ~deny) | allow
        current.deny = (current.deny & ~allow) | deny
        self._emit("CHANNEL_UPDATE", self._channel_api(ch), Intent.GUILDS, ch.guild_id)

    def set_bot_roles(self, guild: FakeGuild | int, roles: Sequence[FakeRole]) -> None:
        """Set the bot's roles (its managed role is kept); dispatches GUILD_MEMBER_UPDATE."""
        with self._lock:
            g = self._guild(guild)
            member = g.members[self.bot.id]
            member.roles = [g.bot_role_id, *(r.id for r in roles if r.id != g.bot_role_id)]
            self._emit(
                "GUILD_MEMBER_UPDATE",
                {"guild_id": str(g.id), **self._member_api(member)},
                None,  # sent for the current user whatever the intents
                g.id,
            )

    def update_channel(
        self, channel: FakeChannel, *, name: str | None = None, topic: str | None = None
    ) -> FakeChannel:
        with self._lock:
            ch = self._live_channel(channel)
            if name is not None:
                ch.name = name
            if topic is not None:
                ch.topic = topic
            self._emit("CHANNEL_UPDATE", self._channel_api(ch), Intent.GUILDS, ch.guild_id)
            return self._channel_handle(ch)

    def delete_channel(self, channel: FakeChannel) -> None:
        """Delete a guild channel: later requests get 404 Unknown Channel; CHANNEL_DELETE."""
        with self._lock:
            ch = self._live_channel(channel)
            ch.deleted = True
            self._emit("CHANNEL_DELETE", self._channel_api(ch), Intent.GUILDS, ch.guild_id)

    def remove_bot(self, guild: FakeGuild | int) -> None:
        """Kick the bot from a guild: GUILD_DELETE; its channels answer 403 Missing Access."""
        with self._lock:
            g = self._guild(guild)
            g.bot_present = False
            self._emit("GUILD_DELETE", {"id": str(g.id)}, Intent.GUILDS, g.id)

    def close_dms(self, user: FakeUser) -> None:
        """The user no longer accepts DMs from the bot: sends answer 403 50007."""
        with self._lock:
            self._closed_dms.add(user.id)

    def open_dms(self, user: FakeUser) -> None:
        with self._lock:
            self._closed_dms.discard(user.id)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and `user` (created on first use, like Discord)."""
        with self._lock:
            return self._channel_handle(self._dm_for(user.id))

    def permissions(self, channel: FakeChannel, user: FakeUser | None = None) -> int:
        """What `user` (default: the bot) may do in `channel`, computed as Discord does."""
        with self._lock:
            ch = self._channels[channel.id]
            uid = self.bot.id if user is None else user.id
            if ch.guild_id is None:
                return DM_PERMISSIONS
            return self._perms(ch, uid)

    # -- internal lookups ---------------------------------------------------------------------

    def _guild(self, guild: FakeGuild | int) -> _Guild:
        gid = guild if isinstance(guild, int) else guild.id
        try:
            return self._guilds[gid]
        except KeyError:
            raise KeyError(f"unknown guild {gid}") from None

    def _live_channel(self, channel: FakeChannel | int) -> _Channel:
        cid = channel if isinstance(channel, int) else channel.id
        ch = self._channels.get(cid)
        if ch is None or ch.deleted:
            raise KeyError(f"unknown or deleted channel {cid}")
        return ch

    def _channel_handle(self, ch: _Channel) -> FakeChannel:
        return FakeChannel(ch.id, ch.name, ch.guild_id, ch.kind)

    def _dm_for(self, user_id: int) -> _Channel:
        cid = self._dms.get(user_id)
        if cid is None:
            user = self._users[user_id]
            ch = _Channel(id=self._snowflake(), type=1, name=user.name, recipient_id=user_id)
            self._channels[ch.id] = ch
            self._dms[user_id] = ch.id
            return ch
        return self._channels[cid]

    # -- permissions (Discord's algorithm) ------------------------------------------------------

    def _base_perms(self, g: _Guild, user_id: int) -> int:
        if user_id == g.owner_id:
            return ALL_PERMISSIONS
        member = g.members.get(user_id)
        if member is None or (user_id == self.bot.id and not g.bot_present):
            return 0
        perms = g.roles[g.id].permissions
        for rid in member.roles:
            role = g.roles.get(rid)
            if role is not None:
                perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def _perms(self, ch: _Channel, user_id: int) -> int:
        if ch.guild_id is None:
            return DM_PERMISSIONS
        g = self._guilds[ch.guild_id]
        perms = self._base_perms(g, user_id)
        if perms == ALL_PERMISSIONS:
            return perms
        member = g.members.get(user_id)
        if member is None:
            return 0
        overwrites = {(o.type, o.id): o for o in ch.overwrites}
        everyone = overwrites.get((0, g.id))
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for rid in member.roles:
            ow = overwrites.get((0, rid))
            if ow is not None:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = overwrites.get((1, user_id))
        if own is not None:
            perms = (perms & ~own.deny) | own.allow
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        if not perms & Perm.SEND_MESSAGES:
            perms &= ~_NEEDS_SEND
        return perms

    # -- serialization ------------------------------------------------------------------------

    def _user_api(self, user_id: int) -> JSON:
        return self._users[user_id].to_api()

    def _me_api(self) -> JSON:
        return {
            **self.bot.to_api(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "email": None,
            "locale": "en-US",
        }

    def _application_flags(self) -> int:
        flags = 1 << 23  # APPLICATION_COMMAND_BADGE
        for intent, flag in _APP_FLAG_FOR_INTENT.items():
            if self.privileged_intents & intent:
                flags |= flag
        return flags

    def _application_api(self) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(str(self.application_id).encode()).hexdigest(),
            "flags": self._application_flags(),
            "owner": self._user_api(self.owner.id),
            "team": None,
            "bot": self.bot.to_api(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": sum(1 for g in self._guilds.values() if g.bot_present),
            "integration_types_config": {"0": {}},
        }

    def _channel_api(self, ch: _Channel, *, permissions_for: int | None = None) -> JSON:
        out: JSON = {
            "id": str(ch.id),
            "type": ch.type,
            "last_message_id": None if ch.last_message_id is None else str(ch.last_message_id),
            "flags": 0,
        }
        if ch.guild_id is None:
            assert ch.recipient_id is not None
            out["recipients"] = [self._user_api(ch.recipient_id)]
            return out
        out.update(
            {
                "guild_id": str(ch.guild_id),
                "name": ch.name,
                "position": ch.position,
                "parent_id": None,
                "topic": ch.topic,
                "nsfw": False,
                "rate_limit_per_user": 0,
                "permission_overwrites": [o.to_api() for o in ch.overwrites],
            }
        )
        if permissions_for is not None:
            out["permissions"] = str(self._perms(ch, permissions_for))
        return out

    def _member_api(self, member: _Member, *, permissions: int | None = None) -> JSON:
        out: JSON = {
            "user": self._user_api(member.user_id),
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in member.roles],
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            out["permissions"] = str(permissions)
        return out

    def _guild_api(self, g: _Guild, *, intents: int | None = None) -> JSON:
        out: JSON = {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_api() for r in g.roles.values()],
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_members": 500_000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": g.locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
        }
        if intents is None:
            return out
        members = [
            self._member_api(m)
            for uid, m in g.members.items()
            if uid == self.bot.id or intents & Intent.GUILD_MEMBERS
        ]
        out.update(
            {
                "joined_at": g.joined_at,
                "large": False,
                "unavailable": False,
                "member_count": len(g.members),
                "voice_states": [],
                "members": members,
                "channels": [
                    self._channel_api(self._channels[c])
                    for c in g.channels
                    if not self._channels[c].deleted
                ],
                "threads": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return out

    def _message_api(self, m: _Message, *, gateway: bool = False) -> JSON:
        out: JSON = {
            "id": str(m.id),
            "channel_id": str(m.channel_id),
            "type": m.type,
            "content": m.content,
            "author": self.bot.to_api(),
            "attachments": [self._attachment_api(m.channel_id, a) for a in m.attachments],
            "embeds": copy.deepcopy(m.embeds),
            "components": copy.deepcopy(m.components),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": m.tts,
            "timestamp": m.timestamp,
            "edited_timestamp": m.edited_timestamp,
            "flags": m.flags,
        }
        if m.nonce is not None:
            out["nonce"] = m.nonce
        inter = self._interactions.get(m.interaction_id) if m.interaction_id else None
        if inter is not None:
            out["webhook_id"] = str(self.application_id)
            out["application_id"] = str(self.application_id)
            out["interaction_metadata"] = {
                "id": str(inter.id),
                "type": inter.type,
                "user": inter.user.to_api(),
                "authorizing_integration_owners": inter.payload["authorizing_integration_owners"],
            }
        if gateway and m.guild_id is not None:
            out["guild_id"] = str(m.guild_id)
            member = self._guilds[m.guild_id].members.get(self.bot.id)
            if member is not None:
                member_api = self._member_api(member)
                member_api.pop("user")
                out["member"] = member_api
        return out

    def _attachment_api(self, channel_id: int, a: FakeAttachment) -> JSON:
        url = f"{self.root_url}/attachments/{channel_id}/{a.id}/{a.filename}"
        out: JSON = {
            "id": str(a.id),
            "filename": a.filename,
            "size": a.size,
            "url": url,
            "proxy_url": url,
        }
        if a.content_type:
            out["content_type"] = a.content_type
        return out

    def _snapshot(self, m: _Message) -> FakeMessage:
        return FakeMessage(
            id=m.id,
            channel_id=m.channel_id,
            guild_id=m.guild_id,
            content=m.content,
            embeds=copy.deepcopy(m.embeds),
            components=copy.deepcopy(m.components),
            attachments=tuple(m.attachments),
            nonce=m.nonce,
            flags=m.flags,
            type=m.type,
            created_at=m.created_at,
            edits=m.edits,
            deleted=m.deleted,
            interaction_id=m.interaction_id,
            tts=m.tts,
        )

    # -- messages -------------------------------------------------------------------------------

    def _attachments(
        self, body: JSON, files: Sequence[_Upload], existing: Sequence[FakeAttachment] = ()
    ) -> list[FakeAttachment]:
        """New uploads (``files[n]``) plus the existing attachments ``attachments`` keeps."""
        kept: list[FakeAttachment] = list(existing)
        listed = body.get("attachments")
        if isinstance(listed, list):
            keep_ids = set()
            for item in listed:
                if isinstance(item, dict) and item.get("id") is not None:
                    with contextlib.suppress(TypeError, ValueError):
                        keep_ids.add(int(item["id"]))
            kept = [a for a in existing if a.id in keep_ids]
        for upload in files:
            kept.append(
                FakeAttachment(
                    id=self._snowflake(),
                    filename=upload.filename or "unknown",
                    content_type=upload.content_type,
                    data=upload.data,
                )
            )
        return kept

    def _create_message(
        self,
        ch: _Channel,
        body: JSON,
        files: Sequence[_Upload],
        *,
        flags: int,
        type: int = 0,
        interaction: _Interaction | None = None,
    ) -> _Message:
        now = self.wall_clock()
        m = _Message(
            id=self._snowflake(),
            channel_id=ch.id,
            guild_id=ch.guild_id,
            content=str(body.get("content") or ""),
            embeds=copy.deepcopy(body.get("embeds") or []),
            components=copy.deepcopy(body.get("components") or []),
            attachments=self._attachments(body, files),
            nonce=body.get("nonce"),
            flags=flags,
            type=type,
            created_at=self.clock(),
            timestamp=_iso(now),
            tts=bool(body.get("tts")),
            interaction_id=None if interaction is None else interaction.id,
        )
        self._messages[m.id] = m
        self._channel_messages.setdefault(ch.id, []).append(m.id)
        self._counts["messages_created"] += 1
        if not flags & MESSAGE_FLAG_EPHEMERAL:
            ch.last_message_id = m.id
            self._emit_message("MESSAGE_CREATE", m, self._message_api(m, gateway=True))
        self._cond.notify_all()
        return m

    def _edit_message(self, m: _Message, body: JSON, files: Sequence[_Upload]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                value = body[key]
                if key == "content":
                    m.content = "" if value is None else str(value)
                else:
                    setattr(m, key, copy.deepcopy(value or []))
        if "attachments" in body or files:
            m.attachments = self._attachments(body, files, m.attachments)
        if body.get("flags") is not None:
            keep = m.flags & ~MESSAGE_FLAG_SUPPRESS_EMBEDS
            m.flags = keep | (int(body["flags"]) & MESSAGE_FLAG_SUPPRESS_EMBEDS)
        m.flags &= ~MESSAGE_FLAG_LOADING
        m.edits += 1
        m.edited_timestamp = _iso(self.wall_clock())
        self._counts["messages_edited"] += 1
        if not m.flags & MESSAGE_FLAG_EPHEMERAL:
            self._emit_message("MESSAGE_UPDATE", m, self._message_api(m, gateway=True))
        self._cond.notify_all()

    def _delete_message(self, m: _Message) -> None:
        m.deleted = True
        self._counts["messages_deleted"] += 1
        if not m.flags & MESSAGE_FLAG_EPHEMERAL:
            data: JSON = {"id": str(m.id), "channel_id": str(m.channel_id)}
            if m.guild_id is not None:
                data["guild_id"] = str(m.guild_id)
            self._emit_message("MESSAGE_DELETE", m, data)
        self._cond.notify_all()

    def _emit_message(self, event: str, m: _Message, data: JSON) -> None:
        intent = Intent.GUILD_MESSAGES if m.guild_id is not None else Intent.DIRECT_MESSAGES
        self._emit(event, data, intent, m.guild_id)

    def _stored_message(self, channel_id: int, message_id: str) -> _Message:
        try:
            m = self._messages.get(int(message_id))
        except ValueError:
            m = None
        if m is None or m.deleted or m.channel_id != channel_id:
            raise _unknown("Message", 10008)
        return m

    # -- interactions (test side) ----------------------------------------------------------------

    def invoke(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user runs a slash command (INTERACTION_CREATE type 2), in `channel` or, if None, in
        their DM with the bot. ``"group sub"`` addresses a subcommand. Options are typed from the
        synced definition (string 3, integer 4, boolean 5, number 10). Raises LookupError if the
        command was not synced, ValueError for options Discord's client would not send, and
        PermissionError if the user may not see the channel or use the command."""
        return self._command_interaction(
            APPLICATION_COMMAND, command, options or {}, None, user, channel, locale
        )

    def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        focused: str = "topic",
        *,
        user: FakeUser,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user types into option `focused` (INTERACTION_CREATE type 4); its value is sent as
        the string typed so far (options[focused], default "")."""
        values = dict(options or {})
        values.setdefault(focused, "")
        return self._command_interaction(
            AUTOCOMPLETE, command, values, focused, user, channel, locale
        )

    def click(
        self,
        message: FakeMessage | int,
        custom_id: str,
        *,
        user: FakeUser,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user presses a button (or picks `values` in a select menu) of a message the bot sent
        (INTERACTION_CREATE type 3). Raises LookupError if no enabled component has `custom_id`."""
        with self._lock:
            mid = message if isinstance(message, int) else message.id
            m = self._messages.get(mid)
            if m is None or m.deleted:
                raise LookupError(f"message {mid} does not exist (or was deleted)")
            snap = self._snapshot(m)
            comp = next(
                (c for c in snap.components_flat() if c.get("custom_id") == custom_id), None
            )
            if comp is None:
                raise LookupError(
                    f"message {mid} has no component {custom_id!r}: {snap.custom_ids()}"
                )
            if comp.get("disabled"):
                raise LookupError(f"component {custom_id!r} is disabled")
            data: JSON = {"custom_id": custom_id, "component_type": comp["type"]}
            if comp["type"] in _SELECT_TYPES:
                data["values"] = list(values or [])
            ch = self._channels[m.channel_id]
            self._prepare_user_in(ch, user, need_commands=False)
            return self._create_interaction(
                MESSAGE_COMPONENT, data, user, ch, locale, name=custom_id, message=m
            )

    def _command_interaction(
        self,
        itype: int,
        command: str,
        options: Mapping[str, Any],
        focused: str | None,
        user: FakeUser,
        channel: FakeChannel | None,
        locale: str,
    ) -> FakeInteraction:
        with self._lock:
            ch = self._dm_for(user.id) if channel is None else self._channels[channel.id]
            self._users.setdefault(user.id, user)
            self._prepare_user_in(ch, user, need_commands=True)
            top, *path = command.split()
            cmd = self._find_command(top, ch)
            self._check_command_allowed(cmd, ch, user)
            data: JSON = {"id": cmd["id"], "name": cmd["name"], "type": cmd.get("type", 1)}
            built = _build_options(cmd.get("options") or [], path, options, focused, top)
            if built:
                data["options"] = built
            if "guild_id" in cmd:
                data["guild_id"] = cmd["guild_id"]
            return self._create_interaction(itype, data, user, ch, locale, name=command)

    def _prepare_user_in(self, ch: _Channel, user: FakeUser, *, need_commands: bool) -> None:
        if ch.deleted:
            raise LookupError(f"channel {ch.id} was deleted")
        if ch.guild_id is None:
            if ch.recipient_id != user.id:
                raise PermissionError(f"{user.name} is not the recipient of DM channel {ch.id}")
            return
        g = self._guilds[ch.guild_id]
        if not g.bot_present:
            raise PermissionError(f"the bot is not in guild {g.name!r}")
        if user.id not in g.members:
            g.members[user.id] = _Member(user.id, [], _iso(self.wall_clock()))
        perms = self._perms(ch, user.id)
        if not perms & Perm.VIEW_CHANNEL:
            raise PermissionError(f"{user.name} cannot see channel {ch.name!r}")
        if need_commands and not perms & Perm.USE_APPLICATION_COMMANDS:
            raise PermissionError(f"{user.name} may not use application commands in {ch.name!r}")

    def _find_command(self, name: str, ch: _Channel) -> JSON:
        scopes: list[int | None] = [None] if ch.guild_id is None else [ch.guild_id, None]
        for scope in scopes:
            for cmd in self._commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    return cmd
        synced = {s: [c["name"] for c in cmds] for s, cmds in self._commands.items()}
        raise LookupError(f"command {name!r} is not synced (synced: {synced})")

    def _check_command_allowed(self, cmd: JSON, ch: _Channel, user: FakeUser) -> None:
        context = 1 if ch.guild_id is None else 0
        contexts = cmd.get("contexts")
        if contexts is not None and context not in contexts:
            raise PermissionError(f"command {cmd['name']!r} is not available in context {context}")
        if context == 1 and cmd.get("dm_permission") is False and contexts is None:
            raise PermissionError(f"command {cmd['name']!r} is not available in DMs")
        required = cmd.get("default_member_permissions")
        if required is not None and context == 0:
            perms = self._perms(ch, user.id)
            need = int(required)
            if perms != ALL_PERMISSIONS and (need == 0 or perms & need != need):
                raise PermissionError(f"{user.name} lacks {need:#x} for {cmd['name']!r}")

    def _create_interaction(
        self,
        itype: int,
        data: JSON,
        user: FakeUser,
        ch: _Channel,
        locale: str,
        *,
        name: str,
        message: _Message | None = None,
    ) -> FakeInteraction:
        if not any(s.conn is not None and not s.invalid for s in self._sessions.values()):
            raise RuntimeError("no bot is connected to the gateway to receive the interaction")
        iid = self._snowflake()
        token = "aW50ZXJhY3Rpb246" + uuid.uuid4().hex + uuid.uuid4().hex
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(self._perms(ch, self.bot.id)),
            "channel_id": str(ch.id),
        }
        if ch.guild_id is not None:
            g = self._guilds[ch.guild_id]
            payload.update(
                {
                    "guild_id": str(g.id),
                    "guild": {"id": str(g.id), "locale": g.locale, "features": []},
                    "guild_locale": g.locale,
                    "channel": self._channel_api(ch, permissions_for=user.id),
                    "member": self._member_api(
                        g.members[user.id], permissions=self._perms(ch, user.id)
                    ),
                    "authorizing_integration_owners": {"0": str(g.id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "channel": self._channel_api(ch),
                    "user": user.to_api(),
                    "authorizing_integration_owners": {"0": "0"},
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = self._message_api(message)
        state = _Interaction(
            id=iid,
            token=token,
            type=itype,
            name=name,
            user=user,
            channel_id=ch.id,
            guild_id=ch.guild_id,
            payload=payload,
            created_at=self.clock(),
            source_message_id=None if message is None else message.id,
        )
        self._interactions[iid] = state
        self._counts["interactions"] += 1
        self._emit("INTERACTION_CREATE", payload, None, ch.guild_id)
        return FakeInteraction(self, state)

    # -- records --------------------------------------------------------------------------------

    def messages(self, channel: FakeChannel | int) -> list[FakeMessage]:
        """Every message the bot created in `channel`, oldest first (deleted and ephemeral ones
        included; see `FakeMessage.deleted` / `.ephemeral`)."""
        cid = channel if isinstance(channel, int) else channel.id
        with self._lock:
            return [self._snapshot(self._messages[m]) for m in self._channel_messages.get(cid, [])]

    def message(self, message_id: int) -> FakeMessage:
        with self._lock:
            return self._snapshot(self._messages[message_id])

    def commands(self, guild: FakeGuild | None = None) -> list[JSON]:
        """The application commands as stored (global, or for `guild`), with their ids."""
        with self._lock:
            return copy.deepcopy(self._commands.get(None if guild is None else guild.id, []))

    def edit_command(self, name: str, *, guild: FakeGuild | None = None, **changes: Any) -> None:
        """Change fields of a stored command behind the bot's back (as a server admin or the
        developer portal would), e.g. ``edit_command("setup", default_member_permissions=None)``.
        Counts as no sync."""
        with self._lock:
            scope = None if guild is None else guild.id
            for cmd in self._commands.get(scope, []):
                if cmd["name"] == name:
                    cmd.update(copy.deepcopy(changes))
                    return
            raise LookupError(f"command {name!r} is not synced")

    def command_syncs(self) -> list[CommandSync]:
        with self._lock:
            return list(self._syncs)

    def interaction_responses(self, interaction: FakeInteraction) -> list[InteractionCallback]:
        """The accepted initial response of `interaction` (an empty list until it answers)."""
        cb = interaction.callback
        return [] if cb is None else [cb]

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def calls(self, route: str) -> list[RecordedRequest]:
        """Requests to one route, e.g. ``"POST /channels/{channel_id}/messages"``."""
        return [r for r in self.requests() if f"{r.method} {r.route}" == route]

    def dispatched(self, name: str | None = None) -> list[GatewayEvent]:
        """Dispatches sent (or queued for a RESUME), optionally of one event name."""
        with self._lock:
            return [e for e in self._events if name is None or e.name == name]

    def identifies(self) -> list[JSON]:
        """The IDENTIFY payloads received (token replaced by whether it was right)."""
        with self._lock:
            return copy.deepcopy(self._identify_payloads)

    def routes(self) -> list[str]:
        """The implemented routes, keys for `inject`: ``"POST /channels/{channel_id}/messages"``."""
        return [r.key for r in self._routes]

    @property
    def counters(self) -> Counters:
        with self._lock:
            c = self._counts
            return Counters(
                requests=len(self._requests),
                rejected=dict(self._rejected),
                rate_limited=c["rate_limited"],
                rate_limited_global=c["rate_limited_global"],
                nonce_dedups=c["nonce_dedups"],
                command_syncs=c["command_syncs"],
                messages_created=c["messages_created"],
                messages_edited=c["messages_edited"],
                messages_deleted=c["messages_deleted"],
                interactions=c["interactions"],
                faults=c["faults"],
                identifies=c["identifies"],
                resumes=c["resumes"],
                heartbeats=c["heartbeats"],
                heartbeat_acks=c["heartbeat_acks"],
            )

    @property
    def connected(self) -> int:
        """Gateway sessions live right now (identified or resumed, connection open)."""
        with self._lock:
            return self._live_sessions()

    def _live_sessions(self) -> int:
        return sum(1 for s in self._sessions.values() if s.conn is not None and not s.invalid)

    def inject(self, route: str, *faults: Fault) -> None:
        """Queue faults for the next requests of `route` (a key of `routes()`), one each."""
        if route not in self.routes():
            raise KeyError(f"unknown route {route!r}; see FakeDiscord.routes()")
        with self._lock:
            self._faults.setdefault(route, []).extend(faults)

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._msg_windows.clear()
            self._global_window = None

    # -- waiting --------------------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until `predicate()` (evaluated under the fake's lock) holds. Not from the event
        loop the bot runs on: that would stall the bot; use `wait_until_async` there."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s; {self._summary()}")
                self._cond.wait(min(remaining, 0.05))

    async def wait_until_async(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline that fails with a diagnosis
        *,
        interval: float = 0.005,
    ) -> None:
        """`wait_until` for coroutines: polls every `interval` seconds with asyncio.sleep."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate():
                    return
                summary = self._summary()
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s; {summary}")
            await asyncio.sleep(interval)

    def _count_in(self, cid: int) -> int:
        return len(self._channel_messages.get(cid, []))

    def wait_for_messages(
        self, channel: FakeChannel | int, count: int, timeout: float = 5.0
    ) -> list[FakeMessage]:
        """Block until the bot created at least `count` messages in `channel`; return them all."""
        cid = channel if isinstance(channel, int) else channel.id
        self.wait_until(lambda: self._count_in(cid) >= count, timeout)
        return self.messages(cid)

    async def wait_for_messages_async(
        self,
        channel: FakeChannel | int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline that fails with a diagnosis
    ) -> list[FakeMessage]:
        cid = channel if isinstance(channel, int) else channel.id
        await self.wait_until_async(lambda: self._count_in(cid) >= count, timeout)
        return self.messages(cid)

    def wait_for_response(
        self, interaction: FakeInteraction, timeout: float = 5.0
    ) -> InteractionCallback:
        """Block until `interaction` got its initial response; return it."""
        self.wait_until(lambda: interaction._state.callback is not None, timeout)
        cb = interaction.callback
        assert cb is not None
        return cb

    async def wait_for_response_async(
        self,
        interaction: FakeInteraction,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline that fails with a diagnosis
    ) -> InteractionCallback:
        await self.wait_until_async(lambda: interaction._state.callback is not None, timeout)
        cb = interaction.callback
        assert cb is not None
        return cb

    def wait_for_identify(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until `count` IDENTIFYs arrived (whatever their outcome)."""
        self.wait_until(lambda: self._counts["identifies"] >= count, timeout)

    async def wait_for_identify_async(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        await self.wait_until_async(lambda: self._counts["identifies"] >= count, timeout)

    def wait_connected(self, timeout: float = 5.0) -> None:
        """Block until a gateway session is live (READY and GUILD_CREATEs queued to it)."""
        self.wait_until(lambda: self._live_sessions() > 0, timeout)

    async def wait_connected_async(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self.wait_until_async(lambda: self._live_sessions() > 0, timeout)

    def _summary(self) -> str:
        recent = [f"{r.method} {r.path}→{r.status}" for r in self._requests[-8:]]
        return (
            f"live sessions: {self._live_sessions()}, recent requests: {recent}, "
            f"unknown routes: {self.unknown_routes[-3:]}, fake errors: {self.server_errors[-2:]}"
        )

    # -- HTTP pipeline -------------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("POST", "/users/@me/channels", self._open_dm, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/applications/{app_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{app_id}/commands", self._put_commands, True),
            ("POST", "/applications/{app_id}/commands", self._post_command, True),
            ("GET", "/applications/{app_id}/commands/{command_id}", self._get_command, True),
            ("DELETE", "/applications/{app_id}/commands/{command_id}", self._delete_command, True),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands, True),
            ("POST", "/applications/{app_id}/guilds/{guild_id}/commands", self._post_command, True),
            (
                "DELETE",
                "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}",
                self._delete_command,
                True,
            ),
            ("GET", "/channels/{channel_id}", self._get_channel, True),
            ("GET", "/channels/{channel_id}/messages", self._get_messages, True),
            ("POST", "/channels/{channel_id}/messages", self._post_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message, True),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}",
                self._delete_message_route,
                True,
            ),
            ("POST", "/channels/{channel_id}/typing", self._typing, True),
            ("GET", "/guilds/{guild_id}", self._get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member, True),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, False),
            ("POST", "/webhooks/{app_id}/{token}", self._post_followup, False),
            (
                "GET",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._get_webhook_message,
                False,
            ),
            (
                "PATCH",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._patch_webhook_message,
                False,
            ),
            (
                "DELETE",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._delete_webhook_message,
                False,
            ),
        ]
        routes = []
        for method, template, handler, auth in table:
            pattern = _ROUTE_PARAM_RE.sub(
                r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            )
            routes.append(
                _Route(
                    method=method,
                    template=template,
                    regex=re.compile(f"^{pattern}$"),
                    handler=handler,
                    auth=auth,
                    bucket=_bucket_hash(f"{method} {template}"),
                )
            )
        return routes

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        known_path = False
        for route in self._routes:
            m = route.regex.match(path)
            if m is None:
                continue
            known_path = True
            if route.method == method:
                return route, m.groupdict(), True
        return None, {}, known_path

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/gateway" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        return await self._http(request)

    async def _http(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        query = dict(request.query)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        prefix = f"/api/v{API_VERSION}"
        path = request.path
        route, params, known_path = (
            self._match(request.method, path[len(prefix) :])
            if path.startswith(prefix + "/")
            else (None, {}, False)
        )
        if route is None:
            status = 405 if known_path else 404
            message = "405: Method Not Allowed" if known_path else "404: Not Found"
            reply = _Reply(status, {"message": message, "code": 0})
            with self._lock:
                self.unknown_routes.append(f"{request.method} {path}")
                self._record(request, None, query, None, reply, started, None)
            return self._response(reply)
        try:
            call = await self._read_call(request, params, query)
        except ApiError as exc:
            reply = _Reply(exc.status, exc.body())
            with self._lock:
                self._record(request, route, query, None, reply, started, None)
            return self._response(reply)
        with self._lock:
            queue = self._faults.get(route.key)
            fault = queue.pop(0) if queue else None
            if fault is not None:
                self._counts["faults"] += 1
        if fault is None:
            reply = self._execute(route, call)
        else:
            reply_or_none = await self._apply_fault(fault, route, call, request)
            if reply_or_none is None:
                with self._lock:
                    self._record(request, route, query, call.body, None, started, fault.kind)
                return web.Response(status=500)  # never reaches the client: transport is gone
            reply = reply_or_none
        with self._lock:
            self._record(
                request,
                route,
                query,
                call.body,
                reply,
                started,
                None if fault is None else fault.kind,
            )
        return self._response(reply)

    async def _apply_fault(
        self, fault: Fault, route: _Route, call: _Call, request: web.Request
    ) -> _Reply | None:
        kind = fault.kind
        if kind is FaultKind.HTTP:
            page = f"<html><body><h1>{fault.status} Error</h1></body></html>"
            return _Reply(fault.status, page, {"Content-Type": "text/html"})
        if kind is FaultKind.ERROR:
            return _Reply(fault.status, {"message": fault.message, "code": fault.code})
        if kind is FaultKind.RATE_LIMIT:
            headers = self._limited_headers(fault.retry_after, is_global=fault.is_global)
            body = {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
            }
            return _Reply(429, body, headers, via=fault.via)
        if kind is FaultKind.SLOW:
            if fault.process:
                reply = self._execute(route, call)
                await asyncio.sleep(fault.delay)
                return reply
            await asyncio.sleep(fault.delay)
            return self._execute(route, call)
        # RESET
        if fault.process:
            self._execute(route, call)
        transport = request.transport
        if transport is not None:
            transport.abort()
        return None

    async def _read_call(
        self, request: web.Request, params: dict[str, str], query: dict[str, str]
    ) -> _Call:
        body: Any = None
        files: list[_Upload] = []
        if request.body_exists:
            if request.content_type == "multipart/form-data":
                body, files = await self._read_multipart(request)
            else:
                raw = await request.read()
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ApiError(
                            400, 50109, "The request body contains invalid JSON."
                        ) from None
        return _Call(params, query, body, files, request.headers.get("Authorization"))

    async def _read_multipart(self, request: web.Request) -> tuple[Any, list[_Upload]]:
        from aiohttp import BodyPartReader

        body: Any = {}
        fields: JSON = {}
        files: list[_Upload] = []
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read(decode=False))
            name = part.name or ""
            if name == "payload_json":
                try:
                    body = json.loads(data)
                except ValueError:
                    raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
            elif part.filename is not None:
                files.append(_Upload(name, part.filename, part.headers.get("Content-Type"), data))
            else:
                fields[name] = data.decode("utf-8", "replace")
        if isinstance(body, dict):
            for key, value in fields.items():
                body.setdefault(key, value)
        return body, files

    def _execute(self, route: _Route, call: _Call) -> _Reply:
        with self._lock:
            headers = self._default_rl_headers(route)
            try:
                if route.auth:
                    if call.authorization != f"Bot {self.token}":
                        raise ApiError(401, 0, "401: Unauthorized")
                    self._check_global_limit()
                if route.template == "/channels/{channel_id}/messages" and route.method == "POST":
                    headers = self._check_message_limit(route, call.params["channel_id"])
                reply = route.handler(call)
                reply.headers = {**headers, **reply.headers}
                return reply
            except ApiError as exc:
                base = {} if exc.status == 429 else headers
                return _Reply(exc.status, exc.body(), {**base, **exc.headers})
            except Exception:
                self.server_errors.append(traceback.format_exc())
                return _Reply(500, {"message": "500: Internal Server Error", "code": 0})

    # -- rate limits ----------------------------------------------------------------------------

    def _bucket_headers(
        self, bucket: str, limit: int, remaining: int, reset_after: float
    ) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": f"{self.wall_clock() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }

    def _default_rl_headers(self, route: _Route) -> dict[str, str]:
        """Headers of a bucket that never runs out (routes the fake does not limit)."""
        return self._bucket_headers(route.bucket, 50, 49, 1.0)

    def _limited_headers(self, retry_after: float, *, is_global: bool) -> dict[str, str]:
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "Via": "1.1 google",
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        return headers

    def _rate_limited(
        self, retry_after: float, *, is_global: bool, headers: dict[str, str]
    ) -> ApiError:
        self._counts["rate_limited"] += 1
        if is_global:
            self._counts["rate_limited_global"] += 1
        retry_after = max(round(retry_after, 3), 0.001)
        payload = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        all_headers = {**headers, **self._limited_headers(retry_after, is_global=is_global)}
        return ApiError(429, 0, "You are being rate limited.", None, all_headers, payload=payload)

    def _check_global_limit(self) -> None:
        rl = self.rate_limits
        if not rl.enabled:
            return
        now = time.monotonic()
        w = self._global_window
        if w is None or now - w.started >= rl.global_window:
            w = self._global_window = _Window(now)
        if w.count >= rl.global_limit:
            raise self._rate_limited(w.started + rl.global_window - now, is_global=True, headers={})
        w.count += 1

    def _check_message_limit(self, route: _Route, channel_id: str) -> dict[str, str]:
        rl = self.rate_limits
        if not rl.enabled:
            return self._default_rl_headers(route)
        try:
            key = int(channel_id)
        except ValueError:
            return self._default_rl_headers(route)
        now = time.monotonic()
        w = self._msg_windows.get(key)
        if w is None or now - w.started >= rl.message_window:
            w = self._msg_windows[key] = _Window(now)
        reset_after = w.started + rl.message_window - now
        if w.count >= rl.message_limit:
            headers = self._bucket_headers(route.bucket, rl.message_limit, 0, reset_after)
            raise self._rate_limited(reset_after, is_global=False, headers=headers)
        w.count += 1
        return self._bucket_headers(
            route.bucket, rl.message_limit, rl.message_limit - w.count, reset_after
        )

    # -- replies and records --------------------------------------------------------------------

    def _response(self, reply: _Reply) -> web.Response:
        headers = dict(reply.headers)
        if reply.via:
            headers["Via"] = "1.1 google"
        else:
            headers.pop("Via", None)
        if reply.body is None:
            return web.Response(status=reply.status, headers=headers)
        if isinstance(reply.body, str):
            headers.setdefault("Content-Type", "text/html")
            return web.Response(status=reply.status, body=reply.body.encode(), headers=headers)
        headers["Content-Type"] = "application/json"  # exactly: discord.py compares with ==
        return web.Response(
            status=reply.status, body=json.dumps(reply.body).encode(), headers=headers
        )

    def _record(
        self,
        request: web.Request,
        route: _Route | None,
        query: dict[str, str],
        body: Any,
        reply: _Reply | None,
        started: float,
        fault: FaultKind | None,
    ) -> None:
        status = None if reply is None else reply.status
        code = None
        if reply is not None and reply.status >= 400 and isinstance(reply.body, dict):
            code = reply.body.get("code")
        if status is not None and status >= 400:
            self._rejected[status] += 1
        self._requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                route=None if route is None else route.template,
                query=query,
                body=body,
                status=status,
                code=code,
                started=started,
                responded=time.monotonic(),
                fault=fault,
            )
        )
        self._cond.notify_all()

    # -- REST handlers: gateway, users, application ---------------------------------------------

    def _get_gateway(self, call: _Call) -> _Reply:
        return _Reply(200, {"url": self.gateway_url})

    def _get_gateway_bot(self, call: _Call) -> _Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _Reply(200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    def _get_me(self, call: _Call) -> _Reply:
        return _Reply(200, self._me_api())

    def _get_user(self, call: _Call) -> _Reply:
        user = self._users.get(_int_or(call.params["user_id"]))
        if user is None:
            raise _unknown("User", 10013)
        return _Reply(200, user.to_api())

    def _get_application(self, call: _Call) -> _Reply:
        return _Reply(200, self._application_api())

    def _open_dm(self, call: _Call) -> _Reply:
        body = call.body if isinstance(call.body, dict) else {}
        user = self._users.get(_int_or(body.get("recipient_id")))
        if user is None or user.id == self.bot.id:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        return _Reply(200, self._channel_api(self._dm_for(user.id)))

    # -- REST handlers: application commands ----------------------------------------------------

    def _command_scope(self, call: _Call) -> int | None:
        if _int_or(call.params["app_id"]) != self.application_id:
            raise ApiError(
                403, 20012, "You are not authorized to perform this action on this application"
            )
        if "guild_id" not in call.params:
            return None
        g = self._guilds.get(_int_or(call.params["guild_id"]))
        if g is None or not g.bot_present:
            raise MISSING_ACCESS_ERROR()
        return g.id

    def _get_commands(self, call: _Call) -> _Reply:
        return _Reply(200, copy.deepcopy(self._commands.get(self._command_scope(call), [])))

    def _get_command(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        for cmd in self._commands.get(scope, []):
            if cmd["id"] == call.params["command_id"]:
                return _Reply(200, copy.deepcopy(cmd))
        raise _unknown("application command", 10063)

    def _put_commands(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        if not isinstance(call.body, list):
            errs = _FormErrors()
            errs.add((), "BASE_TYPE_ARRAY", "Must be an array.")
            errs.raise_if_any()
        body: list[Any] = call.body
        errs = _FormErrors()
        errs.max_len((), body, MAX_COMMANDS)
        seen: set[tuple[str, int]] = set()
        for i, cmd in enumerate(body):
            _check_command(errs, (i,), cmd, seen)
        errs.raise_if_any()
        existing = {(c["name"], c.get("type", 1)): c for c in self._commands.get(scope, [])}
        stored = [self._store_command(cmd, scope, existing) for cmd in body]
        self._commands[scope] = stored
        self._counts["command_syncs"] += 1
        self._syncs.append(CommandSync(scope, [c["name"] for c in stored], self.clock()))
        self._cond.notify_all()
        return _Reply(200, copy.deepcopy(stored))

    def _post_command(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        errs = _FormErrors()
        _check_command(errs, (), call.body, set())
        errs.raise_if_any()
        current = self._commands.setdefault(scope, [])
        existing = {(c["name"], c.get("type", 1)): c for c in current}
        stored = self._store_command(call.body, scope, existing)
        key = (stored["name"], stored["type"])
        self._commands[scope] = [c for c in current if (c["name"], c.get("type", 1)) != key]
        self._commands[scope].append(stored)
        status = 200 if key in existing else 201
        return _Reply(status, copy.deepcopy(stored))

    def _delete_command(self, call: _Call) -> _Reply:
        scope = self._command_scope(call)
        current = self._commands.get(scope, [])
        kept = [c for c in current if c["id"] != call.params["command_id"]]
        if len(kept) == len(current):
            raise _unknown("application command", 10063)
        self._commands[scope] = kept
        return _Reply(204)

    def _store_command(
        self, cmd: JSON, scope: int | None, existing: Mapping[tuple[str, int], JSON]
    ) -> JSON:
        ctype = cmd.get("type", 1)
        before = existing.get((cmd["name"], ctype))
        stored: JSON = {
            "id": before["id"] if before else str(self._snowflake()),
            "application_id": str(self.application_id),
            "version": before["version"] if before else str(self._snowflake()),
            "default_member_permissions": cmd.get("default_member_permissions"),
            "type": ctype,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "dm_permission": cmd.get("dm_permission", True),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types") or [0],
            "nsfw": bool(cmd.get("nsfw", False)),
        }
        if cmd.get("options"):
            stored["options"] = copy.deepcopy(cmd["options"])
        if scope is not None:
            stored["guild_id"] = str(scope)
        if before is not None and _command_changed(before, stored):
            stored["version"] = str(self._snowflake())
        return stored

    # -- REST handlers: channels and messages ---------------------------------------------------

    def _bot_channel(self, channel_id: str) -> _Channel:
        """The channel as the bot sees it: 404 Unknown Channel, 403 Missing Access."""
        ch = self._channels.get(_int_or(channel_id))
        if ch is None or ch.deleted:
            raise _unknown("Channel", 10003)
        if ch.guild_id is not None:
            g = self._guilds[ch.guild_id]
            if not g.bot_present or not self._perms(ch, self.bot.id) & Perm.VIEW_CHANNEL:
                raise MISSING_ACCESS_ERROR()
        return ch

    def _require(self, ch: _Channel, perms: int) -> None:
        if ch.guild_id is not None and self._perms(ch, self.bot.id) & perms != perms:
            raise MISSING_PERMISSIONS_ERROR()

    def _get_channel(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        return _Reply(200, self._channel_api(ch))

    def _get_messages(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        if ch.guild_id is not None and not self._perms(ch, self.bot.id) & Perm.READ_MESSAGE_HISTORY:
            return _Reply(200, [])
        limit = max(1, min(100, _int_or(call.query.get("limit"), 50)))
        visible = [
            self._messages[m]
            for m in self._channel_messages.get(ch.id, [])
            if not self._messages[m].deleted
            and not self._messages[m].flags & MESSAGE_FLAG_EPHEMERAL
        ]
        return _Reply(200, [self._message_api(m) for m in reversed(visible)][:limit])

    def _get_message(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        self._require(ch, Perm.READ_MESSAGE_HISTORY)
        return _Reply(
            200, self._message_api(self._stored_message(ch.id, call.params["message_id"]))
        )

    def _check_can_send(self, ch: _Channel, body: JSON, files: Sequence[_Upload]) -> None:
        if ch.guild_id is None:
            if ch.recipient_id in self._closed_dms:
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        needed = int(Perm.SEND_MESSAGES)
        if _embed_text_present(body.get("embeds")):
            needed |= Perm.EMBED_LINKS
        if files:
            needed |= Perm.ATTACH_FILES
        self._require(ch, needed)

    def _post_message(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        body = _body_dict(call.body)
        self._require(ch, Perm.SEND_MESSAGES)
        _check_message_body(body, has_files=bool(call.files), allowed_flags=_CREATE_FLAGS)
        self._check_can_send(ch, body, call.files)
        nonce = body.get("nonce")
        now = self.clock()
        if nonce is not None and body.get("enforce_nonce"):
            key = (ch.id, str(nonce))
            earlier = self._nonces.get(key)
            if earlier is not None and now - earlier[1] <= self.nonce_window:
                m = self._messages[earlier[0]]
                self._counts["nonce_dedups"] += 1
                self._cond.notify_all()
                return _Reply(200, self._message_api(m))
        m = self._create_message(ch, body, call.files, flags=int(body.get("flags") or 0))
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(ch.id, str(nonce))] = (m.id, now)
        return _Reply(200, self._message_api(m))

    def _patch_message(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        m = self._stored_message(ch.id, call.params["message_id"])
        body = _body_dict(call.body)
        _check_message_body(
            body, has_files=bool(call.files), allowed_flags=_CREATE_FLAGS, partial=True
        )
        self._check_edit_not_empty(m, body, call.files)
        if ch.guild_id is not None and _embed_text_present(body.get("embeds")):
            self._require(ch, Perm.EMBED_LINKS)
        self._edit_message(m, body, call.files)
        return _Reply(200, self._message_api(m))

    def _check_edit_not_empty(self, m: _Message, body: JSON, files: Sequence[_Upload]) -> None:
        content = body.get("content", m.content)
        embeds = body.get("embeds", m.embeds)
        components = body.get("components", m.components)
        attachments = body.get("attachments", m.attachments)
        if not (content or embeds or components or attachments or files):
            raise ApiError(400, 50006, "Cannot send an empty message")

    def _delete_message_route(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        m = self._stored_message(ch.id, call.params["message_id"])
        self._delete_message(m)
        return _Reply(204)

    def _typing(self, call: _Call) -> _Reply:
        ch = self._bot_channel(call.params["channel_id"])
        self._require(ch, Perm.SEND_MESSAGES)
        return _Reply(204)

    # -- REST handlers: guilds ------------------------------------------------------------------

    def _bot_guild(self, guild_id: str) -> _Guild:
        g = self._guilds.get(_int_or(guild_id))
        if g is None or not g.bot_present:
            raise _unknown("Guild", 10004)
        return g

    def _get_guild(self, call: _Call) -> _Reply:
        g = self._bot_guild(call.params["guild_id"])
        out = self._guild_api(g)
        if _truthy(call.query.get("with_counts")):
            out["approximate_member_count"] = len(g.members)
            out["approximate_presence_count"] = 0
        return _Reply(200, out)

    def _get_guild_channels(self, call: _Call) -> _Reply:
        g = self._bot_guild(call.params["guild_id"])
        live = [self._channels[c] for c in g.channels if not self._channels[c].deleted]
        return _Reply(200, [self._channel_api(c) for c in live])

    def _get_roles(self, call: _Call) -> _Reply:
        g = self._bot_guild(call.params["guild_id"])
        return _Reply(200, [r.to_api() for r in g.roles.values()])

    def _get_member(self, call: _Call) -> _Reply:
        g = self._bot_guild(call.params["guild_id"])
        member = g.members.get(_int_or(call.params["user_id"]))
        if member is None:
            raise _unknown("Member", 10007)
        return _Reply(200, self._member_api(member))

    # -- REST handlers: interactions and followups ----------------------------------------------

    def _interaction_for_callback(self, call: _Call) -> _Interaction:
        inter = self._interactions.get(_int_or(call.params["interaction_id"]))
        if inter is None or inter.token != call.params["token"]:
            raise _unknown("interaction", 10062)
        if inter.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if self.clock() - inter.created_at > self.interaction_timeout:
            raise _unknown("interaction", 10062)
        return inter

    def _callback(self, call: _Call) -> _Reply:
        inter = self._interaction_for_callback(call)
        body = _body_dict(call.body)
        ctype = _int_or(body.get("type"))
        if ctype not in _CALLBACKS_FOR.get(inter.type, set()):
            errs = _FormErrors()
            errs.add(
                ("type",), "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type"
            )
            errs.raise_if_any()
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            errs = _FormErrors()
            errs.add(("data",), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            errs.raise_if_any()
        data = data or {}
        ch = self._channels[inter.channel_id]
        message: _Message | None = None
        if ctype == CHANNEL_MESSAGE:
            _check_message_body(
                data,
                has_files=bool(call.files),
                allowed_flags=_CREATE_FLAGS | MESSAGE_FLAG_EPHEMERAL,
            )
            message = self._create_message(
                ch,
                data,
                call.files,
                flags=int(data.get("flags") or 0),
                type=20 if inter.type == APPLICATION_COMMAND else 0,
                interaction=inter,
            )
        elif ctype == DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL) | MESSAGE_FLAG_LOADING
            message = self._create_message(
                ch,
                {},
                (),
                flags=flags,
                type=20 if inter.type == APPLICATION_COMMAND else 0,
                interaction=inter,
            )
        elif ctype in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            if inter.source_message_id is None:
                raise ApiError(400, 50035, "Invalid Form Body")
            message = self._messages[inter.source_message_id]
            if ctype == UPDATE_MESSAGE:
                _check_message_body(
                    data, has_files=bool(call.files), allowed_flags=_CREATE_FLAGS, partial=True
                )
                self._check_edit_not_empty(message, data, call.files)
                self._edit_message(message, data, call.files)
        elif ctype == AUTOCOMPLETE_RESULT:
            _check_choices(data.get("choices"))
        elif ctype == MODAL:
            _check_modal(data)
        if message is not None:
            inter.original_id = message.id
        with_response = _truthy(call.query.get("with_response"))
        inter.callback = InteractionCallback(
            type=ctype,
            data=copy.deepcopy(data) if data else None,
            at=self.clock(),
            with_response=with_response,
        )
        self._cond.notify_all()
        if not with_response:
            return _Reply(204)
        answer: JSON = {"interaction": {"id": str(inter.id), "type": inter.type}}
        resource: JSON = {"type": ctype}
        if message is not None:
            answer["interaction"].update(
                {
                    "response_message_id": str(message.id),
                    "response_message_loading": bool(message.flags & MESSAGE_FLAG_LOADING),
                    "response_message_ephemeral": bool(message.flags & MESSAGE_FLAG_EPHEMERAL),
                }
            )
            resource["message"] = self._message_api(message)
        answer["resource"] = resource
        return _Reply(200, answer)

    def _interaction_for_webhook(self, call: _Call) -> _Interaction:
        if _int_or(call.params["app_id"]) != self.application_id:
            raise _unknown("Webhook", 10015)
        token = call.params["token"]
        inter = next((i for i in self._interactions.values() if i.token == token), None)
        if inter is None or self.clock() - inter.created_at > self.token_lifetime:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if inter.callback is None:
            raise _unknown("Webhook", 10015)
        return inter

    def _post_followup(self, call: _Call) -> _Reply:
        inter = self._interaction_for_webhook(call)
        body = _body_dict(call.body)
        _check_message_body(
            body, has_files=bool(call.files), allowed_flags=_CREATE_FLAGS | MESSAGE_FLAG_EPHEMERAL
        )
        original = None if inter.original_id is None else self._messages[inter.original_id]
        if (
            original is not None
            and original.flags & MESSAGE_FLAG_LOADING
            and inter.callback is not None
            and inter.callback.type == DEFERRED_CHANNEL_MESSAGE
        ):
            # The first followup after a "thinking" defer replaces the loading message.
            self._edit_message(original, body, call.files)
            inter.original_edits += 1
            m = original
        else:
            ch = self._channels[inter.channel_id]
            m = self._create_message(
                ch, body, call.files, flags=int(body.get("flags") or 0), interaction=inter
            )
            inter.followups.append(m.id)
        if _truthy(call.query.get("wait")):
            return _Reply(200, self._message_api(m))
        return _Reply(204)

    def _webhook_message(self, inter: _Interaction, message_id: str) -> _Message:
        if message_id == "@original":
            if inter.original_id is None:
                raise _unknown("Message", 10008)
            m = self._messages[inter.original_id]
        else:
            mid = _int_or(message_id)
            if mid not in inter.followups and mid != inter.original_id:
                raise _unknown("Message", 10008)
            m = self._messages[mid]
        if m.deleted:
            raise _unknown("Message", 10008)
        return m

    def _get_webhook_message(self, call: _Call) -> _Reply:
        inter = self._interaction_for_webhook(call)
        return _Reply(
            200, self._message_api(self._webhook_message(inter, call.params["message_id"]))
        )

    def _patch_webhook_message(self, call: _Call) -> _Reply:
        inter = self._interaction_for_webhook(call)
        m = self._webhook_message(inter, call.params["message_id"])
        body = _body_dict(call.body)
        _check_message_body(
            body, has_files=bool(call.files), allowed_flags=_CREATE_FLAGS, partial=True
        )
        if not m.flags & MESSAGE_FLAG_LOADING:
            self._check_edit_not_empty(m, body, call.files)
        self._edit_message(m, body, call.files)
        if m.id == inter.original_id:
            inter.original_edits += 1
        return _Reply(200, self._message_api(m))

    def _delete_webhook_message(self, call: _Call) -> _Reply:
        inter = self._interaction_for_webhook(call)
        self._delete_message(self._webhook_message(inter, call.params["message_id"]))
        return _Reply(204)

    # -- gateway: event fan-out -----------------------------------------------------------------

    def _emit(self, event: str, data: JSON, intent: int | None, guild_id: int | None) -> None:
        """Queue a dispatch for every session that should get it (thread-safe, FIFO)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closing
            loop.call_soon_threadsafe(self._deliver_all, event, data, intent, guild_id)

    def _emit_guild_create(self, guild_id: int) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def deliver() -> None:
            with self._lock:
                g = self._guilds[guild_id]
                for s in self._sessions.values():
                    if not s.invalid and s.wants_guild(guild_id) and s.intents & Intent.GUILDS:
                        self._deliver_to(s, "GUILD_CREATE", self._guild_api(g, intents=s.intents))

        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver)

    def _emit_role_update(self, g: _Guild, role: _Role) -> None:
        self._emit(
            "GUILD_ROLE_UPDATE", {"guild_id": str(g.id), "role": role.to_api()}, Intent.GUILDS, g.id
        )

    def _deliver_all(
        self, event: str, data: JSON, intent: int | None, guild_id: int | None
    ) -> None:
        with self._lock:
            for s in self._sessions.values():
                if s.invalid or not s.wants_guild(guild_id):
                    continue
                if intent is not None and not s.intents & intent:
                    continue
                self._deliver_to(s, event, data)

    def _deliver_to(self, session: _Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame: JSON = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.history.append(frame)
        if len(session.history) > HISTORY_LIMIT:
            del session.history[: len(session.history) - HISTORY_LIMIT]
        self._events.append(GatewayEvent(session.id, event, session.seq, data))
        if session.conn is not None:
            session.conn.send(frame)
        self._cond.notify_all()

    def disconnect_all(
        self, code: int = 4000, reason: str = "Unknown error.", *, resumable: bool = True
    ) -> None:
        """Close every gateway connection with `code`. Sessions stay resumable unless
        ``resumable=False`` (then RESUME gets INVALID_SESSION and the client identifies anew)."""
        loop = self._loop
        if loop is None:
            return
        with self._lock:
            if not resumable:
                for s in self._sessions.values():
                    s.invalid = True
            conns = list(self._conns)
        for conn in conns:
            loop.call_soon_threadsafe(self._close, conn, code, reason)

    def _close(self, conn: _Conn, code: int, reason: str) -> None:
        """Queue a close after what is already queued (on the server loop)."""
        if conn.closing:
            return
        conn.closing = True
        conn.send(_Close(code, reason))

    # -- gateway: connections -------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        query = dict(request.query)
        compression = "zlib-stream" if query.get("compress") == "zlib-stream" else None
        conn = _Conn(ws, compression)
        with self._lock:
            self._conns.add(conn)
            self.gateway_queries.append(query)
        writer = asyncio.create_task(self._gateway_writer(conn))
        try:
            if query.get("v") not in (None, str(API_VERSION)):
                self._close(conn, 4012, "Invalid API version.")
            elif query.get("encoding", "json") != "json":
                self._close(conn, 4002, "Error while decoding payload.")
            else:
                conn.send(
                    {
                        "op": 10,
                        "d": {"heartbeat_interval": self.heartbeat_interval},
                        "s": None,
                        "t": None,
                    }
                )
            await self._gateway_reader(conn)
        finally:
            await self._gateway_cleanup(conn, writer)
        return ws

    async def _gateway_writer(self, conn: _Conn) -> None:
        while True:
            item = await conn.outbox.get()
            if isinstance(item, _Close):
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=item.code, message=item.reason.encode())
                return
            if conn.ws.closed:
                return
            data = conn.encode(item)
            try:
                if isinstance(data, bytes):
                    await conn.ws.send_bytes(data)
                else:
                    await conn.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return

    async def _gateway_reader(self, conn: _Conn) -> None:
        interval = self.heartbeat_interval / 1000
        grace = 2 * interval + 1.0
        while True:
            if conn.closing:
                timeout = 5.0
            else:
                timeout = max(conn.last_heartbeat + grace - time.monotonic(), 0.001)
            try:
                msg = await conn.ws.receive(timeout=timeout)
            except TimeoutError:
                if conn.closing:
                    return
                with self._lock:
                    if conn.session is not None:
                        conn.session.invalid = True
                self._close(conn, 4009, "Session timed out.")
                continue
            if msg.type is WSMsgType.TEXT:
                self._on_gateway_message(conn, msg.data)
            elif msg.type is WSMsgType.BINARY:
                self._close(conn, 4002, "Error while decoding payload.")
            else:
                if msg.type is WSMsgType.CLOSE:
                    conn.client_close_code = msg.data
                return

    async def _gateway_cleanup(self, conn: _Conn, writer: asyncio.Task[None]) -> None:
        if not writer.done() and conn.closing:
            await asyncio.wait([writer], timeout=5)
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        if not conn.ws.closed:
            with contextlib.suppress(Exception):
                await conn.ws.close()
        with self._lock:
            self._conns.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if conn.client_close_code in (1000, 1001):
                    session.invalid = True  # a clean close ends the session
            self._cond.notify_all()

    def _on_gateway_message(self, conn: _Conn, raw: str) -> None:
        try:
            payload = json.loads(raw)
            op = payload["op"]
        except (ValueError, KeyError, TypeError):
            self._close(conn, 4002, "Error while decoding payload.")
            return
        data = payload.get("d")
        if op == 1:
            conn.last_heartbeat = time.monotonic()
            with self._lock:
                self._counts["heartbeats"] += 1
                if self.ack_heartbeats:
                    self._counts["heartbeat_acks"] += 1
                    conn.send({"op": 11, "d": None, "s": None, "t": None})
                self._cond.notify_all()
        elif op == 2:
            self._identify(conn, data)
        elif op == 6:
            self._resume(conn, data)
        elif conn.session is None:
            self._close(conn, 4003, "Not authenticated.")
        elif op in (3, 4):
            pass  # presence and voice state updates: accepted, ignored
        elif op == 8:
            self._request_members(conn, data)
        else:
            self._close(conn, 4001, "Unknown opcode.")

    def _identify(self, conn: _Conn, data: Any) -> None:
        if not isinstance(data, dict):
            self._close(conn, 4002, "Error while decoding payload.")
            return
        if conn.session is not None:
            self._close(conn, 4005, "Already authenticated.")
            return
        with self._lock:
            self._counts["identifies"] += 1
            record = copy.deepcopy(data)
            record["token"] = data.get("token") == self.token
            self._identify_payloads.append(record)
            self._cond.notify_all()
        if data.get("token") != self.token:
            self._close(conn, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if (
            not isinstance(intents, int)
            or isinstance(intents, bool)
            or intents < 0
            or intents & ~ALL_INTENTS
        ):
            self._close(conn, 4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            self._close(conn, 4014, "Disallowed intent(s).")
            return
        shard = data.get("shard") or [0, 1]
        if (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(x, int) for x in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            self._close(conn, 4010, "Invalid shard.")
            return
        with self._lock:
            session = _Session(uuid.uuid4().hex, intents, (shard[0], shard[1]), conn=conn)
            self._sessions[session.id] = session
            conn.session = session
            guilds = [
                g for g in self._guilds.values() if g.bot_present and session.wants_guild(g.id)
            ]
            ready: JSON = {
                "v": API_VERSION,
                "user": self._me_api(),
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.application_id), "flags": self._application_flags()},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "session_type": "normal",
            }
            if "shard" in data:
                ready["shard"] = list(shard)
            self._deliver_to(session, "READY", ready)
            for g in guilds:
                self._deliver_to(session, "GUILD_CREATE", self._guild_api(g, intents=intents))

    def _resume(self, conn: _Conn, data: Any) -> None:
        if not isinstance(data, dict):
            self._close(conn, 4002, "Error while decoding payload.")
            return
        if conn.session is not None:
            self._close(conn, 4005, "Already authenticated.")
            return
        if data.get("token") != self.token:
            self._close(conn, 4004, "Authentication failed.")
            return
        with self._lock:
            session = self._sessions.get(str(data.get("session_id")))
            seq = data.get("seq") or 0
            oldest = session.history[0]["s"] if session is not None and session.history else 1
            if session is None or session.invalid or not isinstance(seq, int) or seq < oldest - 1:
                conn.send({"op": 9, "d": False, "s": None, "t": None})
                return
            previous = session.conn
            if previous is not None and previous is not conn:
                previous.session = None
                self._close(previous, 4000, "Session resumed elsewhere.")
            session.conn = conn
            conn.session = session
            for frame in session.history:
                if frame["s"] > seq:
                    conn.send(frame)
            self._counts["resumes"] += 1
            self._deliver_to(session, "RESUMED", {"_trace": ["fake-discord"]})

    def _request_members(self, conn: _Conn, data: Any) -> None:
        if not isinstance(data, dict):
            self._close(conn, 4002, "Error while decoding payload.")
            return
        with self._lock:
            session = conn.session
            g = self._guilds.get(_int_or(data.get("guild_id")))
            if session is None or g is None:
                return
            wanted = {_int_or(u) for u in data.get("user_ids") or []}
            members = [
                self._member_api(m) for uid, m in g.members.items() if not wanted or uid in wanted
            ]
            chunk: JSON = {
                "guild_id": str(g.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            self._deliver_to(session, "GUILD_MEMBERS_CHUNK", chunk)


# =============================================================================================
# Module helpers
# =============================================================================================


def MISSING_ACCESS_ERROR() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def MISSING_PERMISSIONS_ERROR() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def _int_or(value: Any, default: int = -1) -> int:
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _body_dict(body: Any) -> JSON:
    if body is None:
        return {}
    if not isinstance(body, dict):
        errs = _FormErrors()
        errs.add((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        errs.raise_if_any()
    return body


def _check_choices(choices: Any) -> None:
    errs = _FormErrors()
    if not isinstance(choices, list):
        errs.add(("data", "choices"), "BASE_TYPE_ARRAY", "Must be an array.")
        errs.raise_if_any()
        return
    errs.max_len(("data", "choices"), choices, MAX_CHOICES)
    for i, choice in enumerate(choices):
        p: tuple[str | int, ...] = ("data", "choices", i)
        if not isinstance(choice, dict):
            errs.add(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        name = errs.string((*p, "name"), choice.get("name"), 100, required=True)
        if choice.get("name") is not None and not name:
            errs.add((*p, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        value = choice.get("value")
        if value is None:
            errs.add((*p, "value"), "BASE_TYPE_REQUIRED", "This field is required")
        elif isinstance(value, str):
            errs.max_len((*p, "value"), value, 100)
    errs.raise_if_any()


def _check_modal(data: JSON) -> None:
    errs = _FormErrors()
    errs.string(("data", "custom_id"), data.get("custom_id"), MAX_CUSTOM_ID, required=True)
    errs.string(("data", "title"), data.get("title"), 45, required=True)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= 5:
        errs.add(
            ("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    errs.raise_if_any()


def _check_command(
    errs: _FormErrors, p: tuple[str | int, ...], cmd: Any, seen: set[tuple[str, int]]
) -> None:
    if not isinstance(cmd, dict):
        errs.add(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    ctype = _int_or(cmd.get("type", 1))
    name = cmd.get("name")
    if not isinstance(name, str):
        name = ""
    valid = (
        bool(_COMMAND_NAME_RE.match(name)) and name == name.lower()
        if ctype == 1
        else 1 <= len(name) <= 32
    )
    if not valid:
        errs.add((*p, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    else:
        if (name, ctype) in seen:
            errs.add(
                (*p, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add((name, ctype))
    if ctype == 1:
        description = cmd.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            errs.add(
                (*p, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
    _check_command_options(errs, (*p, "options"), cmd.get("options") or [])


def _check_command_options(errs: _FormErrors, p: tuple[str | int, ...], options: Any) -> None:
    if not isinstance(options, list):
        errs.add(p, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    errs.max_len(p, options, 25)
    required_done = False
    for i, opt in enumerate(options):
        op = (*p, i)
        if not isinstance(opt, dict):
            errs.add(op, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        name = opt.get("name")
        if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name) or name != name.lower():
            errs.add((*op, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        description = opt.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            errs.add(
                (*op, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        choices = opt.get("choices")
        if choices is not None:
            errs.max_len((*op, "choices"), choices, MAX_CHOICES)
        if opt.get("type") in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP):
            _check_command_options(errs, (*op, "options"), opt.get("options") or [])
        elif opt.get("required"):
            if required_done:
                errs.add(
                    (*op, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            required_done = True


def _command_changed(before: JSON, after: JSON) -> bool:
    ignore = {"id", "version", "application_id"}
    return {k: v for k, v in before.items() if k not in ignore} != {
        k: v for k, v in after.items() if k not in ignore
    }


def _coerce_option(command: str, opt: JSON, value: Any) -> Any:
    name, otype = opt["name"], opt.get("type")
    if otype == OPTION_STRING:
        if not isinstance(value, str):
            raise ValueError(f"{command}: option {name!r} takes a string, got {value!r}")
        lo, hi = opt.get("min_length", 0), opt.get("max_length", 6000)
        if not lo <= len(value) <= hi:
            raise ValueError(f"{command}: option {name!r} must be {lo}..{hi} characters")
    elif otype == OPTION_INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{command}: option {name!r} takes an integer, got {value!r}")
    elif otype == OPTION_BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"{command}: option {name!r} takes a boolean, got {value!r}")
    elif otype == OPTION_NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{command}: option {name!r} takes a number, got {value!r}")
    else:
        raise ValueError(f"{command}: option type {otype} of {name!r} is not supported by the fake")
    if otype in (OPTION_INTEGER, OPTION_NUMBER):
        if "min_value" in opt and value < opt["min_value"]:
            raise ValueError(f"{command}: option {name!r} below {opt['min_value']}")
        if "max_value" in opt and value > opt["max_value"]:
            raise ValueError(f"{command}: option {name!r} above {opt['max_value']}")
    choices = opt.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"{command}: {value!r} is not a choice of {name!r}")
    return value


def _build_options(
    definitions: Sequence[JSON],
    path: Sequence[str],
    given: Mapping[str, Any],
    focused: str | None,
    command: str,
) -> list[JSON]:
    """The ``options`` array Discord's client sends for `given` values of a synced command."""
    if path:
        sub = next(
            (
                o
                for o in definitions
                if o["name"] == path[0]
                and o.get("type") in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
            ),
            None,
        )
        if sub is None:
            raise LookupError(f"{command}: no subcommand {path[0]!r}")
        inner = _build_options(sub.get("options") or [], path[1:], given, focused, command)
        out: JSON = {"name": sub["name"], "type": sub["type"]}
        if inner:
            out["options"] = inner
        return [out]
    if any(o.get("type") in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP) for o in definitions):
        raise LookupError(f"{command}: name a subcommand, e.g. '{command} <sub>'")
    known = {o["name"]: o for o in definitions}
    unknown = set(given) - set(known)
    if unknown:
        raise ValueError(f"{command}: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
    options: list[JSON] = []
    for opt in definitions:
        name = opt["name"]
        if name not in given:
            if opt.get("required") and focused is None:
                raise ValueError(f"{command}: required option {name!r} missing")
            continue
        if name == focused:
            options.append(
                {"name": name, "type": opt["type"], "value": str(given[name]), "focused": True}
            )
            continue
        value = _coerce_option(command, opt, given[name])
        options.append({"name": name, "type": opt["type"], "value": value})
    return options


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at `fake`, restoring both afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # discord.player imports audioop
        import discord.gateway
        import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
