"""The PII red-team corpus (eval/redteam/pii_v1.jsonl): personal data in realistic customer and
agent sentences in English, Vietnamese and Chinese must not survive redaction; look-alikes must."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from copilot.errors import InputError
from copilot.privacy.redteam import ZERO_LEAK_CATEGORIES, load_pii_cases, run_pii_suite

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "redteam" / "pii_v1.jsonl"


def test_corpus_covers_the_languages_and_kinds_the_issue_names() -> None:
    cases = load_pii_cases(CORPUS)
    pii = [c for c in cases if c.category != "benign"]
    assert len(pii) >= 150 and len(cases) - len(pii) >= 60
    assert all(n >= 40 for n in Counter(c.lang for c in pii).values()) and {c.lang for c in pii} == {"en", "vi", "zh"}
    assert {"email", "phone", "card", "iban", "national_id", "passport", "ip", "dob", "name", "address",
            "order"} <= {c.category for c in pii}
    assert {"tag", "ticket_id", "subject"} <= {c.field for c in pii}
    assert len({c.id for c in cases}) == len(cases)


def test_leak_rate_is_within_target_and_zero_where_required() -> None:
    result = run_pii_suite(load_pii_cases(CORPUS))
    assert result.leak_rate <= 0.02, result.leaks
    leaked = {c.category for c in result.categories if c.held < c.tried}
    assert not leaked & ZERO_LEAK_CATEGORIES, result.leaks


def test_look_alikes_survive() -> None:
    result = run_pii_suite(load_pii_cases(CORPUS))
    assert result.false_positive_rate <= 0.03, result.false_positives


def test_the_scorer_sees_a_leak_even_when_the_separators_changed() -> None:
    cases = [c for c in load_pii_cases(CORPUS) if c.id in {"phone-vi-01", "email-en-01"}]
    result = run_pii_suite(cases, redactor=lambda t: t.replace("0912 345 678", "0912-345-678"))
    assert result.held == 0 and len(result.leaks) == 2


def test_a_bad_line_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "cases.jsonl"
    bad.write_text('{"id": "a", "category": "email", "lang": "en", "text": "x@y.z", "secrets": ["x@y.z"]}\n'
                   '{"id": "b", "category": "email", "lang": "en", "text": "nothing here", "secrets": ["q@r.s"]}\n',
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_pii_cases(bad)
    assert err.value.where == f"{bad}:2"
