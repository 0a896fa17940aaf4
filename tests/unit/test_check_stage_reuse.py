"""The check stage's rules for every drafter: a claim copied from one past ticket is not grounded by
that ticket, another case's leftovers go, questions about what the customer gave go; the pipeline
maps confidence through the brand's calibration and flags low confidence. Texts written for these
tests."""

from __future__ import annotations

from copilot.brand import BrandProfile
from copilot.calibration import Calibration
from copilot.checks import CheckContext, CheckStage, GroundingChecker, SourceText
from copilot.drafting.base import Draft, DraftRequest
from copilot.flags import Flag
from copilot.guardrails import screen
from copilot.models import Citation, Message, Ticket
from copilot.pipeline import DraftPipeline
from copilot.retrieval.embeddings import HashEmbedder

STAGE = CheckStage(GroundingChecker(HashEmbedder()))
OLD = "ticket:t1"


def run(body: str, *, ticket: str = "my parcel has not arrived", sources: dict[str, str] | None = None,
        profile: BrandProfile | None = None) -> tuple[str, list[str], list[str]]:
    sources = sources if sources is not None else {OLD: "late parcel\nThe credits have now been issued to your account."}
    ctx = CheckContext(brand="shop", profile=profile or BrandProfile(use_greeting=False, use_sign_off=False),
                       sources={k: SourceText(k, v) for k, v in sources.items()}, ticket_text=ticket)
    cites = [Citation(source_id=k, kind="ticket" if k.startswith("ticket:") else "article", snippet=v[:40])
             for k, v in sources.items()]
    out = STAGE.run(body, language="en", citations=cites, confidence=0.8, ctx=ctx, strict=False)
    return out.reply, out.flags, out.unsupported_claims


def test_a_claim_from_one_past_ticket_is_not_grounded_by_it() -> None:
    _, flags, unsupported = run("Sorry about that. The credits have now been issued to your account.")
    assert Flag.UNSUPPORTED_CLAIM in flags and unsupported == ["The credits have now been issued to your account."]


def test_two_tickets_or_an_article_ground_a_claim() -> None:
    claim = "Refunds reach your card within 5 business days."
    two = {OLD: f"q\n{claim}", "ticket:t2": f"other q\n{claim}"}
    assert run(claim, sources=two)[2] == []
    assert run(claim, sources={"article:refunds": f"Refunds\n{claim}"})[2] == []
    # A number only one past ticket states is an invented detail: the sentence goes.
    reply, flags, _ = run(f"Sorry about that! {claim}", sources={OLD: f"q\n{claim}"})
    assert reply == "Sorry about that!" and Flag.UNSUPPORTED_CLAIM in flags


def test_another_cases_names_signatures_and_products_go_for_every_drafter() -> None:
    reply, flags, _ = run("That shouldn't happen, Marta! Is your Apple Watch charged? Please DM us. ^KD")
    assert reply == "That shouldn't happen! Please DM us." and Flag.LEFTOVER_REMOVED in flags
    # The customer's own name and product are theirs.
    mine, flags, _ = run("Is your Apple Watch charged, Marta?", ticket="Hi, I'm Marta, my Apple Watch is dead")
    assert mine == "Is your Apple Watch charged, Marta?" and Flag.LEFTOVER_REMOVED not in flags
    thread, _, _ = run("Thanks for waiting. Regarding your DM, we checked. Our team 1/2")
    assert thread == "Thanks for waiting."


def test_a_question_about_what_the_customer_gave_goes() -> None:
    reply, flags, _ = run("Sorry about the wait! Could you send us your order number?",
                          ticket="order 88123 has not arrived")
    assert reply == "Sorry about the wait!" and Flag.ASKS_GIVEN_REMOVED in flags
    # Nothing else to say: the sentence stays and the flag tells the agent.
    alone, flags, _ = run("Could you send us your order number?", ticket="order 88123 has not arrived")
    assert alone == "Could you send us your order number?" and Flag.ASKS_GIVEN_REMOVED in flags


class _Fixed:
    name = "embedded"
    prompt_text = ""

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence

    def draft(self, request: DraftRequest, on_partial: object = None) -> Draft:
        return Draft(body="Which device do you use?", language="en", citations=[], confidence=self.confidence)

    def holding(self, request: DraftRequest) -> Draft:
        return Draft(body="Let me check.", language="en", citations=[], confidence=0.1, flags=[Flag.NO_EVIDENCE])


def test_the_pipeline_maps_confidence_through_the_brands_calibration() -> None:
    text = "the app keeps crashing"
    req = DraftRequest(ticket=Ticket(messages=[Message(author="customer", body=text)]), query=text, language="en",
                       brand="shop", profile=BrandProfile(), hits=[], screening=screen(text))
    strict = Calibration(points=[(0.0, 0.0), (0.3, 0.1), (1.0, 0.3)], threshold=0.45)
    d = _Fixed(0.3)
    out = DraftPipeline([d], STAGE, holding=d.holding, calibration=lambda brand: strict).run(req)
    assert out.raw_confidence == 0.3 and out.checked.confidence == 0.1 and Flag.LOW_CONFIDENCE in out.checked.flags
    kind = Calibration(points=[(0.0, 0.5), (1.0, 0.9)], threshold=0.45)
    out = DraftPipeline([d], STAGE, holding=d.holding, calibration=lambda brand: kind).run(req)
    assert Flag.LOW_CONFIDENCE not in out.checked.flags
    # Another drafter's confidence is not this map's business.
    other = Calibration(drafter="llm", points=[(0.0, 0.0), (1.0, 0.0)])
    out = DraftPipeline([d], STAGE, holding=d.holding, calibration=lambda brand: other).run(req)
    assert Flag.LOW_CONFIDENCE not in out.checked.flags and out.checked.confidence == out.raw_confidence
