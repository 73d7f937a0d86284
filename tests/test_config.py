"""Settings: defaults, the documented variable names, and one clear line per mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert settings.arxiv_rss_url == "https://rss.arxiv.org/rss"
    assert settings.categories == ("cs", "eess", "stat.ML")
    assert settings.llm_enabled is False
    assert settings.db_path == tmp_path / "xdg" / "paperboy" / "paperboy.db"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARXIV_API_URL", "http://127.0.0.1:9/api/query/")
    monkeypatch.setenv("PAPERBOY_CATEGORIES", " cs.CV , hep-th,cs.CV ")
    monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "x.db"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PAPERBOY_LANG", "Chinese")
    settings = load_settings()
    assert settings.arxiv_api_url == "http://127.0.0.1:9/api/query"
    assert settings.categories == ("cs.CV", "hep-th")
    assert settings.db_path == tmp_path / "x.db"
    assert settings.llm_enabled
    assert settings.language == "zh"


def test_dotenv_file_is_read_and_empty_values_mean_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PAPERBOY_DB=\nPAPERBOY_CATEGORIES=math.GT\nOPENAI_API_KEY=\n")
    settings = load_settings()
    assert settings.categories == ("math.GT",)
    assert settings.db_path.name == "paperboy.db"
    assert not settings.llm_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAPERBOY_CATEGORIES", "cs,notanarchive"),
        ("PAPERBOY_CATEGORIES", ","),
        ("ARXIV_API_URL", "ftp://example"),
        ("PAPERBOY_LLM_TIMEOUT", "soon"),
        ("PAPERBOY_LLM_CONCURRENCY", "0"),
        ("PAPERBOY_LANG", "klingon!!"),
        ("PAPERBOY_LOG_LEVEL", "LOUD"),
        ("PAPERBOY_DIGEST_MAX", "-3"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Invalid setting {name}:")


def test_env_example_documents_every_setting() -> None:
    from bot.config import Settings

    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    aliases = {f.alias for f in Settings.model_fields.values()}
    assert aliases <= documented, aliases - documented
