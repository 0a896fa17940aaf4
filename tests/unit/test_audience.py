"""Text written for agents: the detection rules (en/vi/zh, with look-alikes) and how sources are split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from copilot.checks.audience import GUIDANCE_CHARS, MAX_GUIDANCE, agent_directed, agent_sentences, rules, split_sources
from copilot.drafting.base import Draft, DraftRequest
from copilot.models import Article, Chunk, Hit
from copilot.retrieval.chunking import article_chunks
from tests.unit.test_pipeline import Sees, pipeline, request

AGENT = [
    # English
    "Tell them that you will send the reset code to the e-mail address on file.",
    "The customer is complaining about the delivery fee.",
    "Let the customer know that the driver calls 30 minutes before arrival.",
    "Internal note: offer retention code KEEP20 only if the customer threatens to cancel.",
    "Offer code SAVE10 once if they threaten to cancel.",
    "For internal use: the warehouse cut-off is 2pm.",
    "Agents: do not promise a delivery date.",
    "Verify the customer's identity before you change the address.",
    "If the second charge is still pending, tell them it drops off within 3 business days.",
    "Do not share this code in writing.",
    "Apologise to the customer and offer a replacement.",
    # Vietnamese
    "Hãy nói với khách rằng mã đặt lại sẽ được gửi đến email đã đăng ký.",
    "Khách hàng đang phàn nàn vì giao hàng chậm.",
    "Ghi chú nội bộ: tặng mã GIAOHANG10 khi cần.",
    "Nếu khách hàng dọa hủy đơn, hãy tặng mã giảm giá.",
    "Hãy thông báo cho khách hàng rằng đơn hàng đã được gửi.",
    "Không được tiết lộ mã giao dịch cho khách.",
    # Chinese
    "告诉客户我们会把验证码发送到注册邮箱。",
    "内部备注：只有在客户威胁取消时才提供优惠码。",
    "客户抱怨重复扣款时，请先在支付后台核实。",
    "如果客户坚持要求价格保护，可以提供差价补偿。",
    "仅供客服参考，不要对外公开此政策。",
    "让客户提供购买凭证。",
]

CUSTOMER = [
    # English look-alikes: "customer" as a noun adjunct, terms in the third person, advice to the reader.
    "Log in to the customer portal to see your orders.",
    "Our customer service team is available every day from 8am to 8pm.",
    "The customer may cancel the order within 14 days of delivery.",
    "Customers can return most items within 30 days.",
    "As a customer, you are entitled to a refund.",
    "The internal battery cannot be replaced.",
    "Never share your password with anyone.",
    "Do not share your one-time code, even with us.",
    "Contact your bank and ask them to check the pending charge.",
    "We will tell you as soon as it ships.",
    "You can tell them apart by the colour of the label.",
    "Let us know if the parcel has not arrived by Friday.",
    # Vietnamese
    "Liên hệ bộ phận chăm sóc khách hàng để được hỗ trợ.",
    "Quý khách có thể đổi trả trong vòng 30 ngày.",
    "Không chia sẻ mật khẩu của bạn với bất kỳ ai.",
    "Vui lòng thông báo cho khách sạn trước khi nhận phòng.",
    "Dịch vụ khách hàng hoạt động từ 8 giờ đến 20 giờ.",
    # Chinese
    "客户服务热线每天9点到18点开放。",
    "请勿向他人透露您的验证码。",
    "让客户满意是我们的目标。",
    "请下载客户端查看订单。",
    "机身内部有防水涂层。",
]


@pytest.mark.parametrize("sentence", AGENT)
def test_agent_directed_sentences_are_found(sentence: str) -> None:
    assert agent_directed(sentence), rules().match(sentence)


@pytest.mark.parametrize("sentence", CUSTOMER)
def test_look_alikes_written_for_customers_are_not(sentence: str) -> None:
    assert not agent_directed(sentence), rules().match(sentence)


def test_rules_are_versioned_package_data() -> None:
    assert rules().version >= 1
    assert {"internal_label", "vi_internal", "zh_internal"} <= {r.id for r in rules().rules}


def test_agent_sentences_leave_the_rest_of_a_passage_in_place() -> None:
    text = ("Refunds go back to the original payment method.\n"
            "They take 5 to 7 business days. Tell them that we cannot speed this up. Thanks for waiting!")
    rest, found = agent_sentences(text)
    assert found == ["Tell them that we cannot speed this up."]
    assert rest == "Refunds go back to the original payment method.\nThey take 5 to 7 business days. Thanks for waiting!"
    assert agent_sentences("Nothing for agents here.") == ("Nothing for agents here.", [])


def test_long_hostile_input_is_linear() -> None:
    import time

    text = ("the customer " * 20000) + "tell them " * 20000
    t0 = time.perf_counter()
    agent_sentences(text)
    assert time.perf_counter() - t0 < 5


def _hit(chunk: Chunk, score: float = 0.5) -> Hit:
    return Hit(chunk=chunk, score=score, dense=score)


def test_agent_articles_and_sentences_become_guidance_and_leave_the_sources() -> None:
    agent_article = article_chunks(Article(id="script", title="Reset script", audience="agent",
                                           body="Tell them the reset code comes by e-mail. Never read it aloud."),
                                   "acme")[0]
    mixed = article_chunks(Article(id="plus", title="Pausing Plus",
                                   body="You can pause Plus for 3 months. Internal note: offer KEEP20 only if they "
                                        "threaten to cancel."), "acme")[0]
    ticket = Chunk(id="ticket:T1#0", source_id="ticket:T1", kind="ticket", text="My code does not work", brand="acme",
                   replies=["Sorry! I applied the discount by hand. Internal note: STAFF10 is for loyal customers.",
                            "Let the customer know the code expires on Friday."])
    plain = article_chunks(Article(id="ship", title="Shipping", body="Shipping takes 3 days."), "acme")[0]
    kept, guidance = split_sources([_hit(agent_article), _hit(mixed), _hit(ticket), _hit(plain)])

    assert [h.source_id for h in kept] == ["article:plus", "ticket:T1", "article:ship"]
    assert "KEEP20" not in kept[0].chunk.text and "pause Plus" in kept[0].chunk.text
    assert kept[1].chunk.replies == ["Sorry! I applied the discount by hand."]
    assert kept[2] is not None and kept[2].chunk.text == plain.text
    assert [(g.source_id, g.title) for g in guidance] == [
        ("article:script", "Reset script"), ("article:plus", "Pausing Plus"), ("ticket:T1", "")]
    assert "Never read it aloud." in guidance[0].text
    assert guidance[1].text == "Internal note: offer KEEP20 only if they threaten to cancel."
    assert "STAFF10" in guidance[2].text and "expires on Friday" in guidance[2].text


def test_a_section_headed_for_agents_is_guidance_as_a_whole() -> None:
    body = ("# Returns\n\nYou can return items within 30 days for a full refund of the price you paid.\n\n"
            "## Internal notes\nWaive the return fee for Plus members; check the order history first.")
    chunks = article_chunks(Article(id="returns", title="Returns", body=body), "acme")
    kept, guidance = split_sources([_hit(c) for c in chunks])
    assert all("Waive" not in h.chunk.text for h in kept) and kept
    assert guidance and "Waive the return fee" in guidance[0].text


def test_a_product_section_is_not_mistaken_for_internal_notes() -> None:
    body = "# Lamp\n\nThe lamp is rated for 10 years of use.\n\n## Internal battery\nCharge it fully before first use."
    chunks = article_chunks(Article(id="lamp", title="Lamp", body=body), "acme")
    kept, guidance = split_sources([_hit(c) for c in chunks])
    assert guidance == [] and "Charge it fully" in kept[0].chunk.text


def test_guidance_is_bounded() -> None:
    chunks = [article_chunks(Article(id=f"a{i}", title=f"Script {i}", audience="agent",
                                     body="Tell them to wait. " * 200), "acme")[0] for i in range(5)]
    _, guidance = split_sources([_hit(c) for c in chunks])
    assert len(guidance) == MAX_GUIDANCE
    assert all(len(g.text) <= GUIDANCE_CHARS for g in guidance)


def test_audience_is_read_from_front_matter_and_jsonl_with_a_customer_default() -> None:
    assert Article(id="a", body="x").audience == "customer"
    assert Article.model_validate({"id": "a", "body": "x", "audience": "Agent"}).audience == "agent"
    with pytest.raises(ValueError, match="audience"):
        Article.model_validate({"id": "a", "body": "x", "audience": "internal-ish"})


def test_customer_articles_hash_as_before_the_field_existed() -> None:
    from copilot.retrieval.chunking import content_hash

    a = Article(id="a", title="T", body="Body text.")
    assert article_chunks(a, "acme")[0].source_hash == content_hash([a.model_dump(exclude={"audience"}), "acme"])
    agent = a.model_copy(update={"audience": "agent"})
    assert article_chunks(agent, "acme")[0].source_hash != article_chunks(a, "acme")[0].source_hash


class Writes:
    """A drafter (an LLM, say) that writes what it is given, agent text included."""

    name = "writes"
    prompt_text = ""

    def __init__(self, body: str, language: str) -> None:
        self.body = body
        self.language = language

    def draft(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Draft:
        return Draft(body=self.body, language=self.language, citations=[], confidence=0.9)


def test_no_drafter_sees_agent_text_and_the_pipeline_returns_it_as_guidance() -> None:
    script = article_chunks(Article(id="script", title="Refund script", audience="agent",
                                    body="Tell them the refund takes 5 days. Offer SORRY5 if they are upset."), "acme")
    mixed = Chunk(id="ticket:T1#0", source_id="ticket:T1", kind="ticket", text="Where is my refund?", brand="acme",
                  replies=["Your refund is on its way. Internal note: customer is a VIP."])
    sees = Sees()
    out = pipeline(sees).run(request(hits=[_hit(c) for c in [*script, mixed]]))
    seen = " ".join(h.chunk.text + " ".join(h.chunk.replies) for h in sees.hits)
    assert "SORRY5" not in seen and "Internal note" not in seen and "Your refund is on its way." in seen
    assert [g.source_id for g in out.guidance] == ["article:script", "ticket:T1"]


@pytest.mark.parametrize(("lang", "kept", "sentence"), [
    # (No amounts or time frames here: the promise check would remove those sentences first.)
    ("en", "Thanks for waiting.", "Let the customer know that we are looking into it."),
    ("en", "Thanks for waiting.", "Internal note: the customer is a VIP."),
    ("zh", "感谢您的耐心等待。", "告诉客户我们正在处理。"),
])
def test_the_check_stage_drops_agent_directed_sentences_whoever_wrote_them(lang: str, kept: str, sentence: str) -> None:
    out = pipeline(Writes(f"{kept} {sentence}", lang)).run(replace(request("我的退款呢？"), language=lang))
    assert sentence not in out.checked.reply and kept in out.checked.reply
    assert "agent_text_removed" in out.checked.flags
