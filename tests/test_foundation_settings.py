from __future__ import annotations

import pytest
from pydantic import ValidationError

from merchflow.settings import DEFAULT_SECRET_KEY, Settings


def make(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg, arg-type]


def test_defaults_are_embedded_and_local(tmp_path) -> None:
    s = make(data_dir=str(tmp_path))
    assert s.embedded_temporal
    assert s.temporal_target == "127.0.0.1:7233"
    assert s.sqlalchemy_url.startswith("sqlite:///") and s.sqlalchemy_url.endswith("merchflow.db")
    assert s.task_queue("main") == "merchflow-main"


def test_env_prefix_and_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCHFLOW_TEMPORAL_ADDRESS", "temporal.example:7233")
    monkeypatch.setenv("MERCHFLOW_TEMPORAL__UI_PORT", "9999")
    monkeypatch.setenv("MERCHFLOW_DATABASE_URL", "postgresql+psycopg://u:p%40ss@db/x")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not s.embedded_temporal
    assert s.temporal_target == "temporal.example:7233"
    assert s.temporal.ui_port == 9999
    assert s.sqlalchemy_url.startswith("postgresql+psycopg://")
    assert "p%40ss" not in repr(s)  # credentials are SecretStr


def test_default_secret_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="MERCHFLOW_SECRET_KEY"):
        make(environment="production")
    ok = make(environment="production", secret_key="x" * 40)
    assert ok.secret_key.get_secret_value() != DEFAULT_SECRET_KEY


def test_errors_do_not_echo_input() -> None:
    with pytest.raises(ValidationError) as err:
        make(api_port="not-a-port-secret-value")
    assert "not-a-port-secret-value" not in str(err.value)


def test_env_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MERCHFLOW_API_PORT=8123\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().api_port == 8123
