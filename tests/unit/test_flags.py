"""Flags are defined once (copilot.flags) and the README's table documents exactly those."""

from __future__ import annotations

import re
from pathlib import Path

from copilot.flags import FLAG_HELP, Flag

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_flag_is_explained() -> None:
    assert set(FLAG_HELP) == set(Flag)


def test_the_readme_flag_table_matches_the_enum() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| flag | meaning |"):].split("\n\n", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert documented == [f.value for f in Flag]


def test_every_flag_the_code_sets_is_in_the_enum() -> None:
    package = Path(__file__).resolve().parents[2] / "copilot"
    literal = re.compile(r'flags(?:\.append\(|\s*\+=\s*\[|=\s*\[)\s*"([a-z_]+)"')
    used = {m.group(1) for p in package.rglob("*.py") for m in literal.finditer(p.read_text(encoding="utf-8"))}
    assert used <= {f.value for f in Flag}, used - {f.value for f in Flag}
