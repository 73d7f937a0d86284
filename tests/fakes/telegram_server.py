"""A protocol-faithful fake of the Telegram Bot API on 127.0.0.1, for the real python-telegram-bot.

Point PTB at it; it appends the token itself, so requests arrive as ``POST /bot{token}/{method}``::

    @pytest.fixture
    def tg() -> Iterator[FakeTelegram]:
        with FakeTelegram() as server:          # background threads, random loopback port
            yield server

    async def test_start(tg: FakeTelegram) -> None:
        ada = tg.add_user("Ada", username="ada")
        app = (
            ApplicationBuilder()
            .token(tg.token)
            .base_url(tg.base_url)              # http://127.0.0.1:PORT/bot
            .base_file_url(tg.base_file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", on_start))
        async with app:
            await app.start()
            await app.updater.start_polling(timeout=10)   # real long polling against the fake
            tg.send_text(ada, ada, "/start")            # enqueue an Update (bot_command entity)
            [reply] = await tg.wait_for_messages_async(ada, 1, timeout=5)
            assert reply.text == "Welcome!" and reply.parse_mode == "HTML"
            await app.updater.stop()
            await app.stop()

What it implements, ported where possible from tdlib / telegram-bot-api (the server behind
api.telegram.org) so that error texts match the real ones:

* Envelope ``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code", "description",
  "parameters"}`` with the matching HTTP status; 401 for an unknown token, 404 for an unknown
  method or a malformed token. Method names are case-insensitive. Parameters are read from the
  query string and from form-encoded, multipart or JSON bodies (PTB 22 sends form-encoded fields,
  JSON-encoding non-string values such as ``reply_markup``).
* Methods: getMe, logOut, close, getUpdates (long polling with offset/limit/timeout/
  allowed_updates; a newer getUpdates terminates an older one with 409, as Telegram does),
  setWebhook, deleteWebhook, getWebhookInfo, sendMessage, editMessageText,
  editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendChatAction, setMyCommands,
  getMyCommands, deleteMyCommands, getChat, getChatMember, getChatAdministrators,
  getChatMemberCount, leaveChat, sendPhoto (an uploaded file only: at most 10 MB, width +
  height at most 10000, ratio at most 20, a caption of at most 1024 characters after entity
  parsing; logged in ``sent_photos``, not in ``sent_messages``).
* Formatting: ``parse_mode`` HTML (tdlib's parser: allowed tags, attributes, byte offsets in
  errors), MarkdownV2 and Markdown; text is trimmed like Telegram does, must stay non-empty and at
  most 4096 UTF-16 code units; url/mention/hashtag entities are detected like Telegram does for
  plain text; entities past the 100th are dropped silently (`FakeTelegram.max_entities`). With
  ``strict=True`` (the default) HTML also rejects a bare ``&`` or ``>``, which the documentation
  forbids but the real server tolerates.
* Reply markup: inline keyboards (button text, exactly one action, callback_data 1-64 bytes,
  URL checks, at most 100 buttons), reply keyboards, ReplyKeyboardRemove, ForceReply.
* Chats: private (blocked, never started, deactivated users), groups (kicked, left, restricted,
  migrated to a supergroup), supergroups, channels (the bot must be an admin allowed to post, and
  only an admin may list members: otherwise getChatMember answers "member list is
  inaccessible", even about the bot itself).
* PTB 22.8 note: under ``filterwarnings = error``, set ``PTB_TIMEDELTA=true`` in tests that meet
  a 429, or PTB's RetryAfter constructor raises its PTBDeprecationWarning instead.
* Latency (`FakeTelegram.latency`): a round-trip time added to every request, half before it is
  processed and half before the answer goes back (a message can be accepted while its answer
  is still on the way, as on a real network).
* Flood limits (`FloodLimits`): global, per chat, per group, answered with 429 and
  ``retry_after``. The clock is injectable (`ManualClock`).
* Scripted faults (`Fault`), queued per method with `FakeTelegram.inject`.

Test helpers (all thread-safe; see `FakeTelegram`): ``add_user``, ``add_group``,
``add_supergroup``, ``add_channel``, ``set_member``, ``block``/``unblock``, ``kick_bot``,
``migrate``, ``deactivate``; updates with ``send_text``, ``send_anonymous``, ``post_to_channel``,
``press_button``, ``enqueue_update``; logs ``sent_messages``, ``edits``, ``deleted``,
``callback_answers``, ``chat_actions``, ``command_calls``, ``requests``, ``counters``; waits
``wait_for_messages`` / ``wait_for_messages_async``, ``wait_until`` / ``wait_until_async``,
``wait_for_poll`` / ``wait_for_poll_async``.

Anything the fake itself gets wrong (an exception in a handler) is answered with HTTP 500 and
kept in `FakeTelegram.server_errors`, so a fixture can assert it stays empty.
"""

from __future__ import annotations

import asyncio
import enum
import io
import itertools
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Literal, Self
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "ANONYMOUS_ADMIN_ID",
    "DEFAULT_TOKEN",
    "BadEntities",
    "CallbackAnswer",
    "ChatActionRecord",
    "CommandsCall",
    "Counters",
    "EditRecord",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "Fault",
    "FaultKind",
    "FloodLimits",
    "ManualClock",
    "RecordedRequest",
    "SentMessage",
    "SentPhoto",
    "format_text",
]

JSON = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

DEFAULT_TOKEN: Final = "5829471036:AAHfakeTokenForPaperboyTests_x9Qm2Lk7"
#: The user Telegram shows as the sender of messages by anonymous group administrators.
ANONYMOUS_ADMIN_ID: Final = 1087968824
MAX_MESSAGE_LENGTH: Final = 4096  # UTF-16 code units, after entity parsing
MAX_CAPTION_LENGTH: Final = 1024  # media captions, likewise
MAX_PHOTO_BYTES: Final = 10_000_000  # sendPhoto uploads
MAX_TEXT_BYTES: Final = 1 << 15  # telegram-bot-api refuses longer raw text before parsing
MAX_ENTITIES: Final = 100  # Telegram silently drops entities past the 100th
MAX_BUTTONS: Final = 100
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
UPDATE_TYPES: Final = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
)
# Telegram's default when allowed_updates was never set: everything but these.
_NOT_DEFAULT_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

_TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{30,}$")


# =============================================================================================
# Text formatting: ports of tdlib's parse_html / parse_markdown_v2 / parse_markdown
# =============================================================================================


class BadEntities(ValueError):
    """A parse_mode error; `str()` is tdlib's message (Bot API prefixes "can't parse entities")."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and length limits."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_SPACE_BYTES = frozenset(b" \t\r\n\x00\x0b")  # tdlib's is_space() (NUL included: C strings)


def _is_space(c: int) -> bool:
    return c in _SPACE_BYTES


def _is_alnum(c: int) -> bool:
    return 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122


def _units(c: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte (0 for continuation bytes)."""
    if c & 0xC0 == 0x80:
        return 0
    return 2 if c >= 0xF0 else 1


@dataclass
class _Entity:
    type: str
    offset: int
    length: int
    extra: JSON = field(default_factory=dict)

    def to_api(self) -> JSON:
        return {"type": self.type, "offset": self.offset, "length": self.length, **self.extra}


# tdlib's MessageEntity::get_type_priority, for the sort order of returned entities
_PRIORITY: Final = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
    "expandable_blockquote": 0,
}


def _sort_entities(entities: list[_Entity]) -> None:
    def key(e: _Entity) -> tuple[int, int, int]:
        priority = _PRIORITY.get(e.type, 50)
        if e.type == "pre" and "language" in e.extra:
            priority = 10  # PreCode sorts before Pre
        return (e.offset, -e.length, priority)

    entities.sort(key=key)


def _check_link(url: str) -> str:
    """tdlib's LinkManager::check_link (http, https and tg links); returns the normalised URL.

    Raises ValueError with tdlib's reason.
    """
    lowered = url.lower()
    if lowered.startswith("tg:"):
        rest = url[3:].removeprefix("//")
        if rest.lower().startswith(("http://", "https://")):
            raise ValueError("Wrong tg URL")
        host = re.split(r"[/?#]", rest, maxsplit=1)[0]
        query = rest[len(host) :]
        if not host:
            raise ValueError("URL host is empty")
        if any(not (ch.isascii() and (ch.isalnum() or ch in "-_")) for ch in host):
            raise ValueError("Unallowed characters in URL host")
        if query.startswith("/?"):
            query = query[1:]
        return f"tg://{host}{query}"
    scheme, sep, rest = url.partition("://")
    if sep and not re.search(r"[/?#@\[\]]", scheme):
        if scheme.lower() not in ("http", "https"):
            raise ValueError("Unsupported URL protocol")
        protocol = scheme.lower()
    else:
        protocol, rest = "http", url
    m = re.match(r"[^/?#]*", rest)
    assert m is not None
    authority, query = m.group(0), rest[m.end() :]
    userinfo, _, hostport = authority.rpartition("@")
    host, port = hostport, ""
    pm = re.fullmatch(r"(.*):(\d*)", hostport)
    if pm and not hostport.endswith("]"):
        host, port = pm.group(1), pm.group(2)
        if not port or not 0 < int(port) <= 65535:
            raise ValueError("Wrong port number specified in the URL")
    if not host:
        raise ValueError("URL host is empty")
    if host == ".":
        raise ValueError("Host is invalid")
    is_ipv6 = host.startswith("[") and host.endswith("]")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-_!$,~*'();&+=")
    if not is_ipv6:
        for ch in host.lower():
            if ch not in allowed and ord(ch) < 128 and ch != "%":
                raise ValueError("Disallowed character in URL host")
        if "." not in host:
            raise ValueError("Wrong HTTP URL")
    query = query.rstrip(" \t\r\n")
    if not query:
        query = "/"
    if not query.startswith("/"):
        query = "/" + query
    query = "".join(f"%{ord(ch):02X}" if ord(ch) <= 0x20 else ch for ch in query)
    port_part = f":{int(port)}" if port else ""
    user_part = f"{userinfo}@" if userinfo else ""
    return f"{protocol}://{user_part}{host.lower()}{port_part}{query}"


def _checked_link(url: str) -> str | None:
    try:
        return _check_link(url)
    except ValueError:
        return None


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """tdlib's decode_html_entity: (code point, position after it) or None."""
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 48 <= at(end) <= 57:
                code = code * 10 + at(end) - 48
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while 65 <= at(end) <= 90 or 97 <= at(end) <= 122:
            end += 1
        name = data[pos + 1 : end]
        code = {b"lt": 60, b"gt": 62, b"amp": 38, b"quot": 34}.get(name, 0)
        if not code:
            return None
    if at(end) == ord(";"):
        end += 1
    return code, end


_HTML_TAGS: Final = frozenset(
    {
        *("a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins"),
        *("tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote"),
    }
)


