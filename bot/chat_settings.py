"""A chat's settings vocabulary: the names people type, the values they may give, and parsing.

Both frontends offer the same settings through this module (Telegram as `/settings tz Berlin`
and buttons, Discord as slash-command options with choices), and the core applies them to a
`Chat` value, which storage saves whole: no column name ever comes from a chat message.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidLanguage, UserError
from bot.models import Chat, DetailLevel
from bot.summaries import languages

MAX_PAPERS_CHOICES = (3, 5, 10, 20, 30, 50)
TIME_CHOICES = ("auto", "07:00", "08:00", "09:00", "18:00")


class InvalidSetting(UserError):
    pass


class InvalidTopicNumber(InvalidSetting):
    pass


class SettingName(enum.StrEnum):
    """The settings of a chat, by the word people type (`/settings tz …`)."""

    LANGUAGE = "lang"
    TIMEZONE = "tz"
    TIME = "time"
    DETAIL = "detail"
    PAPERS = "papers"
    EMPTY = "empty"


_NAME_ALIASES = {
    "language": SettingName.LANGUAGE,
    "lang": SettingName.LANGUAGE,
    "语言": SettingName.LANGUAGE,
    "tz": SettingName.TIMEZONE,
    "timezone": SettingName.TIMEZONE,
    "zone": SettingName.TIMEZONE,
    "时区": SettingName.TIMEZONE,
    "time": SettingName.TIME,
    "时间": SettingName.TIME,
    "detail": SettingName.DETAIL,
    "details": SettingName.DETAIL,
    "papers": SettingName.PAPERS,
    "max": SettingName.PAPERS,
    "empty": SettingName.EMPTY,
}

SETTINGS_USAGE = (
    "Use /settings followed by one of: lang, tz, time, detail, papers, empty, and a value — "
    "for example /settings tz Europe/Berlin."
)


def parse_setting_name(word: str) -> SettingName:
    name = _NAME_ALIASES.get(unicodedata.normalize("NFKC", word).strip().lower())
    if name is None:
        raise InvalidSetting(SETTINGS_USAGE)
    return name


@dataclass(frozen=True, slots=True)
class Choice:
    """One value of a setting with few values, for buttons and slash-command choices."""

    label: str
    value: str


_CHOICES: dict[SettingName, tuple[Choice, ...]] = {
    SettingName.LANGUAGE: (Choice("English", "en"), Choice("中文", "zh")),
    SettingName.DETAIL: (
        Choice("Titles", DetailLevel.TITLES.value),
        Choice("TL;DR", DetailLevel.TLDR.value),
        Choice("Full", DetailLevel.FULL.value),
    ),
    SettingName.PAPERS: tuple(Choice(str(n), str(n)) for n in MAX_PAPERS_CHOICES),
    SettingName.TIME: tuple(Choice(t, t) for t in TIME_CHOICES),
    SettingName.EMPTY: (Choice("on", "on"), Choice("off", "off")),
    SettingName.TIMEZONE: (),  # free text: hundreds of zones
}


def choices(name: SettingName) -> tuple[Choice, ...]:
    """The values to offer for `name`; empty for free-text settings (time zone)."""
    return _CHOICES[name]


def current_value(chat: Chat, name: SettingName) -> str:
    """The chat's value of a setting, in the form `parse_value` accepts back."""
    match name:
        case SettingName.LANGUAGE:
            return chat.language
        case SettingName.TIMEZONE:
            return chat.timezone
        case SettingName.TIME:
            return chat.delivery_time.strftime("%H:%M") if chat.delivery_time else "auto"
        case SettingName.DETAIL:
            return chat.detail.value
        case SettingName.PAPERS:
            return str(chat.max_papers)
        case SettingName.EMPTY:
            return "on" if chat.send_empty else "off"


def apply_setting(chat: Chat, name: SettingName, value: str) -> Chat:
    """The chat with one setting changed; `InvalidSetting` explains a bad value."""
    match name:
        case SettingName.LANGUAGE:
            return dataclasses.replace(chat, language=parse_language(value))
        case SettingName.TIMEZONE:
            return dataclasses.replace(chat, timezone=parse_timezone(value))
        case SettingName.TIME:
            return dataclasses.replace(chat, delivery_time=parse_delivery_time(value))
        case SettingName.DETAIL:
            return dataclasses.replace(chat, detail=parse_detail(value))
        case SettingName.PAPERS:
            return dataclasses.replace(chat, max_papers=parse_max_papers(value))
        case SettingName.EMPTY:
            return dataclasses.replace(chat, send_empty=parse_on_off(value))


