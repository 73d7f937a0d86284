"""Settings: one frozen object read from the environment and an optional `.env` file.

Every variable is documented in `.env.example`. `load_settings()` turns validation errors into a
`ConfigError` whose single line names the offending variable, so start-up fails legibly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

# arXiv archives (the part before the dot of a category). Used to catch typos in
# PAPERBOY_CATEGORIES at start-up instead of silently watching an empty feed.
ARCHIVES = frozenset(
    {
        "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph",
        "hep-th", "math", "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin",
        "quant-ph", "stat",
    }
)  # fmt: skip
_CATEGORY_RE = re.compile(r"^(?P<archive>[a-z][a-z-]*)(\.(?P<sub>[A-Za-z][A-Za-z-]*))?$")


def _default_db_path() -> Path:
    # One database per user, not per working directory: running the CLI from another folder
    # must not forget what was already delivered.
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "paperboy" / "paperboy.db"


def parse_categories(value: str) -> tuple[str, ...]:
    """Split and check a comma-separated category list such as ``cs,eess,stat.ML``."""
    cats: list[str] = []
    for raw in value.split(","):
        cat = raw.strip()
        if not cat:
            continue
        m = _CATEGORY_RE.match(cat)
        if not m or m.group("archive") not in ARCHIVES:
            raise ValueError(
                f"{cat!r} is not an arXiv category or archive (examples: cs, cs.CV, stat.ML)"
            )
        if cat not in cats:
            cats.append(cat)
    if not cats:
        raise ValueError("at least one arXiv category is needed (for example: cs,eess,stat.ML)")
    return tuple(cats)


class Settings(BaseSettings):
    """Everything configurable. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # `NAME=` in .env (as in .env.example) means "use the default"
        frozen=True,
        populate_by_name=True,
    )

    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", alias="ARXIV_API_URL")
    arxiv_rss_url: str = Field("https://rss.arxiv.org/rss", alias="ARXIV_RSS_URL")
    # Where full text (HTML, PDF, figures) is fetched from; links shown stay https://arxiv.org.
    arxiv_site_url: str = Field("https://arxiv.org", alias="ARXIV_SITE_URL")
    # arXiv asks for one request every 3 seconds across all its services.
    arxiv_delay_seconds: float = Field(3.0, ge=0, le=600, alias="PAPERBOY_ARXIV_DELAY")
    arxiv_timeout_seconds: float = Field(30.0, gt=0, le=600, alias="PAPERBOY_ARXIV_TIMEOUT")
    arxiv_retries: int = Field(4, ge=0, le=20, alias="PAPERBOY_ARXIV_RETRIES")

    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    llm_model: str = Field("gpt-4o-mini", min_length=1, alias="PAPERBOY_LLM_MODEL")
    llm_timeout_seconds: float = Field(60.0, gt=0, le=600, alias="PAPERBOY_LLM_TIMEOUT")
    llm_concurrency: int = Field(4, ge=1, le=64, alias="PAPERBOY_LLM_CONCURRENCY")
    llm_retries: int = Field(2, ge=0, le=10, alias="PAPERBOY_LLM_RETRIES")
    # Tokens (prompt + completion, as the server reports them) per UTC day; None: no limit.
    llm_daily_tokens: int | None = Field(None, ge=1, alias="PAPERBOY_LLM_DAILY_TOKENS")

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    discord_bot_token: SecretStr | None = Field(None, alias="DISCORD_BOT_TOKEN")
    discord_api_url: str = Field("https://discord.com/api/v10", alias="DISCORD_API_URL")
    tick_seconds: float = Field(60.0, ge=1, le=3600, alias="PAPERBOY_TICK_SECONDS")

    db_path: Path = Field(default_factory=_default_db_path, alias="PAPERBOY_DB")
    categories: Annotated[tuple[str, ...], NoDecode] = Field(
        ("cs", "eess", "stat.ML"), alias="PAPERBOY_CATEGORIES"
    )
    language: str = Field("en", alias="PAPERBOY_LANG")
    digest_max_papers: int = Field(25, ge=1, le=500, alias="PAPERBOY_DIGEST_MAX")
    refresh_minutes: float = Field(30.0, ge=0, le=1440, alias="PAPERBOY_REFRESH_MINUTES")
    log_level: str = Field("INFO", alias="PAPERBOY_LOG_LEVEL")

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_categories(value)
        return value

    @field_validator(
        "arxiv_api_url",
        "arxiv_rss_url",
        "arxiv_site_url",
        "openai_base_url",
        "telegram_api_url",
        "discord_api_url",
    )
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("openai_api_key")
    @classmethod
    def _blank_key_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        from bot.summaries.languages import normalize_language

        return normalize_language(value)

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Bot API tokens look like 123456789:AA...; say so early instead of a 401 at start.
        if not re.fullmatch(r"\d{3,}:[A-Za-z0-9_-]{20,}", value.get_secret_value().strip()):
            raise ValueError("not a Bot API token (it looks like 123456789:ABC-DEF...)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("discord_bot_token")
    @classmethod
    def _check_discord_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        # Discord tokens are three dot-separated base64url parts; a pasted "Bot " prefix or
        # client secret is caught here rather than as a 401 at start-up.
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}", token):
            raise ValueError(
                "not a Discord bot token (copy it from the Bot page of your application)"
            )
        return SecretStr(token)

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None


def load_settings(**overrides: Any) -> Settings:
    """Read settings; raise `ConfigError` with one line naming the variable on any problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "settings"
        field = Settings.model_fields.get(name)
        env_name = field.alias if field is not None and field.alias else name.upper()
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"Invalid setting {env_name}: {msg}") from None
