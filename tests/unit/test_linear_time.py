"""Every pattern that sees customer text runs in linear time: 100 kB of the strings that make
backtracking regexes quadratic ("a.a.a.a...", "<system <system ...", "password to password to ...")
takes well under the issue's 2 s of CPU in each function (a quadratic pattern takes minutes).

The redaction patterns (copilot.pii) have their own test; this covers screening, the checks,
sentence splitting, language detection, grounding and the name check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from copilot.checks.grounding import GroundingChecker, claim_sentences, unsupported_numbers
from copilot.checks.injection import InjectedText, clean_sources
from copilot.checks.links import strip_unknown_links
from copilot.checks.promises import PromiseCheck
from copilot.guardrails import screen
from copilot.language import detect_language
from copilot.models import Chunk, Hit
from copilot.names import plausible_name
from copilot.poisoning import poison_reasons
from copilot.text import split_sentences, tokenize

SIZE = 100_000
BUDGET_S = 2.0
# Each one is the worst case of some pattern family: address runs, tags without their ">", long
# words before "=", digit runs, links, whitespace runs, credential windows, hosts, promises, CJK.
ATTACKS = ["a.", "a@", "a＠", "<system ", "overrideoverride", "a_", "1.", "http://a", " ", "password to ",
           "www.", "refund 100% ", "退款"]


def _hit(text: str) -> list[Hit]:
    return [Hit(chunk=Chunk(id="ticket:x#0", source_id="ticket:x", kind="ticket", text=text, replies=[text]),
                score=1.0)]


FUNCTIONS: dict[str, Callable[[str], Any]] = {
    "screen": screen,
    "poison_reasons": lambda t: poison_reasons(trusted=t, reused=t, allowed=["acme.example"]),
    "clean_sources": lambda t: clean_sources(_hit(t), {"acme.example"}),
    "strip_unknown_links": lambda t: strip_unknown_links(t, {"acme.example"}),
    "injected_text": lambda t: InjectedText(ticket=t, injected=True, prompt=t[:2000]).echo(t),
    "claims": claim_sentences,
    "numbers": lambda t: unsupported_numbers(t, ["1 2 3"]),
    "grounding": lambda t: GroundingChecker(None).check(t, ["we refund within 2 days"]),
    "promises": lambda t: PromiseCheck().run(t, kb=["we refund within 2 days"]),
    "split_sentences": split_sentences,
    "tokenize": tokenize,
    "detect_language": detect_language,
    "plausible_name": plausible_name,
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_hostile_100kb_input_costs_linear_time(name: str) -> None:
    fn = FUNCTIONS[name]
    slow = []
    for unit in ATTACKS:
        text = (unit * (SIZE // len(unit) + 1))[:SIZE]
        t0 = time.process_time()
        fn(text)
        spent = time.process_time() - t0
        if spent > BUDGET_S:
            slow.append((unit, round(spent, 2)))
    assert slow == []
