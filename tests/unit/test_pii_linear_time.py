"""Every redaction pattern runs in linear time: hostile input cannot stall a worker.

The old e-mail pattern needed minutes on 100 kB of "a.a.a..." (quadratic backtracking). Here each
detector gets 100 kB of input built to make its pattern backtrack, under a CPU-time budget that
the old pattern missed by two orders of magnitude; and every quantifier in the package's patterns
must be bounded, so the guarantee does not rest on the inputs we thought of.
"""

from __future__ import annotations

import re
import time
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

import pytest

from copilot.privacy import contact, identifiers, people, redaction, spans
from copilot.privacy.redaction import DETECTORS, redact
from copilot.privacy.redteam import adversarial_inputs
from copilot.privacy.spans import Keyed, fold

SIZE = 100_000
BUDGET_PER_KIND_S = 0.5
BUDGET_ALL_KINDS_S = 2.0


@pytest.fixture(scope="module")
def inputs() -> dict[str, str]:
    return adversarial_inputs(SIZE)


@pytest.mark.parametrize("name", sorted(adversarial_inputs(10)))
def test_each_kind_stays_within_budget_on_adversarial_input(name: str, inputs: dict[str, str]) -> None:
    text = fold(inputs[name])
    slow = {}
    for kind, finder in DETECTORS.items():
        t0 = time.process_time()
        list(finder(text))
        spent = time.process_time() - t0
        if spent > BUDGET_PER_KIND_S:
            slow[kind] = round(spent, 3)
    assert not slow, f"{name}: {slow}"


def test_the_whole_redaction_stays_within_budget_on_the_worst_inputs(inputs: dict[str, str]) -> None:
    for name in ("digits_spaced", "cjk_digits", "at_signs", "spelled_at", "mixed"):
        t0 = time.process_time()
        redact(inputs[name], numbered=True)
        assert time.process_time() - t0 < BUDGET_ALL_KINDS_S, name


def _unbounded(tree: Any) -> list[str]:
    found = []
    for op, arg in tree:
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, high, sub = arg
            if high is sre_constants.MAXREPEAT:
                found.append(f"{{{low},}}")
            found += _unbounded(sub)
        elif op in (sre_constants.SUBPATTERN,):
            found += _unbounded(arg[-1])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            found += _unbounded(arg[1])
        elif op is sre_constants.BRANCH:
            for alternative in arg[1]:
                found += _unbounded(alternative)
        elif op is sre_constants.ATOMIC_GROUP:
            found += _unbounded(arg)
    return found


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for module in (contact, identifiers, people, redaction, spans):
        for name, value in vars(module).items():
            if isinstance(value, Keyed):
                value = value.pattern
            if isinstance(value, re.Pattern):
                out.append((f"{module.__name__}.{name}", value))
    return out


def test_the_walk_finds_the_patterns_and_would_catch_an_unbounded_one() -> None:
    assert len(_patterns()) >= 30
    assert _unbounded(sre_parser.parse(r"(?<![a-z])[a-z.]+@(?:x|y*)")) == ["{1,}", "{0,}"]


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=[n for n, _ in _patterns()])
def test_every_quantifier_is_bounded(name: str, pattern: re.Pattern[str]) -> None:
    assert _unbounded(sre_parser.parse(pattern.pattern, pattern.flags)) == [], name