# --- Values ---------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """NFKC folds full-width and other compatibility forms (１２：３０, ①) to plain ones."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _quote(text: str, limit: int = 40) -> str:
    shown = _clean(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def parse_language(text: str) -> str:
    """``zh``, ``Chinese``, ``中文`` → ``zh``; anything else is an `InvalidLanguage`."""
    try:
        return languages.normalize_language(_clean(text))
    except ValueError as exc:
        raise InvalidLanguage(f"Unknown summary language: {exc}") from None


_TZ_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "beijing": "Asia/Shanghai",
    "shanghai": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "hong kong": "Asia/Hong_Kong",
    "taipei": "Asia/Taipei",
    "tokyo": "Asia/Tokyo",
    "seoul": "Asia/Seoul",
    "singapore": "Asia/Singapore",
    "india": "Asia/Kolkata",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "moscow": "Europe/Moscow",
    "new york": "America/New_York",
    "eastern": "America/New_York",
    "boston": "America/New_York",
    "chicago": "America/Chicago",
    "denver": "America/Denver",
    "los angeles": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "sydney": "Australia/Sydney",
}
_OFFSET_RE = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*([0-9]{1,2})(?::?00)?$", re.I)


def parse_timezone(text: str) -> str:
    """``Europe/Berlin``, ``berlin``, ``UTC+8``, ``-5`` → an IANA zone name."""
    raw = _clean(text)
    if not raw:
        raise InvalidSetting("Give a time zone, for example Europe/Berlin, Asia/Shanghai or UTC+8.")
    alias = _TZ_ALIASES.get(raw.lower())
    if alias:
        return alias
    m = _OFFSET_RE.match(raw)
    if m:
        hours = int(m.group(2))
        if hours > 14:
            raise InvalidSetting(f"UTC{m.group(1)}{hours} is not a time zone offset.")
        if hours == 0:
            return "UTC"
        # The Etc/ zones have inverted signs: UTC+8 is Etc/GMT-8.
        return f"Etc/GMT{'-' if m.group(1) == '+' else '+'}{hours}"
    candidates = {name.lower(): name for name in available_timezones()}
    name = candidates.get(raw.lower().replace(" ", "_"))
    if name is None:
        raise InvalidSetting(
            f"I don't know the time zone “{_quote(raw)}”. Use a name like Europe/Berlin, "
            "America/New_York, Asia/Shanghai, or an offset like UTC+8."
        )
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:  # pragma: no cover - listed zones load
        raise InvalidSetting(f"The time zone {name} is not available here.") from None
    return name


_TIME_RE = re.compile(r"^([0-9]{1,2})(?:[:.h]([0-9]{2}))?\s*(am|pm)?$", re.I)


def parse_delivery_time(text: str) -> time | None:
    """``08:30``, ``8``, ``8pm``, ``20.15`` → a time; ``auto`` → None (right after the listing)."""
    raw = _clean(text).lower()
    if raw in {"auto", "asap", "default", "listing", "自动"}:
        return None
    m = _TIME_RE.match(raw)
    if m:
        hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
        if half and 1 <= hour <= 12:
            hour = hour % 12 + (12 if half == "pm" else 0)
        elif half:
            hour = 24  # "13pm" is no time
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise InvalidSetting(
        f"“{_quote(text, 20)}” is not a time. Use HH:MM in 24-hour form, for example 08:30, "
        "or 'auto' for right after arXiv's announcement."
    )


_DETAIL_ALIASES = {
    "titles": DetailLevel.TITLES,
    "title": DetailLevel.TITLES,
    "tldr": DetailLevel.TLDR,
    "tl;dr": DetailLevel.TLDR,
    "full": DetailLevel.FULL,
    "takeaways": DetailLevel.FULL,
}


def parse_detail(text: str) -> DetailLevel:
    level = _DETAIL_ALIASES.get(_clean(text).lower())
    if level is None:
        raise InvalidSetting("Detail is one of: titles, tldr, full (TL;DR and takeaways).")
    return level


def parse_small_number(text: str) -> int | None:
    """A short decimal number in any script (``3``, ``３``, ``٣``, ``#3``, ``①``); None if not."""
    raw = _clean(text).lstrip("#")
    # Length first: int() on thousands of digits is slow and pointless here. isdecimal() and
    # int() agree on every script's digits (str.isdigit() also takes "²", which int() refuses).
    if not raw or len(raw) > 6 or not raw.isdecimal():
        return None
    return int(raw)


def parse_max_papers(text: str) -> int:
    value = parse_small_number(text)
    if value is None or not 1 <= value <= max(MAX_PAPERS_CHOICES):
        raise InvalidSetting(f"Papers per digest is a number from 1 to {max(MAX_PAPERS_CHOICES)}.")
    return value


def parse_on_off(text: str) -> bool:
    value = _clean(text).lower()
    if value in {"on", "yes", "true", "1", "开"}:
        return True
    if value in {"off", "no", "false", "0", "关"}:
        return False
    raise InvalidSetting("Use on or off.")


def parse_topic_number(text: str) -> int:
    """A topic's number as people type it (``3``, ``#3``, ``３``, ``③``)."""
    value = parse_small_number(text)
    if value is None or not 0 < value < 10_000:
        raise InvalidTopicNumber(
            f"“{_quote(text, 20)}” is not a topic number. /list shows the numbers."
        )
    return value
