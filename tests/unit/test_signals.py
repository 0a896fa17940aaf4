"""The escalation classifier's rules, on a small seed set and the hash embedder (texts that share
words are near): which reason fires, when a benign look-alike wins, what cues change, evidence."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.config import CopilotConfig
from copilot.errors import InputError, PromptError
from copilot.guardrails import screen
from copilot.retrieval.embeddings import HashEmbedder
from copilot.signals import EscalationClassifier, SeedSet, cue_signals, find_cues, load_seeds

SEEDS = SeedSet.model_validate({
    "id": "escalation/test",
    "thresholds": {"model": "hash-ngram", "semantic": 0.15, "cue": 0.0, "strong_cue": -0.5, "secondary": 0.4},
    "reasons": {
        "legal_threat": {"title": "Legal", "urgency": 0.9, "cues": ["(?i)\\blawsuit\\b", "(?i)kiện công ty"],
                         "examples": {"en": ["i will file a lawsuit against your company"]}},
        "safety": {"title": "Safety", "urgency": 1.0, "cues": [],
                   "examples": {"en": ["the heater caught fire and smoke filled the room"]}},
        "anger": {"title": "Anger", "urgency": 0.6, "cues": [],
                  "examples": {"en": ["worst service ever you are useless"]}},
    },
    "benign": {"en": ["my kindle fire tablet will not turn on", "please send the lawsuit documents invoice copy"]},
    "sentiment": {"positive": {"en": ["thank you so much great"]}, "negative": {"en": ["angry upset terrible"]},
                  "neutral": {"en": ["where is my order"]}},
    "cues": {"profanity": "(?i)\\bdamn\\b", "repeated_contact": "(?i)\\bthird time\\b", "urgent": "(?i)\\burgent\\b"},
})


class CountingHash(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=512)
        self.documents = 0
        self.queries = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        self.documents += len(texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray[Any, Any]:
        self.queries += 1
        return super().embed_query(text)


def clf(**kw: Any) -> EscalationClassifier:
    return EscalationClassifier(CountingHash(), SEEDS, **kw)


def test_similar_message_fires_its_reason_with_evidence_and_seed() -> None:
    s = clf().classify("The heater caught fire and smoke filled the kitchen")
    assert s.reasons == ["safety"]
    sig = s.escalation[0]
    assert sig.seed == "the heater caught fire and smoke filled the room"
    assert sig.evidence.startswith("The heater caught fire") and 0.5 < sig.confidence <= 1
    assert s.sentiment is not None and s.sentiment.urgency == 1.0 and s.sentiment.label == "negative"


def test_benign_look_alike_wins_over_shared_words() -> None:
    s = clf().classify("My Kindle Fire tablet will not turn on")
    assert s.escalation == [] and s.sentiment is not None and s.sentiment.urgency < 0.5


def test_a_cue_lowers_the_margin_but_never_fires_against_a_benign_neighbour() -> None:
    c = clf()
    # "lawsuit" is a cue, but the nearest example is the benign request for documents.
    assert c.classify("please send the lawsuit documents invoice copy today").escalation == []
    fired = c.classify("a lawsuit is coming your way")
    assert fired.reasons == ["legal_threat"] and fired.escalation[0].evidence == "lawsuit"


def test_unaccented_vietnamese_matches_the_marked_cue() -> None:
    cues = find_cues("toi se kien cong ty cac ban", SEEDS)
    assert cues.reasons == {"legal_threat": "kien cong ty"}
    assert find_cues("Tôi sẽ kiện công ty các bạn", SEEDS).reasons == {"legal_threat": "kiện công ty"}


def test_abuse_fires_anger_with_a_low_bar() -> None:
    s = clf().classify("WHERE IS MY PARCEL YOU PEOPLE!!! ANSWER")
    assert "anger" in s.reasons and s.escalation[0].evidence == "shouting"
    assert clf().classify("damn useless").reasons == ["anger"]


def test_polite_capitals_are_not_shouting() -> None:
    cues = find_cues("HELLO, PLEASE UPDATE MY ADDRESS. THANK YOU.", SEEDS)
    assert cues.shouting and not cues.exclamation and cues.abuse is None


@pytest.mark.parametrize(("text", "field"), [
    ("This is the third time I write", "repeated_contact"),
    ("URGENT: account locked", "urgent"),
])
def test_cues_raise_urgency(text: str, field: str) -> None:
    assert getattr(find_cues(text, SEEDS), field)
    calm = clf().classify("where is my order")
    assert calm.sentiment is not None
    s = clf().classify(text)
    assert s.sentiment is not None and s.sentiment.urgency > calm.sentiment.urgency


def test_brand_examples_add_a_reason_and_a_look_alike() -> None:
    c = clf()
    text = "the scooter brakes failed going downhill"
    assert c.classify(text).escalation == []
    extra = {"safety": ["scooter brakes failed downhill"]}
    assert c.classify(text, examples=extra).reasons == ["safety"]
    hot = "the heater caught fire sale starts friday"
    assert c.classify(hot).reasons == ["safety"]
    assert c.classify(hot, examples={"benign": ["heater fire sale starts friday"]}).escalation == []
    with pytest.raises(InputError, match="unknown escalation reason"):
        c.classify(hot, examples={"grumpy": ["x"]})


def test_seeds_are_embedded_once_per_process_and_cached_on_disk(tmp_path: Path) -> None:
    seeds = SEEDS.model_copy(update={"id": "escalation/cache-test",
                                     "benign": {"en": [*SEEDS.benign["en"], f"unique {tmp_path.name}"]}})
    first = EscalationClassifier(CountingHash(), seeds, cache_dir=tmp_path)
    first.classify("hello")
    assert first.embedder.documents > 0  # type: ignore[attr-defined]
    again = EscalationClassifier(CountingHash(), seeds)
    again.classify("hello")
    assert again.embedder.documents == 0  # type: ignore[attr-defined]
    assert list(tmp_path.glob("seeds-*.npy"))


def test_whole_message_is_embedded_as_a_query_once() -> None:
    c = clf()
    c.classify("short one")
    assert c.embedder.queries == 1  # type: ignore[attr-defined]
    c.classify("First sentence here. Second sentence there.")
    assert c.embedder.queries == 1 + 3  # type: ignore[attr-defined]


def test_huge_and_odd_input() -> None:
    c = clf()
    huge = "The heater caught fire. " + "Filler words about nothing at all. " * 5000
    s = c.classify(huge)
    assert s.reasons == ["safety"]
    assert len(c._units(huge)) == 16
    empty = c.classify("   \n  ")
    assert empty.escalation == [] and empty.sentiment is not None and empty.sentiment.label == "neutral"
    assert c.classify("!!!???").escalation == []


def test_concurrent_classification_with_brand_examples() -> None:
    c = clf()
    errors: list[BaseException] = []
    results: list[list[str]] = []

    def work(i: int) -> None:
        try:
            extra = {"safety": [f"scooter brakes failed {i % 3}"]}
            results.append(c.classify("the scooter brakes failed 1", examples=extra).reasons)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 12 and all(r == ["safety"] for r in results)


def test_screen_reports_each_reason_once_with_its_evidence() -> None:
    sig = clf().classify("a lawsuit is coming your way")
    s = screen("a lawsuit is coming your way", signals=sig)
    assert s.signals == ["legal_threat"] and s.evidence == {"legal_threat": "lawsuit"} and s.escalate
    assert s.escalation == sig.escalation and s.sentiment == sig.sentiment


def test_cue_only_screening_uses_the_shipped_phrases() -> None:
    s = cue_signals("I have filed a chargeback with my bank")
    assert s.reasons == ["chargeback"] and s.escalation[0].seed is None


def test_shipped_seeds_load_and_cover_every_reason_in_three_languages() -> None:
    seeds = load_seeds()
    assert seeds.id.startswith("escalation/v")
    for reason, spec in seeds.reasons.items():
        assert set(spec.examples) == {"en", "vi", "zh"}, reason
        assert all(len(v) >= 5 for v in spec.examples.values()), reason
    assert set(seeds.benign) == {"en", "vi", "zh"}


def test_a_broken_seed_file_is_a_clear_error(tmp_path: Path) -> None:
    def write(root: Path, body: str) -> Path:
        (root / "escalation").mkdir(parents=True)
        (root / "escalation" / "v1.yaml").write_text("name: escalation\nversion: v1\n" + body, encoding="utf-8")
        return root

    unknown = write(tmp_path / "a", "thresholds: {model: x, semantic: 0, cue: 0, strong_cue: 0, secondary: 0}\n"
                    "reasons: {grumpy: {title: G, urgency: 0.1, examples: {en: [hi]}}}\nbenign: {}\nsentiment: {}\n"
                    "cues: {profanity: x, repeated_contact: y, urgent: z}\n")
    with pytest.raises(PromptError, match="unknown escalation reasons"):
        load_seeds(root=unknown)
    with pytest.raises(PromptError, match="invalid escalation seeds: thresholds: Field required") as err:
        load_seeds(root=write(tmp_path / "b", "reasons: 3\n"))
    assert err.value.where == str(tmp_path / "b" / "escalation" / "v1.yaml")


def test_config_examples_merge_star_and_brand_and_reject_unknown_reasons() -> None:
    cfg = CopilotConfig.model_validate({"escalation_examples": {
        "*": {"safety": ["a"], "benign": ["b"]}, "acme": {"safety": ["c"]}}})
    assert cfg.escalation_examples_for("acme") == {"safety": ["a", "c"], "benign": ["b"]}
    assert cfg.escalation_examples_for("other") == {"safety": ["a"], "benign": ["b"]}
    with pytest.raises(ValueError, match="unknown escalation reason"):
        CopilotConfig.model_validate({"escalation_examples": {"acme": {"grumpy": ["x"]}}})
