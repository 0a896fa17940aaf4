"""Sentence-level grounding: claims need a supporting source sentence."""

from __future__ import annotations

from collections.abc import Sequence

from copilot.checks.grounding import GroundingChecker, claim_sentences, is_claim
from copilot.checks.judge import llm_judge
from copilot.retrieval.embeddings import HashEmbedder

SOURCE = "Refund timing\nWe issue the refund within 2 business days. Banks take 5 to 7 days to show it."


def test_claims_are_policies_amounts_time_frames_and_promises() -> None:
    assert is_claim("Refunds take 5 business days.")
    assert is_claim("We will replace it for free.")
    assert is_claim("Chúng tôi sẽ hoàn tiền trong vòng 7 ngày.")
    assert is_claim("退款将在3个工作日内到账。")
    assert not is_claim("Thanks for reaching out.")
    assert not is_claim("Could you send me a photo of the label?")
    assert claim_sentences("Thanks for writing. Refunds take 2 days.") == ["Refunds take 2 days."]


def test_paraphrase_with_the_sources_words_is_supported() -> None:
    g = GroundingChecker(HashEmbedder()).check("The refund is issued within 2 business days.", [SOURCE])
    assert g.claims == 1 and g.unsupported == [] and g.supported_share == 1.0


def test_invented_policy_is_unsupported() -> None:
    g = GroundingChecker(HashEmbedder()).check("We give every customer a free lifetime warranty.", [SOURCE])
    assert g.unsupported == ["We give every customer a free lifetime warranty."] and g.supported_share == 0.0


def test_a_close_paraphrase_with_another_number_is_unsupported() -> None:
    g = GroundingChecker(HashEmbedder()).check("We issue the refund within 9 business days.", [SOURCE])
    assert g.unsupported == ["We issue the refund within 9 business days."]


def test_no_sources_means_every_claim_is_unsupported_and_non_claims_pass() -> None:
    g = GroundingChecker(HashEmbedder()).check("Thanks for writing! Refunds take 2 business days.", [])
    assert g.claims == 1 and g.unsupported == ["Refunds take 2 business days."]


def test_dense_support_uses_the_embedders_calibration() -> None:
    class Same(HashEmbedder):
        """Every text is the same point: the dense check always supports."""

        def embed_documents(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
            import numpy as np

            return np.ones((len(texts), 4), dtype=np.float32) / 2

    claim = "Once processed, your money comes back by the original refund method."
    assert GroundingChecker(Same()).check(claim, [SOURCE]).unsupported == []
    assert GroundingChecker(HashEmbedder()).check(claim, [SOURCE]).unsupported == [claim]


def test_the_judge_only_sees_what_both_checks_rejected() -> None:
    asked: list[str] = []

    def judge(claim: str, sources: Sequence[str]) -> bool:
        asked.append(claim)
        return "voucher" in claim

    g = GroundingChecker(HashEmbedder(), judge=judge).check(
        "We issue the refund within 2 business days. You get a voucher worth a lot. We ship free forever.", [SOURCE])
    assert asked == ["You get a voucher worth a lot.", "We ship free forever."]
    assert g.unsupported == ["We ship free forever."]


def test_llm_judge_reads_json_and_fails_safe() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    yes = llm_judge(FakeListChatModel(responses=['{"supported": true}']))
    assert yes("Refunds take 2 business days.", [SOURCE]) is True
    garbled = llm_judge(FakeListChatModel(responses=["I think so"]))
    assert garbled("Refunds take 2 business days.", [SOURCE]) is False


def test_a_source_must_use_the_claims_policy_words() -> None:
    """Vietnamese/Chinese share many common syllables with any source: the claim's terms decide."""
    source = "Chào bạn, cảm ơn bạn đã kiên nhẫn chờ. Chúng tôi hoàn tiền trong vòng 2 ngày làm việc."
    g = GroundingChecker(HashEmbedder()).check("Chúng tôi sẽ tặng bạn một thẻ quà tặng miễn phí để cảm ơn.", [source])
    assert len(g.unsupported) == 1
    assert GroundingChecker(HashEmbedder()).check("Chúng tôi hoàn tiền trong vòng 2 ngày làm việc.", [source]).unsupported == []


def test_links_and_sign_offs_are_not_claims() -> None:
    reply = ("We issue the refund within 2 business days.\n\nYou can find the full details here: "
             "https://help.acme.example/refunds\n\nWarm regards,\nThe Acme team")
    assert claim_sentences(reply) == ["We issue the refund within 2 business days."]
    g = GroundingChecker(HashEmbedder()).check(reply, [SOURCE])
    assert g.claims == 1 and g.unsupported == []


def test_sentences_without_content_words_are_never_backed_and_never_crash() -> None:
    # Found under load: a reused "Yes!" divided by its zero content words (HTTP 500).
    checker = GroundingChecker(None)
    assert checker.backing(["Yes!", "🙂", "Hi there!", "—", "We are."], ["We refund within 2 days."]) == [None] * 5
