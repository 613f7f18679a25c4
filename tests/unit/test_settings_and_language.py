"""Settings from GRID_ variables, the production secret guard, and Accept-Language."""

import pytest
from pydantic import ValidationError

from app.core.config import DEV_SECRET_KEY, AuthSettings, Settings
from app.core.i18n import pick_language

KEY = "Xq7-vR2pLm9sT4wZ8yB1nK6dF3hJ0cGe5uA-2f"


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRID_ENV", "production")
    monkeypatch.delenv("GRID_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="GRID_SECRET_KEY"):
        Settings()
    for weak in ("short", " " * 40, "a" * 45, "abababababababababababababababababab"):
        with pytest.raises(ValidationError):
            Settings(auth=AuthSettings(secret_key=weak))


def test_production_accepts_a_real_secret_and_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRID_ENV", "production")
    monkeypatch.setenv("GRID_SECRET_KEY", KEY)
    monkeypatch.setenv("GRID_DATABASE_URL", "postgresql+asyncpg://u@db/grid")
    monkeypatch.setenv("GRID_AUTO_DISPATCH", "false")
    with pytest.raises(ValidationError, match="GRID_PUBLIC_URL must be set"):
        Settings()  # links would come from the Host header any client sets
    monkeypatch.setenv("GRID_PUBLIC_URL", "https://grid.example.cn/")
    s = Settings()
    assert (s.env, s.auth.secret_key, s.database.database_url, s.workflow.auto_dispatch) == (
        "production",
        KEY,
        "postgresql+asyncpg://u@db/grid",
        False,
    )
    assert not s.database.is_sqlite


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "grid.example.cn", "https://", "https://a/?x=1", "ftp://a/"]
)
def test_a_public_url_must_be_an_http_address(url: str) -> None:
    with pytest.raises(ValidationError, match="GRID_PUBLIC_URL"):
        Settings(public_url=url)


def test_an_empty_or_short_secret_is_refused_in_any_environment() -> None:
    for key in ("", "short"):
        with pytest.raises(ValidationError, match="GRID_SECRET_KEY"):
            Settings(env="development", auth=AuthSettings(secret_key=key))


def test_development_runs_with_the_dev_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRID_ENV", raising=False)
    monkeypatch.delenv("GRID_SECRET_KEY", raising=False)
    assert Settings().auth.secret_key == DEV_SECRET_KEY


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.3, zh-TW;q=0.8", "zh"),
        ("de", "zh"),
        ("en;q=0", "zh"),
        ("en;q=abc", "zh"),
    ],
)
def test_accept_language(header: str | None, lang: str) -> None:
    assert pick_language(header) == lang
