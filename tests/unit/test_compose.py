from __future__ import annotations

from copilot.drafting.compose import adapt_reply, best_sentences


def test_adapt_strips_greeting_names_handles_and_signatures() -> None:
    out = adapt_reply("[HANDLE] Hi [NAME], the refund takes 5 to 7 business days. ^JK", "en")
    assert out == "The refund takes 5 to 7 business days."


def test_adapt_drops_other_customers_data_and_case_specific_claims() -> None:
    reply = ("Refunds take 5 to 7 business days. I checked your order and it arrived yesterday. "
             "We sent it to [EMAIL]. I've refunded the $100 difference.")
    assert adapt_reply(reply, "en") == "Refunds take 5 to 7 business days."


def test_adapt_case_specific_in_vietnamese_and_chinese() -> None:
    assert adapt_reply("Chào bạn, tôi đã kiểm tra đơn hàng. Hoàn tiền mất 5 ngày.", "vi") == "Hoàn tiền mất 5 ngày."
    assert adapt_reply("您好，我查询了您的订单。退款需要5个工作日。", "zh") == "退款需要5个工作日。"


def test_vietnamese_greetings_with_a_pronoun_are_removed_whole() -> None:
    # "Chào bạn," used to lose only "Chào", leaving a stray "Bạn," at the start of the reused reply.
    assert adapt_reply("Chào bạn, chúng tôi hoàn tiền trong vòng 2 ngày làm việc.", "vi") == \
        "Chúng tôi hoàn tiền trong vòng 2 ngày làm việc."
    assert adapt_reply("Xin chào anh, hàng sẽ được giao trong 3 ngày.", "vi") == "Hàng sẽ được giao trong 3 ngày."


def test_best_sentences_pick_the_answering_ones_and_skip_headings() -> None:
    passage = ("Refund timing\nWe issue the refund within 2 business days. Gift cards never expire. "
               "Your bank needs 5 to 7 business days to show the refund.")
    out = best_sentences(passage, "when will my refund show on my bank statement", max_sentences=2)
    assert out == ["We issue the refund within 2 business days.",
                   "Your bank needs 5 to 7 business days to show the refund."]
