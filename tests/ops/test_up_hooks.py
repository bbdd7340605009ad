"""`merchflow up` with payload encryption: the embedded UI is started with the codec server's URL, and the banner
says how the UI reaches it (and, with no key, that payloads are stored in clear)."""

from __future__ import annotations

from pathlib import Path

from merchflow.crypto.keyring import new_key_text
from merchflow.launcher import planned_children
from merchflow.ops_links import links
from merchflow.settings import Settings
from merchflow.startup import LINKS


def banner(settings: Settings, _: str) -> str:
    """The banner lines this feature adds (the whole banner also needs the database of the web users)."""
    assert "merchflow.ops_links:links" in LINKS
    return "\n".join(f"{label} {value}" for label, value in links(settings))


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, environment="test", data_dir=tmp_path / "data", **extra)  # type: ignore[call-arg, arg-type]


def test_the_embedded_ui_uses_the_codec_server_when_payloads_are_encrypted(tmp_path: Path) -> None:
    plain = _settings(tmp_path)
    [temporal] = [c for c in planned_children(plain) if c.name == "temporal"]
    assert "--ui-codec-endpoint" not in temporal.argv
    assert "in clear" in banner(plain, "mf_token")

    coded = _settings(tmp_path, codec={"keys": {"k1": new_key_text()}}, api_port=8123)
    [temporal] = [c for c in planned_children(coded) if c.name == "temporal"]
    i = temporal.argv.index("--ui-codec-endpoint")
    assert temporal.argv[i + 1] == "http://127.0.0.1:8123/codec"
    text = banner(coded, "mf_token")
    assert "Codec server" in text and "http://127.0.0.1:8123/codec" in text and "/login" in text
    assert "Metrics" in text and "http://127.0.0.1:8123/metrics" in text


def test_an_existing_cluster_gets_instructions_for_its_own_ui(tmp_path: Path) -> None:
    coded = _settings(
        tmp_path, codec={"keys": {"k1": new_key_text()}}, temporal={"address": "temporal.internal:7233"}
    )
    assert not [c for c in planned_children(coded) if c.name == "temporal"]
    assert "TEMPORAL_CODEC_ENDPOINT=http://127.0.0.1:8000/codec" in banner(coded, "mf_token")
