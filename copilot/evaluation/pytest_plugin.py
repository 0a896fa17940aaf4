"""pytest integration for teams who prefer assertions in tests (loaded automatically by pytest).

    def test_release_quality(copilot_suite):
        summary = copilot_suite("eval/suites/smoke.yaml", fail_under={"recall@5": 0.8})
        assert summary.passed, summary.explain()

The run folder goes under pytest's tmp_path, so reports of failed runs can be kept as artefacts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["copilot_suite"]


@pytest.fixture
def copilot_suite(tmp_path: Path) -> Callable[..., Any]:
    def run(suite: str | Path, *, fail_under: dict[str, float] | None = None) -> Any:
        from copilot.evaluation.cases import load_suite
        from copilot.evaluation.runner import run_suite

        s = load_suite(Path(suite))
        return run_suite(s, tmp_path / s.name, extra_thresholds=fail_under, progress=False)

    return run
