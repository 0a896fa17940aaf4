"""Shared helpers for the benchmark scripts: dataset readers (paths come from the command line)."""

from __future__ import annotations

import csv
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

csv.field_size_limit(sys.maxsize)


def read_tweetsumm(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_banking77(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [(row["text"], row["category"]) for row in csv.DictReader(fh)]


def read_afqmc(path: Path) -> list[tuple[str, str, int]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].strip() in {"0", "1"}:
            rows.append((parts[0].strip(), parts[1].strip(), int(parts[2])))
    return rows


def read_vicov(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="|")
        next(reader)
        return [(r[0].strip(), r[1].strip(), r[2].strip()) for r in reader if len(r) >= 3 and r[1].strip() and r[2].strip()]


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


def sample(rows: list[Any], n: int | None, seed: int = 13) -> list[Any]:
    if n is None or n >= len(rows):
        return list(rows)
    return random.Random(seed).sample(rows, n)


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    t0 = time.perf_counter()
    yield box
    box.append(time.perf_counter() - t0)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


T = TypeVar("T")


def installed(factories: dict[str, Callable[[], T | None]]) -> dict[str, T]:
    """The alternatives to compare that are installed (a factory returns None when its package is
    missing); says which were skipped."""
    out: dict[str, T] = {}
    for name, factory in factories.items():
        made = factory()
        if made is None:
            print(f"({name} not installed: skipped)")
        else:
            out[name] = made
    return out
