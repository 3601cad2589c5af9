"""Counters and histograms in the Prometheus text format, one registry per app (no global state).

With ``--workers N`` each worker process has its own registry: a scrape sees the worker that answered,
so sum per-worker series by their ``pid`` label (or run one worker per port behind the scraper).
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_left
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1


def _fmt_labels(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels)
    return "{" + ",".join(escaped) + "}"


class Metrics:
    """A small thread-safe registry: ``inc`` counters, ``set`` gauges, ``observe`` histograms."""

    def __init__(self, prefix: str = "numberplate"):
        self.prefix = prefix
        self._lock = threading.Lock()
        self._help: dict[str, tuple[str, str]] = {}
        self._values: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}
        self._pid = str(os.getpid())

    def describe(self, name: str, kind: str, text: str) -> None:
        self._help[name] = (kind, text)

    def inc(self, name: str, labels: dict | None = None, value: float = 1.0) -> None:
        key = tuple(sorted((labels or {}).items()))
        with self._lock:
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + value

    def set(self, name: str, value: float, labels: dict | None = None) -> None:
        with self._lock:
            self._values.setdefault(name, {})[tuple(sorted((labels or {}).items()))] = value

    def observe(self, name: str, value: float, labels: dict | None = None,
                buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        key = tuple(sorted((labels or {}).items()))
        with self._lock:
            self._histograms.setdefault(name, {}).setdefault(key, _Histogram(buckets)).observe(value)

    def value(self, name: str, labels: dict | None = None) -> float:
        return self._values.get(name, {}).get(tuple(sorted((labels or {}).items())), 0.0)

    def render(self) -> str:
        """The registry in the Prometheus text exposition format (version 0.0.4)."""
        lines = []
        pid = (("pid", self._pid),)
        with self._lock:
            for name in sorted(set(self._values) | set(self._histograms)):
                full = f"{self.prefix}_{name}"
                kind, text = self._help.get(name, ("untyped", ""))
                if text:
                    lines.append(f"# HELP {full} {text}")
                lines.append(f"# TYPE {full} {kind}")
                for labels, value in sorted(self._values.get(name, {}).items()):
                    lines.append(f"{full}{_fmt_labels(labels + pid)} {value:g}")
                for labels, hist in sorted(self._histograms.get(name, {}).items()):
                    cumulative = 0
                    for bound, count in zip(hist.buckets + (float("inf"),), hist.counts):
                        cumulative += count
                        le = "+Inf" if bound == float("inf") else f"{bound:g}"
                        lines.append(f"{full}_bucket{_fmt_labels(labels + pid + (('le', le),))} {cumulative}")
                    lines.append(f"{full}_sum{_fmt_labels(labels + pid)} {hist.total:.6f}")
                    lines.append(f"{full}_count{_fmt_labels(labels + pid)} {hist.count}")
        return "\n".join(lines) + "\n"
