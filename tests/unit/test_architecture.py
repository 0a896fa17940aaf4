"""The seams of the package, checked: what may import what (see the README's architecture notes).

- no import cycle between modules (imports inside functions count: a lazy import is still a dependency);
- an integration imports no other integration, nor ``retrieval/``, ``drafting/`` or the feedback store:
  it parses, calls the application layer (``copilot.service.Copilot``) and renders;
- evaluation uses the same public interface: no ``retrieval/`` or ``drafting/`` internals.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "copilot"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> Iterator[str]:
    """Every copilot module a file imports, at any depth, resolved to a module of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        for name in names:
            if name.split(".")[0] != "copilot":
                continue
            while name and name not in MODULES:  # "copilot.models.Ticket" -> "copilot.models"
                name = name.rpartition(".")[0]
            if name:
                yield name


GRAPH = {m: set(_imports(p)) - {m} for m, p in MODULES.items()}


def _edges(prefix: str) -> Iterator[tuple[str, str]]:
    for m, deps in GRAPH.items():
        if m == prefix or m.startswith(prefix + "."):
            for d in sorted(deps):
                yield m, d


def test_the_graph_is_real() -> None:
    # Guard against a checker that sees nothing: the facade imports the composition root.
    assert "copilot.composition" in GRAPH["copilot.service"] and len(MODULES) > 50


def test_no_import_cycles() -> None:
    # Package __init__ files re-export their own modules: an edge into a parent package is not a cycle.
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in GRAPH.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d):], d])
            elif d not in state:
                visit(d, [*stack, d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


INTEGRATIONS = sorted({m.split(".")[2] for m in MODULES if m.startswith("copilot.integrations.") and
                       m.count(".") >= 2})


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_an_integration_only_talks_to_the_application_layer(integration: str) -> None:
    here = f"copilot.integrations.{integration}"
    forbidden = ("copilot.retrieval", "copilot.drafting", "copilot.feedback", "copilot.checks", "copilot.lifecycle",
                 "copilot.composition", "copilot.jobs", "copilot.helpdesks")
    bad = [(m, d) for m, d in _edges(here)
           if d.startswith(forbidden) or (d.startswith("copilot.integrations.") and not d.startswith(here))]
    assert bad == []


def test_evaluation_uses_the_public_interface() -> None:
    # The retrieval package's own public names (the input loaders) are fine; its modules are not.
    bad = [(m, d) for m, d in _edges("copilot.evaluation")
           if d.startswith(("copilot.retrieval.", "copilot.drafting"))]
    assert bad == []


def test_there_are_integrations_to_check() -> None:
    assert {"http", "slack", "sidebar"} <= set(INTEGRATIONS)
