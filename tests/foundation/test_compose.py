"""temporal-dev.yml cannot run here (no Docker engine): check its wiring statically instead — services,
published ports, and that every MERCHFLOW_* name it sets is a real setting that parses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from merchflow.settings import Settings
from merchflow.settings_doc import env_name_exists

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "temporal-dev.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _published(service: dict[str, Any]) -> dict[int, int]:
    """host port -> container port"""
    out = {}
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        out[int(parts[-2])] = int(parts[-1])
    return out


def _command(service: dict[str, Any]) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def test_services_are_all_there() -> None:
    assert {"postgres", "temporal", "temporal-ui", "worker", "api"} <= set(SERVICES)
    for name, service in SERVICES.items():
        deps = service.get("depends_on", [])
        assert set(deps) <= set(SERVICES), f"{name} depends on unknown services"


def test_temporal_persists_in_the_compose_postgres() -> None:
    temporal = SERVICES["temporal"]
    assert temporal["image"].startswith(("temporalio/auto-setup:", "temporalio/server:"))
    env = _env(temporal)
    assert env["DB"].startswith("postgres")
    assert env["POSTGRES_SEEDS"] == "postgres"
    pg = _env(SERVICES["postgres"])
    assert env["POSTGRES_USER"] == pg["POSTGRES_USER"] and env["POSTGRES_PWD"] == pg["POSTGRES_PASSWORD"]
    assert _published(temporal) == {7233: 7233}


def test_ports_match_the_embedded_defaults() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert _published(SERVICES["temporal-ui"]) == {defaults.temporal.ui_port: 8080}
    assert _env(SERVICES["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"
    api_env = _env(SERVICES["api"])
    assert _published(SERVICES["api"]) == {defaults.api_port: int(api_env["MERCHFLOW_API_PORT"])}
    assert api_env["MERCHFLOW_API_HOST"] == "0.0.0.0"  # reachable through the published port
    assert _published(SERVICES["postgres"]) == {5432: 5432}


def test_worker_and_api_run_the_merchflow_image_built_here() -> None:
    for name, role in (("worker", "merchflow worker"), ("api", "merchflow api")):
        service = SERVICES[name]
        assert service["build"]["context"] == "."
        assert (REPO / service["build"].get("dockerfile", "Dockerfile")).is_file()
        assert _command(service) == role
    assert "merchflow migrate" in _command(SERVICES["migrate"])
    # uploads stored by the API must be readable by the worker
    assert set(SERVICES["api"]["volumes"]) & set(SERVICES["worker"]["volumes"])


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_merchflow_env_name_is_a_setting(service: str) -> None:
    names = [k for k in _env(SERVICES[service]) if k.startswith("MERCHFLOW_")]
    unknown = [n for n in names if not env_name_exists(n)]
    assert not unknown, f"{service}: not in the Settings class: {unknown}"


@pytest.mark.parametrize("service", ["worker", "api", "migrate"])
def test_merchflow_services_settings_parse_and_point_at_the_compose_cluster(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("MERCHFLOW_")]:
        monkeypatch.delenv(key)
    for key, value in _env(SERVICES[service]).items():
        monkeypatch.setenv(key, value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not s.embedded_temporal and s.temporal_target == "temporal:7233"
    url = s.sqlalchemy_url
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    assert str(s.data_dir) == "/data"


def test_env_name_check_rejects_typos() -> None:
    assert env_name_exists("MERCHFLOW_TEMPORAL__UI_PORT") and env_name_exists("MERCHFLOW_API_PORT")
    assert not env_name_exists("MERCHFLOW_TEMPORAL__UIPORT")
    assert not env_name_exists("MERCHFLOW_API_PORTS")
    assert not env_name_exists("TEMPORAL_ADDRESS")


# ---------------------------------------------------------------- metrics
def test_prometheus_scrapes_the_api_every_worker_and_temporal() -> None:
    prom = SERVICES["prometheus"]
    mounts = {v.split(":")[1]: REPO / v.split(":")[0] for v in prom["volumes"] if v.startswith("./")}
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    api_env = _env(SERVICES["api"])
    assert jobs["merchflow-api"]["static_configs"][0]["targets"] == [f"api:{api_env['MERCHFLOW_API_PORT']}"]
    worker_env = _env(SERVICES["worker"])
    [dns] = jobs["merchflow-worker"]["dns_sd_configs"]
    assert dns["names"] == ["worker"] and dns["port"] == int(worker_env["MERCHFLOW_METRICS__WORKER_PORT"])
    assert (
        worker_env["MERCHFLOW_METRICS__WORKER_HOST"] == "0.0.0.0"
    )  # reachable from the prometheus container
    temporal_metrics = _env(SERVICES["temporal"])["PROMETHEUS_ENDPOINT"].rsplit(":", 1)[1]
    assert jobs["temporal-server"]["static_configs"][0]["targets"] == [f"temporal:{temporal_metrics}"]
    assert _published(prom) == {9090: 9090} and _published(SERVICES["grafana"]) == {3000: 3000}


def test_grafana_provisions_the_dashboard_kept_in_the_repo() -> None:
    import json
    import re

    from prometheus_client import REGISTRY

    import merchflow.telemetry.metrics  # noqa: F401

    graf = SERVICES["grafana"]
    mounts = {v.split(":")[1]: REPO / v.split(":")[0] for v in graf["volumes"] if v.startswith("./")}
    provisioning, dashboards = mounts["/etc/grafana/provisioning"], mounts["/var/lib/grafana/dashboards"]
    [ds] = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"]
    assert ds["url"] == "http://prometheus:9090"
    [provider] = yaml.safe_load((provisioning / "dashboards/merchflow.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((dashboards / "merchflow.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert all(t["datasource"]["uid"] == ds["uid"] for p in dashboard["panels"] for t in p["targets"])
    # every merchflow series a panel asks for is one the code exports
    known = {m.name for m in REGISTRY.collect()} | {
        "merchflow_decisions_pending",
        "merchflow_decisions_pending_oldest_seconds",
    }
    used = {
        re.sub(r"_(total|bucket|count|sum)$", "", n)
        for e in exprs
        for n in re.findall(r"merchflow_[a-z_]+", e)
    }
    assert used and used <= known, used - known
    # the dashboard covers every business family
    assert {n for n in known if n.startswith("merchflow_")} <= used