def _decode_result(out: bytearray) -> str:
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise BadEntities(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        ) from None


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[_Entity]]:
    """tdlib's parse_html. With `strict`, a ``&`` or ``>`` that is not markup is an error too."""
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[_Entity] = []
    # (tag, argument, utf16 offset, byte position in `out`)
    stack: list[tuple[str, str, int, int]] = []
    i = 0
    while i < n:
        c = data[i]
        if c == 0x26:  # &
            decoded = _decode_html_entity(data, i)
            if decoded is not None and (not strict or data[decoded[1] - 1] == 0x3B):
                code, i = decoded
                utf16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8", "surrogatepass")
                continue
            if strict:
                raise BadEntities(f'Character "&" at byte offset {i} must be escaped as "&amp;"')
        if c != 0x3C:  # not <
            if strict and c == 0x3E:
                raise BadEntities(f'Character ">" at byte offset {i} must be escaped as "&gt;"')
            utf16 += _units(c)
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != 0x2F:  # a start tag
            while not _is_space(at(i)) and at(i) != 0x3E:
                i += 1
            if at(i) == 0:
                raise BadEntities(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise BadEntities(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != 0x3E:
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == 0x3E:
                    break
                attr_begin = i
                while not _is_space(at(i)) and at(i) not in b"=>/\"'":
                    i += 1
                attr = data[attr_begin:i]
                if not attr:
                    raise BadEntities(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) != 0x3D:  # no "=": an attribute without a value
                    if at(i) == 0:
                        raise BadEntities(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and attr == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) != 0 and _is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise BadEntities(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (0x22, 0x27):
                    token_begin = i
                    while _is_alnum(at(i)) or at(i) in (0x2E, 0x2D):
                        i += 1
                    value = data[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != 0x3E:
                        raise BadEntities(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    buf = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == 0x26:
                            decoded = _decode_html_entity(data, i)
                            if decoded is not None:
                                buf += chr(decoded[0]).encode("utf-8", "surrogatepass")
                                i = decoded[1]
                                continue
                        buf.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = bytes(buf)
                if at(i) == 0:
                    raise BadEntities(f"Unclosed start tag at byte offset {begin}")
                svalue = value.decode("utf-8", "replace")
                if tag == "a" and attr == b"href":
                    argument = svalue
                elif tag == "code" and attr == b"class" and svalue.startswith("language-"):
                    argument = svalue[9:]
                elif tag == "span" and attr == b"class" and svalue.startswith("tg-"):
                    argument = svalue[3:]
                elif (tag == "tg-emoji" and attr == b"emoji-id") or (
                    tag == "blockquote" and attr == b"expandable"
                ):
                    argument = svalue if tag == "tg-emoji" else "1"
            if tag == "span" and argument != "spoiler":
                raise BadEntities(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append((tag, argument, utf16, len(out)))
        else:  # an end tag
            if not stack:
                raise BadEntities(f"Unexpected end tag at byte offset {begin}")
            while not _is_space(at(i)) and at(i) != 0x3E:
                i += 1
            end_tag = data[begin + 2 : i].lower().decode("utf-8", "replace")
            while _is_space(at(i)) and at(i) != 0:
                i += 1
            if at(i) != 0x3E:
                raise BadEntities(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, out_pos = stack[-1]
            if end_tag and end_tag != tag:
                raise BadEntities(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{end_tag}>"'
                )
            if utf16 > offset:
                _close_html_entity(entities, tag, argument, offset, utf16 - offset, out, out_pos)
            stack.pop()
        i += 1  # the ">"
    if stack:
        raise BadEntities(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity.type == "code":
            entity.extra.pop("language", None)
    _sort_entities(entities)
    return _decode_result(out), entities


def _close_html_entity(
    entities: list[_Entity],
    tag: str,
    argument: str,
    offset: int,
    length: int,
    out: bytearray,
    out_pos: int,
) -> None:
    simple = {
        "i": "italic",
        "em": "italic",
        "b": "bold",
        "strong": "bold",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "u": "underline",
        "ins": "underline",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
    }
    last = entities[-1] if entities else None
    if tag in simple:
        entities.append(_Entity(simple[tag], offset, length))
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0 or int(argument) >= 1 << 63:
            raise BadEntities("Invalid custom emoji identifier specified")
        entities.append(_Entity("custom_emoji", offset, length, {"custom_emoji_id": argument}))
    elif tag == "a":
        url = argument or out[out_pos:].decode("utf-8", "replace")
        checked = _checked_link(url)
        if checked:  # tdlib silently drops links it can't use
            entities.append(_Entity("text_link", offset, length, {"url": checked}))
    elif tag == "pre":
        if (
            last is not None
            and last.type == "code"
            and (last.offset, last.length) == (offset, length)
            and last.extra.get("language")
        ):
            last.type = "pre"
        else:
            entities.append(_Entity("pre", offset, length))
    elif tag == "code":
        if (
            last is not None
            and last.type == "pre"
            and (last.offset, last.length) == (offset, length)
            and argument
        ):
            last.extra["language"] = argument
        else:
            extra = {"language": argument} if argument else {}
            entities.append(_Entity("code", offset, length, extra))
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append(_Entity(kind, offset, length))


_MD2_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


def parse_markdown_v2(text: str) -> tuple[str, list[_Entity]]:
    """tdlib's parse_markdown_v2 (custom emoji and tg://time links are not supported here)."""
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[_Entity] = []
    # [kind, argument, utf16 offset, byte offset in the source, byte position in `out`]
    stack: list[tuple[str, str, int, int, int]] = []
    have_blockquote = False
    can_start_blockquote = True

    def reserved(ch: int) -> BadEntities:
        return BadEntities(
            f"Character '{chr(ch)}' is reserved and must be escaped with the preceding '\\'"
        )

    def cant_find_end(kind: str, offset: int) -> BadEntities:
        return BadEntities(f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {offset}")

    i = 0
    while i < n:
        c = data[i]
        if c == 0x5C and 0 < at(i + 1) <= 126:  # backslash escape
            i += 1
            utf16 += 1
            out.append(data[i])
            if data[i] != 0x0D:
                can_start_blockquote = data[i] == 0x0A
            i += 1
            continue
        reserved_chars = b"_*[]()~`>#+-=|{}.!\n"
        if stack and stack[-1][0] in ("code", "pre", "pre_code"):
            reserved_chars = b"`"
        if c not in reserved_chars:
            u = _units(c)
            if u:
                utf16 += u
                if c != 0x0D:
                    can_start_blockquote = False
            out.append(c)
            i += 1
            continue
        is_end = False
        if stack:
            kind = stack[-1][0]
            if have_blockquote and c == 0x0A and (i + 1 == n or at(i + 1) != 0x3E):
                is_end = True
            else:
                is_end = {
                    "bold": c == 0x2A,
                    "italic": c == 0x5F and at(i + 1) != 0x5F,
                    "code": c == 0x60,
                    "pre": c == 0x60 and at(i + 1) == 0x60 and at(i + 2) == 0x60,
                    "pre_code": c == 0x60 and at(i + 1) == 0x60 and at(i + 2) == 0x60,
                    "text_link": c == 0x5D,
                    "underline": c == 0x5F and at(i + 1) == 0x5F,
                    "strikethrough": c == 0x7E,
                    "spoiler": c == 0x7C and at(i + 1) == 0x7C,
                    "blockquote": False,
                }[kind]
        if not is_end:
            argument = ""
            byte_offset = i
            if c == 0x5F:
                if at(i + 1) == 0x5F:
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == 0x2A:
                kind = "bold"
            elif c == 0x7E:
                kind = "strikethrough"
            elif c == 0x7C:
                if at(i + 1) != 0x7C:
                    raise reserved(c)
                i += 1
                kind = "spoiler"
            elif c == 0x5B:
                kind = "text_link"
            elif c == 0x60:
                if at(i + 1) == 0x60 and at(i + 2) == 0x60:
                    i += 3
                    kind = "pre"
                    lang_end = i
                    while not _is_space(at(lang_end)) and at(lang_end) != 0x60:
                        lang_end += 1
                    if i != lang_end and lang_end < n and at(lang_end) != 0x60:
                        kind = "pre_code"
                        argument = data[i:lang_end].decode("utf-8", "replace")
                        i = lang_end
                    if at(i) in (0x0A, 0x0D):  # one leading newline is dropped
                        if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif c == 0x21:
                raise reserved(c)  # "![...](tg://emoji?id=...)" is not supported by the fake
            elif c == 0x0A:
                utf16 += 1
                out.append(0x0A)
                can_start_blockquote = True
                i += 1
                continue
            elif c == 0x3E:
                if not can_start_blockquote:
                    raise reserved(c)
                if have_blockquote:
                    i += 1
                    continue
                kind = "blockquote"
                have_blockquote = True
            else:
                raise reserved(c)
            stack.append((kind, argument, utf16, byte_offset, len(out)))
            i += 1
            continue
        # the end of an entity
        kind, argument, offset, byte_offset, out_pos = stack[-1]
        if c == 0x0A and kind != "blockquote":
            if kind != "spoiler" or byte_offset not in (i - 2, i - 3):
                raise cant_find_end(kind, byte_offset)
            stack.pop()
            kind, argument, offset, byte_offset, out_pos = stack[-1]
            if kind != "blockquote":
                raise cant_find_end(kind, byte_offset)
            kind = "expandable_blockquote"
        skip = utf16 == offset
        extra: JSON = {}
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind == "text_link":
            if at(i + 1) != 0x28:
                url = out[out_pos:].decode("utf-8", "replace")
            else:
                i += 2
                url_begin = i
                buf = bytearray()
                while i < n and data[i] != 0x29:
                    if data[i] == 0x5C and 0 < at(i + 1) <= 126:
                        buf.append(data[i + 1])
                        i += 2
                        continue
                    buf.append(data[i])
                    i += 1
                if at(i) != 0x29:
                    raise BadEntities(f"Can't find end of a URL at byte offset {url_begin}")
                url = buf.decode("utf-8", "replace")
            checked = _checked_link(url)
            if checked is None:
                skip = True
            else:
                extra = {"url": checked}
        elif kind in ("blockquote", "expandable_blockquote"):
            have_blockquote = False
            out.append(data[i])
            can_start_blockquote = True
            utf16 += 1
            skip = False
        if not skip:
            api_type = "pre" if kind == "pre_code" else kind
            if kind == "pre_code":
                extra = {"language": argument}
            entities.append(_Entity(api_type, offset, utf16 - offset, extra))
        stack.pop()
        i += 1
    if have_blockquote:
        kind = "blockquote"
        if stack and stack[-1][0] == "spoiler" and stack[-1][3] == n - 2:
            stack.pop()
            kind = "expandable_blockquote"
        if stack and stack[-1][0] == "blockquote":
            offset = stack[-1][2]
            if utf16 != offset:
                entities.append(_Entity(kind, offset, utf16 - offset))
            stack.pop()
    if stack:
        raise cant_find_end(stack[-1][0], stack[-1][3])
    _sort_entities(entities)
    return _decode_result(out), entities


def parse_markdown(text: str) -> tuple[str, list[_Entity]]:
    """tdlib's parse_markdown: the legacy ``Markdown`` parse mode."""
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[_Entity] = []
    i = 0
    while i < n:
        c = data[i]
        if c == 0x5C and at(i + 1) in b"_*`[":
            out.append(data[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in b"_*`[":
            utf16 += _units(c)
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = 0x5D if c == 0x5B else c
        is_pre = False
        language = ""
        i += 1
        if c == 0x60 and at(i) == 0x60 and at(i + 1) == 0x60:
            i += 2
            is_pre = True
            lang_end = i
            while not _is_space(at(lang_end)) and at(lang_end) != 0x60:
                lang_end += 1
            if i != lang_end and lang_end < n and at(lang_end) != 0x60:
                language = data[i:lang_end].decode("utf-8", "replace")
                i = lang_end
            if at(i) in (0x0A, 0x0D):
                i += 2 if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1) else 1
        offset = utf16
        while i < n and (
            data[i] != end_char or (is_pre and not (at(i + 1) == 0x60 and at(i + 2) == 0x60))
        ):
            utf16 += _units(data[i])
            out.append(data[i])
            i += 1
        if i == n:
            raise BadEntities(f"Can't find end of the entity starting at byte offset {begin}")
        if offset != utf16:
            length = utf16 - offset
            if c == 0x5F:
                entities.append(_Entity("italic", offset, length))
            elif c == 0x2A:
                entities.append(_Entity("bold", offset, length))
            elif c == 0x5B:
                if at(i + 1) != 0x28:
                    url = data[begin + 1 : i].decode("utf-8", "replace")
                else:
                    i += 2
                    url_start = i
                    while i < n and data[i] != 0x29:
                        i += 1
                    url = data[url_start:i].decode("utf-8", "replace")
                checked = _checked_link(url)
                if checked:
                    entities.append(_Entity("text_link", offset, length, {"url": checked}))
            elif is_pre:
                extra = {"language": language} if language else {}
                entities.append(_Entity("pre", offset, length, extra))
            else:
                entities.append(_Entity("code", offset, length))
        if is_pre:
            i += 2
        i += 1
    return _decode_result(out), entities


_WHITESPACE: Final = frozenset(" \t\r\n\x0b\x0c")
_URL_RE = re.compile(r"(?<![\w@/.])(?:https?://|tg://)[^\s<>\"'`]+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")
_HASHTAG_RE = re.compile(r"(?<!\w)#\w*[^\W\d_]\w*(?![\w#])")
_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


def find_entities(text: str, *, bot_commands: bool = True) -> list[_Entity]:
    """Entities Telegram detects in plain text: url, mention, hashtag, bot_command (a subset)."""
    found: list[_Entity] = []
    patterns: list[tuple[str, re.Pattern[str]]] = [
        ("url", _URL_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
    ]
    if bot_commands:
        patterns.append(("bot_command", _COMMAND_RE))
    for kind, pattern in patterns:
        for m in pattern.finditer(text):
            value = m.group(0)
            if kind == "url":
                value = value.rstrip(".,;:!?)]}'\"")  # trailing punctuation is not part of it
            start = utf16_len(text[: m.start()])
            found.append(_Entity(kind, start, utf16_len(value)))
    _sort_entities(found)  # Telegram's order; PTB's CommandHandler only looks at entities[0]
    return found


def _merge_found(entities: list[_Entity], found: list[_Entity]) -> list[_Entity]:
    # Like tdlib's merge_new_entities: a detected entity never splits code, pre or a link.
    blocking = [e for e in entities if e.type in ("code", "pre", "text_link", "custom_emoji")]
    merged = list(entities)
    taken: list[_Entity] = []
    for new in found:
        end = new.offset + new.length
        if any(new.offset < b.offset + b.length and b.offset < end for b in blocking):
            continue
        if any(new.offset < t.offset + t.length and t.offset < end for t in taken):
            continue
        taken.append(new)
    merged.extend(taken)
    _sort_entities(merged)
    return merged


def _trim(text: str, entities: list[_Entity]) -> tuple[str, list[_Entity]]:
    """tdlib's fix_formatted_text trimming: rtrim whitespace, ltrim spaces/newlines."""
    stripped = text.rstrip("".join(_WHITESPACE))
    if not stripped:
        raise ApiError(400, "Bad Request: text must be non-empty")
    total = utf16_len(stripped)
    kept: list[_Entity] = []
    for e in entities:
        if e.offset >= total:
            continue
        if e.offset + e.length > total:
            e = replace(e, length=total - e.offset)
        kept.append(e)
    first_entity = min((e.offset for e in kept), default=total)
    lead = 0
    while lead < first_entity and stripped[lead] in " \n":
        lead += 1
    if lead:
        stripped = stripped[lead:]
        kept = [replace(e, offset=e.offset - lead) for e in kept]
    _sort_entities(kept)
    return stripped, kept


def format_text(
    text: str | None,
    parse_mode: str | None = None,
    entities: Sequence[Mapping[str, Any]] | None = None,
    *,
    strict: bool = True,
    bot_commands: bool = False,
    max_length: int | None = MAX_MESSAGE_LENGTH,
    max_entities: int = MAX_ENTITIES,
) -> tuple[str, list[JSON]]:
    """What Telegram stores for a message text: ``(visible text, entities)``.

    Raises `ApiError` with the Bot API's answer (`FakeTelegram` sends it as a 400).
    """
    plain, parsed = _parse_text(text, parse_mode, entities, strict=strict)
    return _finish_text(
        plain, parsed, bot_commands=bot_commands, max_length=max_length, max_entities=max_entities
    )


def _parse_text(
    text: str | None,
    parse_mode: str | None,
    entities: Sequence[Mapping[str, Any]] | None,
    *,
    strict: bool,
) -> tuple[str, list[_Entity]]:
    # telegram-bot-api's get_input_message_text: runs before the chat is even looked up.
    if not text:
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise ApiError(400, "Bad Request: text is too long")
    mode = (parse_mode or "").lower()
    try:
        if mode in ("", "none"):
            return text, [_entity_from_api(e) for e in entities or ()]
        if mode == "html":
            return parse_html(text, strict=strict)
        if mode == "markdownv2":
            return parse_markdown_v2(text)
        if mode == "markdown":
            return parse_markdown(text)
    except BadEntities as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    raise ApiError(400, "Bad Request: unsupported parse_mode")


def _finish_text(
    plain: str,
    parsed: list[_Entity],
    *,
    bot_commands: bool,
    max_length: int | None,
    max_entities: int = MAX_ENTITIES,
) -> tuple[str, list[JSON]]:
    # tdlib's part, once the chat is known: trimming, emptiness, length, detected entities.
    plain, parsed = _trim(plain, parsed)
    if max_length is not None and utf16_len(plain) > max_length:
        raise ApiError(400, "Bad Request: message is too long")
    merged = _merge_found(parsed, find_entities(plain, bot_commands=bot_commands))
    # Past the limit Telegram keeps the text but silently drops the formatting (no error).
    return plain, [e.to_api() for e in merged[:max_entities]]


def _entity_from_api(raw: Mapping[str, Any]) -> _Entity:
    if not isinstance(raw, Mapping):
        raise ApiError(400, "Bad Request: can't parse MessageEntity: expected an Object")
    try:
        offset, length, kind = int(raw["offset"]), int(raw["length"]), str(raw["type"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(
            400, 'Bad Request: can\'t parse MessageEntity: Field "type" must be of type String'
        ) from None
    extra = {k: v for k, v in raw.items() if k not in ("offset", "length", "type")}
    return _Entity(kind, offset, length, extra)


# =============================================================================================
# Public records
# =============================================================================================


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user (or bot). `to_api()` is the Bot API's User object."""

    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class FakeChat:
    """A chat. For private chats `id` is the user's id. `to_api()` is the Bot API's Chat."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, as it is now (after edits). Snapshots: re-read to see changes.

    `raw_text` is the ``text`` parameter exactly as the bot sent it; `text` and `entities` are
    what Telegram made of it (tags removed, entities decoded, trimmed). `api` is the Bot API
    Message object as getUpdates/sendMessage would return it.
    """

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    link_preview_options: JSON | None
    params: JSON
    sent_at: float  # the fake's clock
    date: int
    edit_count: int
    deleted: bool
    api: JSON

    @property
    def buttons(self) -> list[JSON]:
        """The inline keyboard's buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def entities_of(self, kind: str) -> list[JSON]:
        return [e for e in self.entities if e["type"] == kind]

    def entity_text(self, entity: Mapping[str, Any]) -> str:
        """The part of `text` an entity covers (offsets are UTF-16 code units)."""
        units = self.text.encode("utf-16-le", "surrogatepass")
        start, length = int(entity["offset"]) * 2, int(entity["length"]) * 2
        return units[start : start + length].decode("utf-16-le", "surrogatepass")


@dataclass(frozen=True)
class EditRecord:
    chat_id: int
    message_id: int
    method: str  # "editMessageText" or "editMessageReplyMarkup"
    text: str
    raw_text: str | None
    parse_mode: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    at: float


@dataclass(frozen=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    at: float


@dataclass(frozen=True)
class ChatActionRecord:
    chat_id: int
    action: str
    at: float


@dataclass(frozen=True)
class CommandsCall:
    """One setMyCommands / deleteMyCommands call (`commands` empty for a deletion)."""

    commands: list[JSON]
    scope: JSON
    language_code: str
    at: float


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request. `method` as sent (None if the path was not a method call).

    ``started``/``responded`` are `time.monotonic()` stamps; `status` is None when the
    connection was dropped by a fault.
    """

    method: str | None
    http_method: str
    path: str
    params: JSON
    status: int | None
    description: str | None
    started: float
    responded: float
    fault: FaultKind | None


@dataclass(frozen=True)
class SentPhoto:
    """A photo the bot sent (sendPhoto): the uploaded file and what Telegram made of the
    caption (`caption`, `caption_entities`; `raw_caption` as sent)."""

    chat_id: int
    message_id: int
    data: bytes
    filename: str | None
    width: int
    height: int
    caption: str
    raw_caption: str
    parse_mode: str | None
    caption_entities: list[JSON]
    reply_markup: JSON | None
    api: JSON


@dataclass(frozen=True)
class Counters:
    """A snapshot of the fake's counters."""

    requests: int
    sent: int  # messages created by sendMessage
    edited: int
    rejected: dict[int, int]  # HTTP status -> number of error answers (flood 429s included)
    flood_429: int  # 429s caused by the flood limits (not by injected faults)
    faults: int  # injected faults served


class ManualClock:
    """A clock for the flood limits that only moves when told to. Thread-safe."""

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
class FloodLimits:
    """Telegram's (undocumented) flood limits, as token buckets and a sliding window.

    * global: `global_burst` messages at once, refilled at `global_rate` per second (≈30/s);
    * per chat: `chat_burst` messages at once, refilled at `chat_rate` per second (≈1/s);
    * per group/supergroup: at most `group_limit` messages in any `group_window` seconds
      (≈20/min).

    Only calls to `methods` count (sendMessage by default; editMessageText and
    editMessageReplyMarkup can be added). A call over a limit gets 429 with ``retry_after`` = the
    whole seconds until it would pass (at least 1), and uses up nothing.
    """

    enabled: bool = True
    global_rate: float = 30.0
    global_burst: int = 30
    chat_rate: float = 1.0
    chat_burst: int = 3
    group_limit: int = 20
    group_window: float = 60.0
    methods: frozenset[str] = frozenset({"sendMessage"})

    def __post_init__(self) -> None:
        if min(self.global_rate, self.chat_rate, self.group_window) <= 0:
            raise ValueError("rates and windows must be positive")

    @classmethod
    def off(cls) -> FloodLimits:
        return cls(enabled=False)

    def counts(self, method: str) -> bool:
        return self.enabled and method.lower() in {m.lower() for m in self.methods}


class FaultKind(enum.Enum):
    HTTP = "http"  # a bare HTTP status with an HTML body (a proxy or load balancer answering)
    ERROR = "error"  # a Telegram error envelope with any code/description/parameters
    SLOW = "slow"  # answer only after `delay` seconds (processed first unless process=False)
    RESET = "reset"  # drop the connection without an answer (TCP RST)


@dataclass(frozen=True)
class Fault:
    """A misbehaviour served once, to the next call of the method it was injected for."""

    kind: FaultKind
    status: int = 500
    description: str | None = None
    parameters: JSON | None = None
    delay: float = 0.0
    process: bool = False

    @classmethod
    def http(cls, status: int = 502) -> Fault:
        """A non-JSON answer such as nginx's 502 page (PTB: NetworkError, or per status)."""
        return cls(FaultKind.HTTP, status=status)

    @classmethod
    def error(cls, status: int, description: str, *, parameters: JSON | None = None) -> Fault:
        """A Telegram error envelope, e.g. ``Fault.error(500, "Internal Server Error")``."""
        return cls(FaultKind.ERROR, status=status, description=description, parameters=parameters)

    @classmethod
    def server_error(cls) -> Fault:
        return cls.error(500, "Internal Server Error")

    @classmethod
    def flood(cls, retry_after: int = 1) -> Fault:
        return cls.error(
            429,
            f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
        )

    @classmethod
    def slow(cls, delay: float, *, process: bool = True) -> Fault:
        """Wait `delay` seconds before answering (longer than the client's timeout → TimedOut).

        With `process` (the default) the call takes effect at once and only the answer is late,
        like a request Telegram executed whose answer the client never saw: a message is
        delivered although the bot got TimedOut. Without it, the call takes effect only after
        the delay (even if the client has given up by then).
        """
        return cls(FaultKind.SLOW, delay=delay, process=process)

    @classmethod
    def reset(cls, *, process: bool = False) -> Fault:
        """Drop the connection (PTB: NetworkError). With `process`, after executing the call."""
        return cls(FaultKind.RESET, process=process)


# =============================================================================================
# Internal state
# =============================================================================================


class ApiError(Exception):
    """A Bot API error answer: HTTP `status`, ``description`` and optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class _Member:
    status: MemberStatus
    rights: JSON = field(default_factory=dict)


@dataclass
class _ChatState:
    chat: FakeChat
    members: dict[int, _Member] = field(default_factory=dict)
    migrated_to: int | None = None
    migrated_from: int | None = None
    next_message_id: int = 1


@dataclass
class _UserState:
    user: FakeUser
    started: bool = True
    blocked: bool = False
    deactivated: bool = False


@dataclass
class _StoredMessage:
    chat_id: int
    message_id: int
    api: JSON
    from_bot: bool
    raw_text: str | None = None
    parse_mode: str | None = None
    params: JSON = field(default_factory=dict)
    sent_at: float = 0.0
    edit_count: int = 0
    deleted: bool = False


@dataclass
class _Query:
    query_id: str
    answered: bool = False


@dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


_ADMIN_RIGHTS: Final = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
_GROUP_ADMIN_RIGHTS: Final = ("can_pin_messages", "can_manage_topics")
_CHANNEL_ADMIN_RIGHTS: Final = ("can_post_messages", "can_edit_messages")
_RESTRICTED_RIGHTS: Final = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
)
_MEMBER_OPTIONS: Final = frozenset(
    {
        *_ADMIN_RIGHTS,
        *_GROUP_ADMIN_RIGHTS,
        *_CHANNEL_ADMIN_RIGHTS,
        *_RESTRICTED_RIGHTS,
        "is_anonymous",
        "custom_title",
        "can_be_edited",
        "is_member",
        "until_date",
    }
)


def _member_api(user: FakeUser, member: _Member, chat: FakeChat) -> JSON:
    """The Bot API ChatMember object (every field PTB 22.8 requires)."""
    data: JSON = {"user": user.to_api(), "status": member.status}
    r = member.rights
    if member.status == "creator":
        data["is_anonymous"] = bool(r.get("is_anonymous", False))
        if r.get("custom_title"):
            data["custom_title"] = r["custom_title"]
    elif member.status == "administrator":
        data["can_be_edited"] = bool(r.get("can_be_edited", False))
        data["is_anonymous"] = bool(r.get("is_anonymous", False))
        for right in _ADMIN_RIGHTS:
            data[right] = bool(r.get(right, right != "can_promote_members"))
        if chat.type == "channel":
            for right in _CHANNEL_ADMIN_RIGHTS:
                data[right] = bool(r.get(right, True))
        else:
            data["can_pin_messages"] = bool(r.get("can_pin_messages", True))
            if chat.type == "supergroup":
                data["can_manage_topics"] = bool(r.get("can_manage_topics", False))
        if r.get("custom_title"):
            data["custom_title"] = r["custom_title"]
    elif member.status == "restricted":
        data["is_member"] = bool(r.get("is_member", True))
        data["until_date"] = int(r.get("until_date", 0))
        for right in _RESTRICTED_RIGHTS:
            data[right] = bool(r.get(right, True))
    elif member.status == "kicked":
        data["until_date"] = int(r.get("until_date", 0))
    return data


def _is_present(member: _Member | None) -> bool:
    if member is None:
        return False
    if member.status == "restricted":
        return bool(member.rights.get("is_member", True))
    return member.status in ("creator", "administrator", "member")


# =============================================================================================
# HTTP plumbing
# =============================================================================================


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined on close, so no handler outlives the fake
    block_on_close = True
    fake: FakeTelegram

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that timed out or was cancelled (long polling!) and hung up is normal here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # One request per connection: a cancelled long poll cannot leave a kept-alive socket behind,
    # and stop() never has to wait for idle connections.
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


def _peer_gone(handler: _Handler) -> bool:
    """Whether the client closed its end (a peek at the socket reads EOF)."""
    sock = handler.connection
    try:
        sock.setblocking(False)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            sock.setblocking(True)
    except BlockingIOError:
        return False
    except OSError:
        return True


def _read_body(handler: _Handler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def _image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an uploaded image, as Telegram's servers decode it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None


def _parse_params(query: str, content_type: str, body: bytes) -> tuple[JSON, dict[str, _Upload]]:
    params: JSON = dict(parse_qsl(query, keep_blank_values=True))
    uploads: dict[str, _Upload] = {}
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return params, uploads
    if ctype == "application/json":
        decoded = json.loads(body.decode("utf-8"))
        if not isinstance(decoded, dict):
            raise ApiError(400, "Bad Request: JSON object expected")
        params.update(decoded)
    elif ctype == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                uploads[name] = _Upload(filename, part.get_content_type(), data)
            else:
                params[name] = data.decode("utf-8")
    else:  # application/x-www-form-urlencoded, or no type at all
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return params, uploads


# -- parameter decoding: form fields are strings, JSON bodies are typed -------------------------


def _p_str(params: JSON, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _p_int(params: JSON, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return 0  # telegram-bot-api's to_integer() reads garbage as 0


def _p_bool(params: JSON, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("true", "1")


def _p_json(params: JSON, name: str, what: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {what} JSON object") from None
    return value


# =============================================================================================
# The fake
# =============================================================================================

_Handler_t = Callable[[JSON, dict[str, _Upload]], Any]


class FakeTelegram:
    """The Telegram Bot API on a random loopback port. Start with ``with`` or `start()`/`stop()`.

    Args:
        token: the bot token PTB must use; its number is the bot's user id.
        bot_username / bot_first_name: the bot's User (getMe).
        flood: the flood limits (`FloodLimits.off()` to disable).
        clock: the clock of the flood limits and of the ``*_at`` stamps (`ManualClock` to drive
            it by hand); dates in messages use `wall_clock`.
        strict: reject a bare ``&``/``>`` in HTML and inline buttons with several actions (the
            documentation forbids both; api.telegram.org tolerates them).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "paperboy_test_bot",
        bot_first_name: str = "Paperboy",
        flood: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        strict: bool = True,
    ) -> None:
        m = _TOKEN_RE.match(token)
        if not m:
            raise ValueError(f"not a well-formed bot token: {token!r}")
        self.token = token
        self.clock = clock
        self.wall_clock = wall_clock
        self.strict = strict
        self.flood = flood if flood is not None else FloodLimits()
        #: Network round-trip time added to every request (half each way), in seconds.
        self.latency = 0.0
        #: Entities kept per message; Telegram drops the rest silently.
        self.max_entities = MAX_ENTITIES
        self.bot = FakeUser(int(m.group(1)), bot_first_name, is_bot=True, username=bot_username)
        self.anonymous_admin = FakeUser(
            ANONYMOUS_ADMIN_ID, "Group", is_bot=True, username="GroupAnonymousBot"
        )
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._users: dict[int, _UserState] = {}
        self._chats: dict[int, _ChatState] = {}
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._sent_order: list[tuple[int, int]] = []
        self._updates: list[tuple[int, str, JSON]] = []  # (update_id, type, update)
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._pollers = 0
        self._webhook_url = ""
        self._queries: dict[str, _Query] = {}
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._ids = itertools.count(1)
        self._faults: dict[str, list[Fault]] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}

        self._requests: list[RecordedRequest] = []
        self._edits: list[EditRecord] = []
        self._photos: list[SentPhoto] = []
        self._answers: list[CallbackAnswer] = []
        self._actions: list[ChatActionRecord] = []
        self._command_calls: list[CommandsCall] = []
        self._rejected: Counter[int] = Counter()
        self._sent = 0
        self._edited = 0
        self._flood_429 = 0
        self._faults_served = 0
        #: Exceptions raised inside the fake's own handlers (answered with 500): fake bugs.
        self.server_errors: list[str] = []

        self._global_bucket: tuple[float, float] | None = None  # (tokens, at)
        self._chat_buckets: dict[int, tuple[float, float]] = {}
        self._group_windows: dict[int, list[float]] = {}

        self._methods: dict[str, _Handler_t] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "getchatmembercount": self._get_chat_member_count,
            "leavechat": self._leave_chat,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeTelegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()  # wakes long polls: they answer [] and finish
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads (block_on_close)
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)`` (token appended)."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    @property
    def bot_id(self) -> int:
        return self.bot.id

    # -- users and chats ----------------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "Ada",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
        started: bool = True,
        is_bot: bool = False,
    ) -> FakeUser:
        """A user and their private chat with the bot (chat id = user id).

        `started=False`: the user never opened the bot, so sending to them gives 403 "bot can't
        initiate conversation with a user" until they message it (`send_text`).
        """
        with self._lock:
            uid = user_id if user_id is not None else 200_000_000 + next(self._ids)
            user = FakeUser(uid, first_name, is_bot, last_name, username, language_code)
            self._register_user(user, started=started)
            return user

    def add_group(
        self,
        title: str = "Paper club",
        *,
        members: Iterable[FakeUser] = (),
        admins: Iterable[FakeUser] = (),
        creator: FakeUser | None = None,
        bot_status: MemberStatus = "member",
        bot_rights: Mapping[str, Any] | None = None,
        chat_id: int | None = None,
    ) -> FakeChat:
        """A basic group (negative id). The bot is a `bot_status` member."""
        cid = chat_id if chat_id is not None else -(4_000_000_000 + next(self._ids))
        return self._add_chat(
            FakeChat(cid, "group", title=title),
            members,
            admins,
            creator,
            bot_status,
            bot_rights,
        )

    def add_supergroup(
        self,
        title: str = "Paper club",
        *,
        username: str | None = None,
        members: Iterable[FakeUser] = (),
        admins: Iterable[FakeUser] = (),
        creator: FakeUser | None = None,
        bot_status: MemberStatus = "member",
        bot_rights: Mapping[str, Any] | None = None,
        chat_id: int | None = None,
    ) -> FakeChat:
        """A supergroup (id -100…); public when it has a `username`."""
        cid = chat_id if chat_id is not None else -(1_001_000_000_000 + next(self._ids))
        return self._add_chat(
            FakeChat(cid, "supergroup", title=title, username=username),
            members,
            admins,
            creator,
            bot_status,
            bot_rights,
        )

    def add_channel(
        self,
        title: str = "Paper feed",
        *,
        username: str | None = None,
        creator: FakeUser | None = None,
        admins: Iterable[FakeUser] = (),
        subscribers: Iterable[FakeUser] = (),
        bot_status: MemberStatus = "administrator",
        bot_rights: Mapping[str, Any] | None = None,
        chat_id: int | None = None,
    ) -> FakeChat:
        """A channel. By default the bot is an administrator allowed to post."""
        cid = chat_id if chat_id is not None else -(1_002_000_000_000 + next(self._ids))
        return self._add_chat(
            FakeChat(cid, "channel", title=title, username=username),
            subscribers,
            admins,
            creator,
            bot_status,
            bot_rights,
        )

    def _add_chat(
        self,
        chat: FakeChat,
        members: Iterable[FakeUser],
        admins: Iterable[FakeUser],
        creator: FakeUser | None,
        bot_status: MemberStatus,
        bot_rights: Mapping[str, Any] | None,
    ) -> FakeChat:
        with self._lock:
            if chat.id in self._chats:
                raise ValueError(f"chat {chat.id} exists already")
            state = _ChatState(chat)
            self._chats[chat.id] = state
            for user in [*members, *admins, *([creator] if creator else [])]:
                self._ensure_user(user)
            for user in members:
                state.members[user.id] = _Member("member")
            for user in admins:
                state.members[user.id] = _Member("administrator")
            if creator is not None:
                state.members[creator.id] = _Member("creator")
            self.set_member(chat, self.bot, bot_status, notify=False, **(bot_rights or {}))
            return chat

    def _ensure_user(self, user: FakeUser) -> None:
        # A user the bot meets in a group: their private chat exists but was never started.
        if user.id not in self._users and user.id not in (self.bot.id, ANONYMOUS_ADMIN_ID):
            self._register_user(user, started=False)

    def _register_user(self, user: FakeUser, *, started: bool) -> None:
        self._users[user.id] = _UserState(user, started=started)
        chat = FakeChat(user.id, "private", None, user.username, user.first_name, user.last_name)
        state = _ChatState(chat)
        state.members[user.id] = _Member("member")
        state.members[self.bot.id] = _Member("member")
        self._chats[user.id] = state

    def chat(self, chat: FakeChat | int) -> FakeChat:
        with self._lock:
            return self._chat_state(chat).chat

    def user(self, user_id: int) -> FakeUser:
        with self._lock:
            return self._users[user_id].user

    def set_member(
        self,
        chat: FakeChat | int,
        user: FakeUser | int,
        status: MemberStatus,
        *,
        notify: bool = True,
        **rights: Any,
    ) -> None:
        """Set a member's status; `rights` are ChatMember fields (``can_post_messages=False``,
        ``can_send_messages=False`` for a restricted member, ``custom_title=...``).

        For the bot itself, `notify` enqueues the my_chat_member update Telegram would send.
        """
        if status not in ("creator", "administrator", "member", "restricted", "left", "kicked"):
            raise ValueError(f"unknown status {status!r}")
        unknown = set(rights) - _MEMBER_OPTIONS
        if unknown:
            raise ValueError(f"unknown ChatMember fields: {sorted(unknown)}")
        with self._lock:
            state = self._chat_state(chat)
            uid = user if isinstance(user, int) else user.id
            if isinstance(user, FakeUser):
                self._ensure_user(user)
            old = state.members.get(uid)
            new = _Member(status, dict(rights))
            state.members[uid] = new
            if notify and uid == self.bot.id and state.chat.type != "private":
                actor = self._some_admin(state)
                self._enqueue_my_chat_member(state.chat, actor, old, new)

    def block(self, user: FakeUser | FakeChat | int, *, notify: bool = True) -> None:
        """The user blocks the bot: sending to them gives 403 "bot was blocked by the user"."""
        self._set_blocked(user, True, notify)

    def unblock(self, user: FakeUser | FakeChat | int, *, notify: bool = True) -> None:
        self._set_blocked(user, False, notify)

    def _set_blocked(self, user: FakeUser | FakeChat | int, blocked: bool, notify: bool) -> None:
        with self._lock:
            uid = user if isinstance(user, int) else user.id
            state = self._users[uid]
            if state.blocked == blocked:
                return
            state.blocked = blocked
            if notify:
                old = _Member("kicked" if not blocked else "member")
                new = _Member("kicked" if blocked else "member")
                self._enqueue_my_chat_member(self._chats[uid].chat, state.user, old, new)

    def deactivate(self, user: FakeUser | int) -> None:
        """The account is deleted: sending gives 403 "user is deactivated"."""
        with self._lock:
            self._users[user if isinstance(user, int) else user.id].deactivated = True

    def kick_bot(self, chat: FakeChat | int, *, notify: bool = True) -> None:
        """The bot is removed (banned) from a group, supergroup or channel."""
        if self.chat(chat).type == "private":
            raise ValueError("users don't kick bots from private chats: use block()")
        self.set_member(chat, self.bot, "kicked", notify=notify)

    def migrate(
        self, group: FakeChat | int, new_id: int | None = None, *, notify: bool = True
    ) -> FakeChat:
        """Upgrade a basic group to a supergroup; the old id then answers 400 with
        ``migrate_to_chat_id``. Members are copied. With `notify`, the service messages
        (migrate_to_chat_id / migrate_from_chat_id) are enqueued as Telegram does."""
        with self._lock:
            old = self._chat_state(group)
            if old.chat.type != "group":
                raise ValueError("only basic groups migrate")
            cid = new_id if new_id is not None else -(1_001_000_000_000 + next(self._ids))
            chat = FakeChat(cid, "supergroup", title=old.chat.title)
            state = _ChatState(chat, members=dict(old.members), migrated_from=old.chat.id)
            self._chats[cid] = state
            old.migrated_to = cid
            if notify:
                actor = self._some_admin(old)
                self._enqueue_message(
                    old, actor, {"migrate_to_chat_id": cid}, update_type="message"
                )
                self._enqueue_message(
                    state,
                    actor,
                    {"migrate_from_chat_id": old.chat.id},
                    update_type="message",
                    sender_chat=old.chat,
                )
            return chat

    def _some_admin(self, state: _ChatState) -> FakeUser:
        for uid, member in state.members.items():
            if member.status in ("creator", "administrator") and uid in self._users:
                return self._users[uid].user
        return next(
            (self._users[u].user for u in state.members if u in self._users),
            self.anonymous_admin,
        )

    # -- updates --------------------------------------------------------------------------------

    def enqueue_update(self, update: Mapping[str, Any]) -> int:
        """Enqueue a raw Update (without ``update_id``); returns its update_id."""
        kinds = [k for k in update if k != "update_id"]
        if len(kinds) != 1 or kinds[0] not in UPDATE_TYPES:
            raise ValueError(f"an Update has exactly one of {UPDATE_TYPES}, got {kinds}")
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            self._updates.append((update_id, kinds[0], {"update_id": update_id, **update}))
            self._cond.notify_all()
            return update_id

    def send_text(
        self,
        chat: FakeChat | FakeUser | int,
        user: FakeUser | int | None = None,
        text: str = "",
        *,
        entities: Sequence[Mapping[str, Any]] | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> JSON:
        """A user writes `text` in `chat`; enqueues the Update and returns the Message.

        A leading ``/command`` or ``/command@bot`` (and any other command, URL, @mention or
        #hashtag) is marked with entities, as clients do. In a private chat `user` defaults to
        its owner, and writing un-blocks and "starts" the bot. ``user=fake.anonymous_admin``
        (or `send_anonymous`) writes as the group's anonymous admin; in a channel this is a
        channel post.
        """
        with self._lock:
            state = self._chat_state(chat)
            if state.chat.type == "channel":
                return self.post_to_channel(state.chat, text)
            if user is None:
                if state.chat.type != "private":
                    raise ValueError("who writes? pass a user for group chats")
                user = state.chat.id
            sender = self._users[user].user if isinstance(user, int) else user
            if sender.id == ANONYMOUS_ADMIN_ID:
                return self._send_anonymous(state, text, entities, reply_to)
            self._ensure_user(sender)
            if state.chat.type == "private":
                if sender.id != state.chat.id:
                    raise ValueError(f"user {sender.id} can't write in {state.chat.id}'s chat")
                ustate = self._users[state.chat.id]
                # "Restart bot" in a client: un-blocking comes first (a my_chat_member update).
                self._set_blocked(sender, False, notify=True)
                ustate.started = True
            elif not _is_present(state.members.get(sender.id)):
                state.members[sender.id] = _Member("member")  # only members can write
            fields = self._incoming_text(text, entities)
            if reply_to is not None:
                fields["reply_to_message"] = self._reply_target(state, reply_to)
            return self._enqueue_message(state, sender, fields, update_type="message")

    def send_anonymous(
        self,
        group: FakeChat | int,
        text: str,
        *,
        entities: Sequence[Mapping[str, Any]] | None = None,
    ) -> JSON:
        """An anonymous administrator writes in a group: ``from`` is GroupAnonymousBot
        (1087968824) and ``sender_chat`` the group itself."""
        with self._lock:
            return self._send_anonymous(self._chat_state(group), text, entities, None)

    def _send_anonymous(
        self,
        state: _ChatState,
        text: str,
        entities: Sequence[Mapping[str, Any]] | None,
        reply_to: SentMessage | int | None,
    ) -> JSON:
        if not state.chat.is_group:
            raise ValueError("anonymous admins exist in groups and supergroups only")
        fields = self._incoming_text(text, entities)
        if reply_to is not None:
            fields["reply_to_message"] = self._reply_target(state, reply_to)
        return self._enqueue_message(
            state,
            self.anonymous_admin,
            fields,
            update_type="message",
            sender_chat=state.chat,
        )

    def post_to_channel(self, channel: FakeChat | int, text: str) -> JSON:
        """A channel post by one of its admins (a ``channel_post`` update, no ``from``)."""
        with self._lock:
            state = self._chat_state(channel)
            if state.chat.type != "channel":
                raise ValueError("not a channel")
            fields = self._incoming_text(text, None)
            return self._enqueue_message(
                state, None, fields, update_type="channel_post", sender_chat=state.chat
            )

    def press_button(
        self,
        message: SentMessage | JSON | tuple[int, int],
        user: FakeUser | int,
        callback_data: str,
        *,
        check: bool = True,
    ) -> str:
        """`user` presses the inline button carrying `callback_data` under `message`; enqueues
        the callback_query Update (with the message as it is now) and returns the query id.

        `check` insists the message exists, was not deleted and has such a button.
        """
        with self._lock:
            if isinstance(message, SentMessage):
                key = (message.chat_id, message.message_id)
            elif isinstance(message, tuple):
                key = message
            else:
                key = (int(message["chat"]["id"]), int(message["message_id"]))
            stored = self._messages.get(key)
            if check:
                if stored is None or stored.deleted:
                    raise ValueError(f"no message {key[1]} in chat {key[0]}")
                keyboard = (stored.api.get("reply_markup") or {}).get("inline_keyboard") or []
                data = [b.get("callback_data") for row in keyboard for b in row]
                if callback_data not in data:
                    raise ValueError(f"message {key[1]} has no button {callback_data!r}: {data}")
            sender = self._users[user].user if isinstance(user, int) else user
            self._ensure_user(sender)
            query_id = str(next(self._query_ids))
            self._queries[query_id] = _Query(query_id)
            query: JSON = {
                "id": query_id,
                "from": sender.to_api(),
                "chat_instance": str(abs(key[0]) * 7919 % 10**18 + 1_000_000_000_000),
                "data": callback_data,
            }
            if stored is not None:
                query["message"] = json.loads(json.dumps(stored.api))
            self.enqueue_update({"callback_query": query})
            return query_id

    @staticmethod
    def _incoming_text(text: str, entities: Sequence[Mapping[str, Any]] | None) -> JSON:
        if not text:
            raise ValueError("empty text")
        found = (
            [e.to_api() for e in find_entities(text)]
            if entities is None
            else [dict(e) for e in entities]
        )
        return {"text": text, "entities": found} if found else {"text": text}

    def _reply_target(self, state: _ChatState, reply_to: SentMessage | int) -> JSON:
        mid = reply_to if isinstance(reply_to, int) else reply_to.message_id
        stored = self._messages.get((state.chat.id, mid))
        if stored is None:
            raise ValueError(f"no message {mid} in chat {state.chat.id}")
        return json.loads(json.dumps(stored.api))

    def _enqueue_message(
        self,
        state: _ChatState,
        sender: FakeUser | None,
        fields: JSON,
        *,
        update_type: str,
        sender_chat: FakeChat | None = None,
    ) -> JSON:
        mid = state.next_message_id
        state.next_message_id += 1
        api: JSON = {"message_id": mid}
        if sender is not None:
            api["from"] = sender.to_api()
        if sender_chat is not None:
            api["sender_chat"] = sender_chat.to_api()
        api["chat"] = state.chat.to_api()
        api["date"] = int(self.wall_clock())
        api.update(fields)
        self._messages[(state.chat.id, mid)] = _StoredMessage(
            state.chat.id, mid, api, from_bot=False, sent_at=self.clock()
        )
        self.enqueue_update({update_type: api})
        return api

    def _enqueue_my_chat_member(
        self, chat: FakeChat, actor: FakeUser, old: _Member | None, new: _Member
    ) -> None:
        self.enqueue_update(
            {
                "my_chat_member": {
                    "chat": chat.to_api(),
                    "from": actor.to_api(),
                    "date": int(self.wall_clock()),
                    "old_chat_member": _member_api(self.bot, old or _Member("left"), chat),
                    "new_chat_member": _member_api(self.bot, new, chat),
                }
            }
        )

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return [u for _, _, u in self._updates]

    # -- faults ---------------------------------------------------------------------------------

    def inject(self, method: str, *faults: Fault) -> None:
        """Queue faults for the next calls of `method` (case-insensitive), served in order."""
        with self._lock:
            self._faults.setdefault(method.lower(), []).extend(faults)

    def pending_faults(self, method: str | None = None) -> list[Fault]:
        with self._lock:
            if method is not None:
                return list(self._faults.get(method.lower(), []))
            return [f for queue in self._faults.values() for f in queue]

    def reset_flood_limits(self) -> None:
        """Forget all flood history (as if a long time had passed)."""
        with self._lock:
            self._global_bucket = None
            self._chat_buckets.clear()
            self._group_windows.clear()

    # -- logs -----------------------------------------------------------------------------------

    def sent_messages(self, chat: FakeChat | FakeUser | int | None = None) -> list[SentMessage]:
        """Messages the bot sent (sendMessage), in order; in one chat when `chat` is given."""
        with self._lock:
            cid = None if chat is None else self._chat_id(chat)
            return [
                self._snapshot(self._messages[key])
                for key in self._sent_order
                if cid is None or key[0] == cid
            ]

    def sent_photos(self, chat: FakeChat | FakeUser | int | None = None) -> list[SentPhoto]:
        """Photos the bot sent (sendPhoto), in order; in one chat when `chat` is given."""
        with self._lock:
            cid = None if chat is None else self._chat_id(chat)
            return [p for p in self._photos if cid is None or p.chat_id == cid]

    def message(self, chat: FakeChat | FakeUser | int, message_id: int) -> JSON | None:
        """The current Message object of any message (the bot's or a user's), or None."""
        with self._lock:
            stored = self._messages.get((self._chat_id(chat), message_id))
            return None if stored is None else json.loads(json.dumps(stored.api))

    def edits(self, chat: FakeChat | FakeUser | int | None = None) -> list[EditRecord]:
        with self._lock:
            cid = None if chat is None else self._chat_id(chat)
            return [e for e in self._edits if cid is None or e.chat_id == cid]

    def deleted(self, chat: FakeChat | FakeUser | int | None = None) -> list[tuple[int, int]]:
        """(chat_id, message_id) of messages deleted through deleteMessage."""
        with self._lock:
            cid = None if chat is None else self._chat_id(chat)
            return [
                key
                for key, m in self._messages.items()
                if m.deleted and (cid is None or key[0] == cid)
            ]

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        with self._lock:
            return list(self._answers)

    def chat_actions(self, chat: FakeChat | FakeUser | int | None = None) -> list[ChatActionRecord]:
        with self._lock:
            cid = None if chat is None else self._chat_id(chat)
            return [a for a in self._actions if cid is None or a.chat_id == cid]

    @property
    def command_calls(self) -> list[CommandsCall]:
        with self._lock:
            return list(self._command_calls)

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSON]:
        """The commands stored for a scope (default: ``{"type": "default"}``) and language."""
        with self._lock:
            key = (_scope_key(dict(scope or {"type": "default"})), language_code)
            return [dict(c) for c in self._commands.get(key, [])]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def calls(self, method: str) -> list[RecordedRequest]:
        """Requests to one API method (case-insensitive)."""
        wanted = method.lower()
        return [r for r in self.requests if r.method and r.method.lower() == wanted]

    @property
    def counters(self) -> Counters:
        with self._lock:
            return Counters(
                requests=len(self._requests),
                sent=self._sent,
                edited=self._edited,
                rejected=dict(self._rejected),
                flood_429=self._flood_429,
                faults=self._faults_served,
            )

    # -- waiting --------------------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until `predicate()` (evaluated under the fake's lock) holds. Not from the event
        loop the bot runs on: it would stall the bot; use `wait_until_async` there."""
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
        interval: float = 0.01,
    ) -> None:
        """`wait_until` for coroutines: checks every `interval` seconds with asyncio.sleep."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if predicate():
                    return
                summary = self._summary()
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s; {summary}")
            await asyncio.sleep(interval)

    def wait_for_messages(
        self, chat: FakeChat | FakeUser | int, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Block until the bot has sent at least `count` messages to `chat`; returns them all."""
        cid = self._chat_id(chat)
        try:
            self.wait_until(lambda: self._count_sent(cid) >= count, timeout)
        except TimeoutError:
            raise TimeoutError(self._missing(cid, count, timeout)) from None
        return self.sent_messages(cid)

    async def wait_for_messages_async(
        self,
        chat: FakeChat | FakeUser | int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline that fails with a diagnosis
    ) -> list[SentMessage]:
        """Like `wait_for_messages`, without blocking the event loop."""
        cid = self._chat_id(chat)
        try:
            await self.wait_until_async(lambda: self._count_sent(cid) >= count, timeout)
        except TimeoutError:
            raise TimeoutError(self._missing(cid, count, timeout)) from None
        return self.sent_messages(cid)

    def wait_for_poll(self, timeout: float = 5.0) -> None:
        """Block until a getUpdates long poll is waiting (the bot is ready for updates)."""
        self.wait_until(lambda: self._pollers > 0, timeout)

    async def wait_for_poll_async(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self.wait_until_async(lambda: self._pollers > 0, timeout)

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        with self._lock:
            return self._pollers > 0

    def _count_sent(self, cid: int) -> int:
        return sum(1 for key in self._sent_order if key[0] == cid)

    def _missing(self, cid: int, count: int, timeout: float) -> str:
        with self._lock:
            got = [m.text for m in self.sent_messages(cid)]
            return (
                f"expected {count} message(s) in chat {cid} within {timeout}s, got {len(got)}: "
                f"{got!r}; {self._summary()}"
            )

    def _summary(self) -> str:
        recent = [
            f"{r.method}→{r.status}" for r in self._requests[-12:] if r.method != "getUpdates"
        ]
        failures = [
            f"{r.method}: {r.status} {r.description}"
            for r in self._requests[-50:]
            if r.status is None or r.status >= 400
        ]
        return (
            f"pending updates: {len(self._updates)}, polling: {self._pollers > 0}, "
            f"recent calls: {recent[-8:]}, recent errors: {failures[-5:]}, "
            f"fake errors: {self.server_errors[-3:]}"
        )

    # -- internals: lookup ----------------------------------------------------------------------

    def _chat_id(self, chat: FakeChat | FakeUser | int) -> int:
        return chat if isinstance(chat, int) else chat.id

    def _chat_state(self, chat: FakeChat | FakeUser | int) -> _ChatState:
        cid = self._chat_id(chat)
        try:
            return self._chats[cid]
        except KeyError:
            raise KeyError(f"unknown chat {cid}") from None

    def _resolve_chat(self, params: JSON, name: str = "chat_id") -> _ChatState:
        raw = params.get(name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if text.startswith("@"):
            wanted = text[1:].lower()
            for state in self._chats.values():
                username = state.chat.username
                if state.chat.type != "private" and username and username.lower() == wanted:
                    return state
            raise ApiError(400, "Bad Request: chat not found")
        try:
            cid = int(text)
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None
        found = self._chats.get(cid)
        if found is None:
            raise ApiError(400, "Bad Request: chat not found")
        return found

    def _check_access(
        self, state: _ChatState, access: Literal["read", "members", "edit", "write"]
    ) -> None:
        """telegram-bot-api's check_chat_access, then tdlib's can_send_message_to_dialog."""
        chat = state.chat
        edit = access in ("edit", "write")
        bot = state.members.get(self.bot.id)
        if chat.type == "private":
            user = self._users[chat.id]
            if user.deactivated and edit:
                raise ApiError(403, "Forbidden: user is deactivated")
            return
        if chat.type == "group":
            write = access in ("write", "members")
            if state.migrated_to is not None and write:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": state.migrated_to},
                )
            edit = edit or access == "members"
            if bot is not None and bot.status == "kicked" and edit:
                raise ApiError(403, "Forbidden: bot was kicked from the group chat")
            if not _is_present(bot) and edit:
                raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        else:
            kind = "supergroup" if chat.type == "supergroup" else "channel"
            if bot is not None and bot.status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            needs_membership = edit if chat.username else True
            if not _is_present(bot) and needs_membership:
                raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        if access != "write" or bot is None:
            return
        if chat.type == "channel":
            can_post = bot.status == "creator" or (
                bot.status == "administrator" and bot.rights.get("can_post_messages", True)
            )
            if not can_post:
                raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
        elif bot.status == "restricted" and not bot.rights.get("can_send_messages", True):
            raise ApiError(400, "Bad Request: not enough rights to send text messages to the chat")

    def _check_recipient(self, state: _ChatState) -> None:
        """What Telegram's servers answer when the message is actually sent (after tdlib's own
        checks such as the text length): the user blocked the bot or never started it."""
        if state.chat.type != "private":
            return
        user = self._users[state.chat.id]
        if user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _bot_is_admin(self, state: _ChatState) -> bool:
        bot = state.members.get(self.bot.id)
        return bot is not None and bot.status in ("creator", "administrator")

    # -- internals: HTTP ------------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        started = time.monotonic()
        if self.latency > 0:
            time.sleep(self.latency / 2)  # the request's trip there
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        method: str | None = None
        params: JSON = {}
        fault: Fault | None = None

        def record(status: int | None, description: str | None, *, count: bool = True) -> None:
            with self._lock:
                self._requests.append(
                    RecordedRequest(
                        method=method,
                        http_method=handler.command,
                        path=path,
                        params=params,
                        status=status,
                        description=description,
                        started=started,
                        responded=time.monotonic(),
                        fault=fault.kind if fault else None,
                    )
                )
                if count and status is not None and status >= 400:
                    self._rejected[status] += 1

        m = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if not m:
            record(404, "Not Found")  # also file downloads: the fake stores no files
            self._reply_error(handler, 404, "Not Found", None)
            return
        token, method = m.group(1), m.group(2)
        try:
            body = _read_body(handler)
            params, uploads = _parse_params(
                parts.query, handler.headers.get("Content-Type", ""), body
            )
        except (ValueError, ApiError) as exc:
            description = (
                exc.description if isinstance(exc, ApiError) else "Bad Request: invalid request"
            )
            record(400, description)
            self._reply_error(handler, 400, description, None)
            return
        if token != self.token:
            # Telegram: 401 for a well-formed token it doesn't know, 404 for a malformed one.
            # (Checked after reading the body: closing a socket with unread input sends an RST
            # that can destroy the answer.)
            status = 401 if _TOKEN_RE.match(token) else 404
            description = "Unauthorized" if status == 401 else "Not Found"
            record(status, description)
            self._reply_error(handler, status, description, None)
            return
        key = method.lower()
        with self._lock:
            queue = self._faults.get(key)
            fault = queue.pop(0) if queue else None
            if fault is not None:
                self._faults_served += 1

        if fault is not None and fault.kind is FaultKind.RESET:
            if fault.process:
                self._call(key, params, uploads)
            record(None, "connection reset (fault)")
            self._reset(handler)
            return
        if fault is not None and fault.kind is FaultKind.HTTP:
            record(fault.status, "HTTP error (fault)")
            page = f"<html><head><title>{fault.status}</title></head><body>nginx</body></html>"
            self._send(handler, fault.status, page.encode(), "text/html")
            return
        if fault is not None and fault.kind is FaultKind.ERROR:
            description = fault.description or "Internal Server Error"
            record(fault.status, description)
            self._reply_error(handler, fault.status, description, fault.parameters)
            return
        if fault is not None and fault.kind is FaultKind.SLOW and not fault.process:
            self._stopping.wait(fault.delay)

        status, payload = self._call(key, params, uploads)
        if fault is not None and fault.kind is FaultKind.SLOW and fault.process:
            self._stopping.wait(fault.delay)
        error: str | None = None if status < 400 else payload.get("description")
        if _peer_gone(handler):
            # E.g. the long poll PTB cancelled when it stopped polling, answered 409 once the
            # next getUpdates arrived: nobody reads this answer, so it is no rejection.
            record(status, f"{error or 'OK'} (the client had hung up)", count=False)
            return
        record(status, error)
        headers = {}
        retry_after = (payload.get("parameters") or {}).get("retry_after")
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        body_out = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(handler, status, body_out, "application/json", headers)

    def _call(self, key: str, params: JSON, uploads: dict[str, _Upload]) -> tuple[int, JSON]:
        function = self._methods.get(key)
        if function is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            with self._cond:
                result = function(params, uploads)
                self._cond.notify_all()  # wakes waiters on the logs
        except ApiError as exc:
            payload: JSON = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                payload["parameters"] = exc.parameters
            return exc.status, payload
        except Exception as exc:
            with self._lock:
                self.server_errors.append("".join(traceback.format_exception(exc)))
            description = f"Internal Server Error: fake failed: {exc!r}"
            return 500, {"ok": False, "error_code": 500, "description": description}
        if isinstance(result, _Described):
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    def _reply_error(
        self, handler: _Handler, status: int, description: str, parameters: JSON | None
    ) -> None:
        payload: JSON = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        self._send(handler, status, json.dumps(payload).encode(), "application/json")

    @staticmethod
    def _send(
        handler: _Handler,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        half = handler.server.fake.latency / 2  # the answer's trip back
        if half > 0:
            time.sleep(half)
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _reset(handler: _Handler) -> None:
        # SO_LINGER 0: closing sends RST instead of FIN, like a dropped connection.
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True

    # -- internals: flood limits ----------------------------------------------------------------

    def _flood_check(self, key: str, state: _ChatState) -> None:
        limits = self.flood
        if not limits.counts(key):
            return
        now = self.clock()
        waits: list[float] = []

        def bucket(previous: tuple[float, float] | None, rate: float, burst: int) -> float:
            if previous is None:
                return float(burst)
            tokens, at = previous
            return min(float(burst), tokens + (now - at) * rate)

        global_tokens = bucket(self._global_bucket, limits.global_rate, limits.global_burst)
        if global_tokens < 1:
            waits.append((1 - global_tokens) / limits.global_rate)
        chat_tokens = bucket(
            self._chat_buckets.get(state.chat.id), limits.chat_rate, limits.chat_burst
        )
        if chat_tokens < 1:
            waits.append((1 - chat_tokens) / limits.chat_rate)
        window: list[float] = []
        if state.chat.is_group:
            window = [
                t
                for t in self._group_windows.get(state.chat.id, [])
                if t > now - limits.group_window
            ]
            if len(window) >= limits.group_limit:
                waits.append(window[len(window) - limits.group_limit] + limits.group_window - now)
        if waits:
            retry_after = max(1, math.ceil(max(waits) - 1e-9))
            self._flood_429 += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        self._global_bucket = (global_tokens - 1, now)
        self._chat_buckets[state.chat.id] = (chat_tokens - 1, now)
        if state.chat.is_group:
            window.append(now)
            self._group_windows[state.chat.id] = window

    # -- internals: reply markup ----------------------------------------------------------------

    def _reply_markup(self, params: JSON) -> JSON | None:
        """Validate ``reply_markup``; returns the inline keyboard to echo in the Message."""
        markup = _p_json(params, "reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: object expected as reply markup")
        if "inline_keyboard" in markup:
            return self._inline_keyboard(markup["inline_keyboard"])
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, 'Bad Request: field "keyboard" must be an Array of Arrays')
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not isinstance(text, str):
                        raise ApiError(
                            400,
                            "Bad Request: can't parse keyboard button: "
                            'Field "text" must be of type String',
                        )
                    if not text:
                        raise ApiError(400, "Bad Request: keyboard button text must be non-empty")
            return None
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return None
        raise ApiError(400, "Bad Request: object expected as reply markup")

    def _inline_keyboard(self, rows: Any) -> JSON:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an '
                "Array of Arrays",
            )
        if sum(len(r) for r in rows) > MAX_BUTTONS:
            raise ApiError(400, "Bad Request: reply markup is too long")
        actions = (
            "url",
            "callback_data",
            "callback_game",
            "pay",
            "switch_inline_query",
            "switch_inline_query_chosen_chat",
            "switch_inline_query_current_chat",
            "login_url",
            "web_app",
            "copy_text",
        )

        def bad(reason: str) -> ApiError:
            return ApiError(400, f"Bad Request: can't parse inline keyboard button: {reason}")

        echoed_rows: list[list[JSON]] = []
        for row in rows:
            echoed: list[JSON] = []
            for button in row:
                if not isinstance(button, dict):
                    raise bad("InlineKeyboardButton must be an Object")
                text = button.get("text")
                if not isinstance(text, str):
                    raise bad('Field "text" must be of type String')
                # telegram-bot-api takes the first non-empty action in this order; empty strings
                # count as absent.
                present = [a for a in actions if button.get(a) not in (None, "")]
                if not present:
                    raise bad("Text buttons are unallowed in the inline keyboard")
                if self.strict and len(present) > 1:
                    raise bad(f"exactly one action field is allowed, got {present}")
                if not text:
                    raise ApiError(
                        400, "Bad Request: inline keyboard button text must be non-empty"
                    )
                action = present[0]
                value = button[action]
                if action == "url":
                    value = self._button_url(str(value))
                elif action == "callback_data":
                    if not isinstance(value, str):
                        raise bad('Field "callback_data" must be of type String')
                    if len(value.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                echoed.append({"text": text, action: value})
            echoed_rows.append(echoed)
        return {"inline_keyboard": echoed_rows}

    @staticmethod
    def _button_url(url: str) -> str:
        try:
            checked = _check_link(url)
        except ValueError as exc:
            # tdlib's own check, before the request reaches Telegram's servers
            raise ApiError(
                400, f"Bad Request: inline keyboard button URL '{url}' is invalid: {exc}"
            ) from None
        host = urlsplit(checked).hostname or ""
        # What tdlib lets through but Telegram's servers refuse: IP literals, numeric TLDs.
        if checked.startswith("http") and (
            re.fullmatch(r"[\d.]+", host) or ":" in host or not host.rsplit(".", 1)[-1].isalpha()
        ):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return checked

    # -- internals: messages --------------------------------------------------------------------

    def _snapshot(self, stored: _StoredMessage) -> SentMessage:
        api = json.loads(json.dumps(stored.api))
        return SentMessage(
            chat_id=stored.chat_id,
            message_id=stored.message_id,
            text=api.get("text", ""),
            raw_text=stored.raw_text or "",
            parse_mode=stored.parse_mode,
            entities=api.get("entities", []),
            reply_markup=api.get("reply_markup"),
            link_preview_options=stored.params.get("link_preview_options"),
            params=dict(stored.params),
            sent_at=stored.sent_at,
            date=api["date"],
            edit_count=stored.edit_count,
            deleted=stored.deleted,
            api=api,
        )

    def _parse(self, params: JSON) -> tuple[str, list[_Entity]]:
        entities = _p_json(params, "entities", "entities")
        if entities is not None and not isinstance(entities, list):
            raise ApiError(400, "Bad Request: can't parse entities JSON object")
        return _parse_text(
            _p_str(params, "text"), _p_str(params, "parse_mode"), entities, strict=self.strict
        )

    def _finish(
        self, parsed: tuple[str, list[_Entity]], state: _ChatState
    ) -> tuple[str, list[JSON]]:
        # Telegram marks /commands in bots' messages only where a command can be tapped.
        return _finish_text(
            *parsed,
            bot_commands=state.chat.is_group,
            max_length=MAX_MESSAGE_LENGTH,
            max_entities=self.max_entities,
        )

    def _decoded_params(self, params: JSON) -> JSON:
        decoded: JSON = {}
        for name, value in params.items():
            if isinstance(value, str) and value[:1] in ("{", "["):
                try:
                    decoded[name] = json.loads(value)
                    continue
                except ValueError:
                    pass
            decoded[name] = value
        return decoded

    def _bot_message_api(self, state: _ChatState, mid: int) -> JSON:
        api: JSON = {"message_id": mid}
        if state.chat.type == "channel":
            api["sender_chat"] = state.chat.to_api()
        else:
            api["from"] = self.bot.to_api()
        api["chat"] = state.chat.to_api()
        api["date"] = int(self.wall_clock())
        return api

    def _editable(self, params: JSON) -> _StoredMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # no inline mode here
        state = self._resolve_chat(params)
        self._check_access(state, "edit")
        mid = _p_int(params, "message_id")
        if not mid:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((state.chat.id, mid))
        if stored is None or stored.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    # -- API methods ----------------------------------------------------------------------------

    def _true(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        return True

    def _get_me(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: JSON, uploads: dict[str, _Upload]) -> list[JSON]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _p_int(params, "offset") or 0
        limit = _p_int(params, "limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(0, _p_int(params, "timeout") or 0)
        allowed = _p_json(params, "allowed_updates", "allowed_updates")
        if isinstance(allowed, list):
            # An empty list means "everything but the opt-in types", like not setting it at all.
            self._allowed_updates = frozenset(str(a) for a in allowed) or None
        if offset > 0:
            self._updates = [u for u in self._updates if u[0] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A newer getUpdates terminates a waiting older one (which then answers 409).
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        deadline = time.monotonic() + timeout
        self._pollers += 1
        try:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                ready = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._stopping.is_set():
                    return ready
                self._cond.wait(remaining)
        finally:
            self._pollers -= 1

    def _deliverable(self, limit: int) -> list[JSON]:
        allowed = self._allowed_updates
        ready = []
        for _, kind, update in self._updates:
            if allowed is None and kind in _NOT_DEFAULT_UPDATES:
                continue
            if allowed is not None and kind not in allowed:
                continue
            ready.append(json.loads(json.dumps(update)))
            if len(ready) >= limit:
                break
        return ready

    def _set_webhook(self, params: JSON, uploads: dict[str, _Upload]) -> _Described:
        url = _p_str(params, "url") or ""
        if _p_bool(params, "drop_pending_updates"):
            self._updates.clear()
        self._webhook_url = url
        if not url:
            return _Described(True, "Webhook was deleted")
        self._cond.notify_all()
        return _Described(True, "Webhook was set")

    def _delete_webhook(self, params: JSON, uploads: dict[str, _Upload]) -> _Described:
        if _p_bool(params, "drop_pending_updates"):
            self._updates.clear()
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _get_webhook_info(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _send_message(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        # The order of the checks follows telegram-bot-api and tdlib, so that a request with
        # several faults fails with the same error as on Telegram.
        parsed = self._parse(params)
        keyboard = self._reply_markup(params)
        link_preview = _p_json(params, "link_preview_options", "link preview options")
        if link_preview is not None and not isinstance(link_preview, dict):
            raise ApiError(400, "Bad Request: can't parse link preview options JSON object")
        state = self._resolve_chat(params)
        self._check_access(state, "write")
        text, entities = self._finish(parsed, state)
        reply_to = self._reply_to(params, state)
        self._flood_check("sendMessage", state)
        self._check_recipient(state)

        mid = state.next_message_id
        state.next_message_id += 1
        api = self._bot_message_api(state, mid)
        if reply_to is not None:
            api["reply_to_message"] = reply_to
        api["text"] = text
        if entities:
            api["entities"] = entities
        if link_preview is not None:
            api["link_preview_options"] = link_preview
        if keyboard is not None:
            api["reply_markup"] = keyboard
        self._messages[(state.chat.id, mid)] = _StoredMessage(
            state.chat.id,
            mid,
            api,
            from_bot=True,
            raw_text=_p_str(params, "text"),
            parse_mode=_p_str(params, "parse_mode"),
            params=self._decoded_params(params),
            sent_at=self.clock(),
        )
        self._sent_order.append((state.chat.id, mid))
        self._sent += 1
        return json.loads(json.dumps(api))

    def _send_photo(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        # Photos as multipart uploads only (no file_id or URL: the fake keeps no files).
        upload = uploads.get("photo")
        if upload is None:
            if params.get("photo"):
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            raise ApiError(400, "Bad Request: there is no photo in the request")
        raw_caption = _p_str(params, "caption") or ""
        parsed: tuple[str, list[_Entity]] = ("", [])
        if raw_caption:
            entities = _p_json(params, "caption_entities", "caption entities")
            if entities is not None and not isinstance(entities, list):
                raise ApiError(400, "Bad Request: can't parse caption entities JSON object")
            parsed = _parse_text(
                raw_caption, _p_str(params, "parse_mode"), entities, strict=self.strict
            )
        keyboard = self._reply_markup(params)
        state = self._resolve_chat(params)
        self._check_access(state, "write")
        try:
            caption, caption_entities = _finish_text(
                *parsed,
                bot_commands=state.chat.is_group,
                max_length=MAX_CAPTION_LENGTH,
                max_entities=self.max_entities,
            )
        except ApiError as exc:
            if "too long" in exc.description:
                raise ApiError(400, "Bad Request: message caption is too long") from None
            raise
        if len(upload.data) > MAX_PHOTO_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        width, height = _image_size(upload.data)
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        reply_to = self._reply_to(params, state)
        self._flood_check("sendPhoto", state)
        self._check_recipient(state)

        mid = state.next_message_id
        state.next_message_id += 1
        api = self._bot_message_api(state, mid)
        if reply_to is not None:
            api["reply_to_message"] = reply_to
        unique = f"AQAD{mid:08d}"
        scale = min(1.0, 1280 / max(width, height))  # Telegram keeps sizes up to 1280 px
        api["photo"] = [
            {
                "file_id": f"AgACAgIAAxkBAAI{state.chat.id & 0xFFFF:04x}{mid:06d}",
                "file_unique_id": unique,
                "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
                "file_size": len(upload.data),
            }
        ]
        if caption:
            api["caption"] = caption
        if caption_entities:
            api["caption_entities"] = caption_entities
        if keyboard is not None:
            api["reply_markup"] = keyboard
        self._messages[(state.chat.id, mid)] = _StoredMessage(
            state.chat.id,
            mid,
            api,
            from_bot=True,
            raw_text=None,
            parse_mode=_p_str(params, "parse_mode"),
            params=self._decoded_params(params),
            sent_at=self.clock(),
        )
        self._photos.append(
            SentPhoto(
                chat_id=state.chat.id,
                message_id=mid,
                data=upload.data,
                filename=upload.filename,
                width=width,
                height=height,
                caption=caption,
                raw_caption=raw_caption,
                parse_mode=_p_str(params, "parse_mode"),
                caption_entities=caption_entities,
                reply_markup=keyboard,
                api=json.loads(json.dumps(api)),
            )
        )
        return json.loads(json.dumps(api))

    def _reply_to(self, params: JSON, state: _ChatState) -> JSON | None:
        reply = _p_json(params, "reply_parameters", "reply parameters")
        mid: int | None = None
        allow_missing = _p_bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            mid = int(reply.get("message_id") or 0)
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id"):
            mid = _p_int(params, "reply_to_message_id")
        if not mid:
            return None
        stored = self._messages.get((state.chat.id, mid))
        if stored is None or stored.deleted:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        replied = json.loads(json.dumps(stored.api))
        replied.pop("reply_to_message", None)  # Telegram nests only one level
        return replied

    def _edit_message_text(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        parsed = self._parse(params)
        keyboard = self._reply_markup(params)
        stored = self._editable(params)
        state = self._chats[stored.chat_id]
        text, entities = self._finish(parsed, state)
        api = stored.api
        # Without reply_markup an edit removes the inline keyboard, as on Telegram.
        if (
            api.get("text") == text
            and api.get("entities", []) == entities
            and api.get("reply_markup") == keyboard
        ):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self._flood_check("editMessageText", state)
        api["text"] = text
        api["entities"] = entities
        if not entities:
            del api["entities"]
        api.pop("reply_markup", None)
        if keyboard is not None:
            api["reply_markup"] = keyboard
        api["edit_date"] = int(self.wall_clock())
        stored.raw_text = _p_str(params, "text")
        stored.parse_mode = _p_str(params, "parse_mode")
        stored.edit_count += 1
        self._edited += 1
        self._edits.append(
            EditRecord(
                stored.chat_id,
                stored.message_id,
                "editMessageText",
                text,
                stored.raw_text,
                stored.parse_mode,
                entities,
                keyboard,
                self.clock(),
            )
        )
        return json.loads(json.dumps(api))

    def _edit_message_reply_markup(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        keyboard = self._reply_markup(params)
        stored = self._editable(params)
        api = stored.api
        if api.get("reply_markup") == keyboard:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self._flood_check("editMessageReplyMarkup", self._chats[stored.chat_id])
        api.pop("reply_markup", None)
        if keyboard is not None:
            api["reply_markup"] = keyboard
        api["edit_date"] = int(self.wall_clock())
        stored.edit_count += 1
        self._edited += 1
        self._edits.append(
            EditRecord(
                stored.chat_id,
                stored.message_id,
                "editMessageReplyMarkup",
                api.get("text", ""),
                None,
                None,
                api.get("entities", []),
                keyboard,
                self.clock(),
            )
        )
        return json.loads(json.dumps(api))

    def _delete_message(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        state = self._resolve_chat(params)
        self._check_access(state, "edit")
        mid = _p_int(params, "message_id")
        stored = self._messages.get((state.chat.id, mid or 0))
        if stored is None or stored.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        if not stored.from_bot and state.chat.type != "private":
            bot = state.members.get(self.bot.id)
            allowed = bot is not None and (
                bot.status == "creator"
                or (bot.status == "administrator" and bot.rights.get("can_delete_messages", True))
            )
            if not allowed:
                raise ApiError(400, "Bad Request: message can't be deleted")
        stored.deleted = True
        return True

    def _answer_callback_query(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        query_id = _p_str(params, "callback_query_id") or ""
        query = self._queries.get(query_id)
        if query is None or query.answered:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = _p_str(params, "text")
        if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        url = _p_str(params, "url")
        query.answered = True
        self._answers.append(
            CallbackAnswer(
                query_id,
                text,
                _p_bool(params, "show_alert"),
                url,
                _p_int(params, "cache_time") or 0,
                self.clock(),
            )
        )
        return True

    def _send_chat_action(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        state = self._resolve_chat(params)
        action = _p_str(params, "action") or ""
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_access(state, "write")
        self._check_recipient(state)
        self._actions.append(ChatActionRecord(state.chat.id, action, self.clock()))
        return True

    def _commands_target(self, params: JSON) -> tuple[JSON, str]:
        scope = _p_json(params, "scope", "bot command scope")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict):
            raise ApiError(400, "Bad Request: BotCommandScope must be an Object")
        kind = scope.get("type")
        simple = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")
        if kind not in (*simple, "chat", "chat_administrators", "chat_member"):
            raise ApiError(400, "Bad Request: unsupported type specified")
        if kind not in simple:
            state = self._resolve_chat(scope)
            if state.chat.type == "channel":
                raise ApiError(400, "Bad Request: can't change commands in channel chats")
            if state.chat.type == "private" and kind != "chat":
                raise ApiError(400, "Bad Request: can't use specified scope in private chats")
            scope = {**scope, "chat_id": state.chat.id}
        language = _p_str(params, "language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return scope, language

    def _set_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        commands = _p_json(params, "commands", "commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        scope, language = self._commands_target(params)
        cleaned: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise ApiError(400, "Bad Request: BotCommand must be an Object")
            command = str(item.get("command") or "").strip().removeprefix("/")
            description = str(item.get("description") or "").strip()
            if not command:
                raise ApiError(400, "Bad Request: command must be non-empty")
            if len(command) > 32:
                raise ApiError(400, "Bad Request: command length must not exceed 32")
            if not description:
                raise ApiError(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                raise ApiError(400, "Bad Request: command description length must not exceed 256")
            if not re.fullmatch(r"[a-z0-9_]+", command):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            cleaned.append({"command": command, "description": description})
        if len(cleaned) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        key = (_scope_key(scope), language)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        self._command_calls.append(CommandsCall(cleaned, scope, language, self.clock()))
        return True

    def _get_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> list[JSON]:
        scope, language = self._commands_target(params)
        return [dict(c) for c in self._commands.get((_scope_key(scope), language), [])]

    def _delete_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        scope, language = self._commands_target(params)
        self._commands.pop((_scope_key(scope), language), None)
        self._command_calls.append(CommandsCall([], scope, language, self.clock()))
        return True

    def _get_chat(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        state = self._resolve_chat(params)
        self._check_access(state, "read")
        chat = state.chat
        info: JSON = {
            **chat.to_api(),
            "accent_color_id": abs(chat.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.is_group:
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
            }
        return info

    def _user_param(self, params: JSON) -> int:
        uid = _p_int(params, "user_id")
        if not uid:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        return uid

    def _get_chat_member(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        state = self._resolve_chat(params)
        self._check_access(state, "members")
        uid = self._user_param(params)
        if uid == self.bot.id:
            user = self.bot
        elif uid in self._users:
            user = self._users[uid].user
        else:
            raise ApiError(400, "Bad Request: user not found")
        if state.chat.type == "channel" and not self._bot_is_admin(state):
            # tdlib's get_channel_participant: in a channel only administrators see members,
            # and that includes the bot asking about itself.
            raise ApiError(400, "Bad Request: member list is inaccessible")
        member = state.members.get(uid, _Member("left"))
        return _member_api(user, member, state.chat)

    def _get_chat_administrators(self, params: JSON, uploads: dict[str, _Upload]) -> list[JSON]:
        state = self._resolve_chat(params)
        if state.chat.type == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        self._check_access(state, "members")
        if state.chat.type == "channel" and not self._bot_is_admin(state):
            raise ApiError(400, "Bad Request: member list is inaccessible")
        result = []
        for uid, member in state.members.items():
            if member.status not in ("creator", "administrator"):
                continue
            user = self.bot if uid == self.bot.id else self._users[uid].user
            result.append(_member_api(user, member, state.chat))
        result.sort(key=lambda m: m["status"] != "creator")
        return result

    def _get_chat_member_count(self, params: JSON, uploads: dict[str, _Upload]) -> int:
        state = self._resolve_chat(params)
        self._check_access(state, "members")
        return sum(1 for member in state.members.values() if _is_present(member))

    def _leave_chat(self, params: JSON, uploads: dict[str, _Upload]) -> bool:
        state = self._resolve_chat(params)
        if state.chat.type == "private":
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        self._check_access(state, "edit")
        state.members[self.bot.id] = _Member("left")
        return True


@dataclass(frozen=True)
class _Described:
    """A successful result with Telegram's optional ``description`` (e.g. deleteWebhook)."""

    result: Any
    description: str


def _scope_key(scope: Mapping[str, Any]) -> str:
    kind = str(scope.get("type", "default"))
    parts = [kind]
    if "chat_id" in scope and kind in ("chat", "chat_administrators", "chat_member"):
        parts.append(str(scope["chat_id"]))
    if kind == "chat_member":
        parts.append(str(scope.get("user_id")))
    return ":".join(parts)
