"""The Temporal SDK's runtime metrics in prometheus-client's registry, through the SDK's MetricBuffer.

The SDK could serve Prometheus itself, but on a port of its own: one more port per worker process to choose,
keep free and scrape. Buffered instead, the SDK's counters, gauges and histograms are drained here (every second
and at each scrape) and exposed by the worker's one /metrics endpoint under the names the SDK's own Prometheus exporter uses
(`temporal_workflow_completed_total`, `temporal_activity_execution_latency_bucket` in seconds, ...).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    MetricBuffer,
    MetricBufferDurationFormat,
)

BUFFER_SIZE = 50_000  # updates between two drains (one second); the SDK drops what does not fit
# seconds: task and activity latencies from a millisecond to a minute (durations come in seconds, see below)
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Labels = tuple[tuple[str, str], ...]


class _Hist:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # last: +Inf
        self.sum = 0.0

    def observe(self, v: float) -> None:
        self.sum += v
        for i, edge in enumerate(BUCKETS):
            if v <= edge:
                self.counts[i] += 1
                return
        self.counts[-1] += 1


class SdkMetrics(Collector):
    def __init__(self) -> None:
        self.buffer = MetricBuffer(BUFFER_SIZE, duration_format=MetricBufferDurationFormat.SECONDS)
        self._lock = threading.Lock()
        self._meta: dict[str, tuple[int, str, str]] = {}  # name -> (kind, description, unit)
        self._values: dict[str, dict[Labels, Any]] = {}
        self._labels: dict[int, Labels] = {}  # id(attributes) -> labels; the SDK reuses the objects
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._drain_loop, name="sdk-metrics", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _drain_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.drain()

    def _key(self, attributes: Mapping[str, Any]) -> Labels:
        key = self._labels.get(id(attributes))
        if key is None:
            key = tuple(sorted((k, str(v)) for k, v in attributes.items()))
            self._labels[id(attributes)] = key
        return key

    def drain(self) -> None:
        with self._lock:
            for u in self.buffer.retrieve_updates():
                m = u.metric
                name = m.name if m.name.startswith("temporal_") else f"temporal_{m.name}"
                self._meta.setdefault(name, (m.kind, m.description or name, m.unit or ""))
                series = self._values.setdefault(name, {})
                key = self._key(u.attributes)
                if m.kind == BUFFERED_METRIC_KIND_COUNTER:
                    series[key] = series.get(key, 0) + u.value
                elif m.kind == BUFFERED_METRIC_KIND_GAUGE:
                    series[key] = u.value
                else:
                    hist = series.get(key)
                    if hist is None:
                        hist = series[key] = _Hist()
                    hist.observe(float(u.value))

    def describe(self) -> list[Any]:
        return []  # names are only known once the SDK reports them

    def collect(self) -> Iterator[Any]:
        self.drain()
        with self._lock:
            for name, (kind, doc, _) in sorted(self._meta.items()):
                series = self._values.get(name, {})
                names = sorted({k for labels in series for k, _ in labels})
                if kind == BUFFERED_METRIC_KIND_COUNTER:
                    fam: Any = CounterMetricFamily(name.removesuffix("_total"), doc, labels=names)
                    for labels, v in series.items():
                        fam.add_metric(_values(labels, names), v)
                elif kind == BUFFERED_METRIC_KIND_GAUGE:
                    fam = GaugeMetricFamily(name, doc, labels=names)
                    for labels, v in series.items():
                        fam.add_metric(_values(labels, names), v)
                else:
                    fam = HistogramMetricFamily(name, doc, labels=names)
                    for labels, h in series.items():
                        cumulative, buckets = 0, []
                        for edge, n in zip([*map(str, BUCKETS), "+Inf"], h.counts, strict=True):
                            cumulative += n
                            buckets.append((edge, cumulative))
                        fam.add_metric(_values(labels, names), buckets, h.sum)
                yield fam


def _values(labels: Labels, names: list[str]) -> list[str]:
    d = dict(labels)
    return [d.get(n, "") for n in names]
