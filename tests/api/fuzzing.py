"""Runs schemathesis' engine (the one behind `schemathesis run`) over the app's OpenAPI in-process and sums up what
happened: requests per operation, statuses, check failures and engine errors.

The engine is used instead of schemathesis' pytest plugin, whose lazy-fixture mode does not run on pytest 9.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.openapi import from_asgi

# positive_data_acceptance is left out on purpose: schema-valid ids of accounts that do not exist are refused (422)
# by design - a workflow must not start on them.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "negative_data_rejection",
    "ignored_auth",
)
PHASES = ("examples", "coverage", "fuzzing")  # stateful needs OpenAPI links, which this API does not declare


@dataclass
class FuzzReport:
    requests: Counter[str] = field(default_factory=Counter)  # "METHOD /path/template" -> requests sent
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    scenarios: int = 0

    def summary(self) -> dict[str, Any]:
        operations = {k: v for k, v in self.requests.items() if "(not an operation)" not in k}
        return {
            "operations": len(operations),
            "requests": sum(self.requests.values()),
            "requests_to_operations": sum(operations.values()),
            "min_requests_per_operation": min(operations.values(), default=0),
            "fewest": sorted(operations.items(), key=lambda kv: kv[1])[:3],
            "scenarios": self.scenarios,
            "failures": len(self.failures),
            "errors": len(self.errors),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "per_operation": dict(sorted(operations.items())),
        }


class Counting:
    """ASGI wrapper: counts the requests per documented operation ("METHOD /path/{template}") and the statuses."""

    def __init__(self, app: Any, report: FuzzReport) -> None:
        self.app, self.report = app, report
        templates = [(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops]
        # literal segments win over parameters, as in the router ("/decisions/calibration" is not a decision id)
        templates.sort(key=lambda t: -sum(not seg.startswith("{") for seg in t[1].split("/")))
        self.patterns = [
            (method, path, re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"))
            for method, path in templates
        ]

    def operation(self, method: str, path: str) -> str:
        for m, template, pattern in self.patterns:
            if m == method and pattern.match(path):
                return f"{m} {template}"
        return f"{method} (not an operation)"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        label = self.operation(scope["method"], scope["path"])

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.report.statuses[message["status"]] += 1
                self.report.requests[label] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def run_fuzz(app: Any, *, examples: int, seed: int, headers: dict[str, str] | None = None) -> FuzzReport:
    report = FuzzReport()
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "headers": headers or {},
            "generation": {"max-examples": examples, "mode": "all", "deterministic": True},
            "phases": {
                name: {"enabled": name in PHASES} for name in ("examples", "coverage", "fuzzing", "stateful")
            },
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS if headers or name != "ignored_auth"},
            },
        }
    )
    schema = from_asgi("/openapi.json", Counting(app, report), config=config)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            report.scenarios += 1
            if event.status == Status.FAILURE:
                for nodes in event.recorder.checks.values():
                    for node in nodes:
                        info = node.failure_info
                        if node.status == Status.FAILURE and info is not None:
                            what = f"{info.failure.title}: {info.failure.message}"
                            report.failures.append(
                                f"{event.label}: {node.name}: {what}\n{info.code_sample}"[:2000]
                            )
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.value!r}"[:2000])
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}"[:2000])
    return report
