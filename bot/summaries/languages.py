"""Summary languages: normalising what people type (``zh``, ``zh-CN``, ``Chinese``, ``中文``)."""

from __future__ import annotations

import re

# Display names for the languages people ask for most; any other well-formed code is accepted
# and passed to the model as is.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "zh": "Simplified Chinese",
    "zh-tw": "Traditional Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "ru": "Russian",
    "uk": "Ukrainian",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "tr": "Turkish",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "fa": "Persian",
    "he": "Hebrew",
    "hi": "Hindi",
    "bn": "Bengali",
    "th": "Thai",
    "el": "Greek",
    "id": "Indonesian",
}

_ALIASES: dict[str, str] = {
    "english": "en",
    "chinese": "zh",
    "中文": "zh",
    "简体中文": "zh",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-sg": "zh",
    "繁體中文": "zh-tw",
    "zh-hant": "zh-tw",
    "zh-hk": "zh-tw",
    "japanese": "ja",
    "日本語": "ja",
    "korean": "ko",
    "한국어": "ko",
    "russian": "ru",
    "русский": "ru",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "spanish": "es",
    "español": "es",
}

_CODE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def normalize_language(value: str) -> str:
    """Return a canonical lowercase language code or raise ValueError with a hint."""
    text = value.strip().lower().replace("_", "-")
    text = _ALIASES.get(text, text)
    if not _CODE_RE.match(text):
        raise ValueError(
            f"{value.strip()[:40]!r} is not a language code (examples: en, zh, ja, de)"
        )
    return text


def base_language(code: str) -> str:
    """The primary subtag of a canonical code: ``zh-tw`` → ``zh``, ``pt-br`` → ``pt``."""
    return code.split("-")[0]


def language_name(code: str) -> str:
    """A human (and model) readable name for a canonical code."""
    return LANGUAGE_NAMES.get(code, LANGUAGE_NAMES.get(base_language(code), code))


def is_compact_script(code: str) -> bool:
    """Chinese and Japanese pack a sentence into far fewer characters, so their caps are lower."""
    return base_language(code) in {"zh", "ja"}
