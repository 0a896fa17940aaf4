"""The rules behind replies agents can send: each failure pattern of issue 11 pinned by a case of
our own (short texts written for these tests, no dataset text)."""

from __future__ import annotations

import pytest

from copilot.checks.given import asked_slots, given_slots
from copilot.drafting.compose import reply_sentences
from copilot.drafting.intent import message_intent, questions
from copilot.drafting.reuse import SentencePool, role_of
from copilot.drafting.topics import conflict, topics

# --- 1. leftovers of the past case: names anywhere, signatures in every form, tweet threads --------


@pytest.mark.parametrize(("reply", "expected"), [
    ("[HANDLE] That isn't right, Marta! Which app version do you have? ^QP", ["That isn't right!", "Which app version do you have?"]),
    ("We're sorry to read this Oswin, have you restarted the router?", ["We're sorry to read this, have you restarted the router?"]),
    ("Please DM us your postcode. *RTW", ["Please DM us your postcode."]),
    ("Does a different browser help? ~ Hal", ["Does a different browser help?"]),
    ("Try signing out and back in. -Bea", ["Try signing out and back in."]),
    ("Which card is this about? Ines", ["Which card is this about?"]),
    # A sentence continued in the next tweet is cut: what it would have said is unknown.
    ("Sorry for the wait. Our team handles claims in the order they 1/2", ["Sorry for the wait."]),
    ("Oh no! Follow the steps here: https://t.co/abc123 to see if it helps.", ["Oh no!"]),
    ("Let us know how it goes. TY - Ada", ["Let us know how it goes."]),
    ("Sorry for trouble.We are here to help you.", ["Sorry for trouble.", "We are here to help you."]),
])
def test_reply_sentences_lose_names_signatures_links_and_thread_cuts(reply: str, expected: list[str]) -> None:
    assert reply_sentences(reply, "en") == expected


def pool(replies: list[list[str]], ticket: str, closeness: list[float] | None = None) -> SentencePool:
    return SentencePool(replies, closeness or [0.8] * len(replies), ticket_text=ticket, given=given_slots(ticket))


def reasons(sentence: str, ticket: str) -> list[str]:
    return pool([[sentence]], ticket).pieces[0].reasons


@pytest.mark.parametrize("sentence", [
    "The vouchers have now been issued to your account.",       # what the other agent did
    "I've forwarded your note to our depot manager.",
    "This is due to a points failure near the junction.",       # service status
    "We're showing an expected arrival of 9:40 tonight.",       # a time
    "I'd like to send you a gift card for the trouble.",         # an offer
    "Regarding your DM, please check the spam folder.",          # an earlier exchange
    "Is the Kindle showing the same message?",                   # a product the ticket never names
])
def test_sentences_about_the_old_case_are_not_reused(sentence: str) -> None:
    assert reasons(sentence, "my parcel tracking has not moved for a week"), sentence


def test_a_product_the_customer_names_is_theirs() -> None:
    assert reasons("Is the Kindle showing the same message?", "my Kindle says the book failed to download") == []


# --- 2. topic agreement: another product, error code or intent; refusals ---------------------------


def test_another_product_device_code_or_intent_is_another_problem() -> None:
    car = topics("CarPlay drops the connection every time I start the car")
    assert conflict(car, topics("my Apple Watch stopped counting steps")) == "product"
    ps = topics("getting error CE-30005-8 when I install the update")
    assert conflict(ps, topics("error CE-34878-0 crashes my game")) == "error code"
    assert conflict(ps, topics("error CE-30005-8 again after the update")) is None
    assert conflict(topics("where is my parcel, tracking has not moved"), topics("please cancel my order")) == "intent"
    assert conflict(topics("my laptop will not boot"), topics("my printer jams every page")) == "device"


def test_negations_and_preferences_are_respected() -> None:
    t = topics("The lamp arrived cracked. I want a replacement, not a refund.")
    assert "refund" in t.refused and "replace" in t.intents and "refund" not in t.intents
    assert "refused" in reasons("Your refund will reach your card in a few days.", "I want a replacement, not a refund.")
    assert "cancel" in topics("I don't want to cancel, just pause it").refused
    assert "cancel" in topics("tôi không muốn hủy đơn").refused and "refund" in topics("我不要退款").refused


# --- 3. do not ask for what was given -----------------------------------------------------------


@pytest.mark.parametrize(("ticket", "question", "slot"), [
    ("my Fire TV keeps buffering every evening", "Which device are you watching on?", "device"),
    ("order 48213 never arrived", "Could you send us your order number?", "order"),
    ("my new address is [ADDRESS], please update it", "Can you DM us the delivery address?", "address"),
    ("the box came crushed, photo here https://t.co/xyz", "Could you send a photo of the box?", "photo"),
    ("the 7:10 from Leeds to York is late again", "Where are you travelling to please?", "route"),
    ("I already restarted the console twice", "Have you tried restarting the console?", "tried"),
    ("Tôi đặt hàng tuần trước, mã đơn 55102, vẫn chưa nhận được", "Bạn vui lòng gửi giúp mã đơn hàng nhé?", "order"),
    ("订单号 66231 还没收到", "请提供您的订单号？", "order"),
])
def test_questions_about_what_the_customer_gave_are_recognised(ticket: str, question: str, slot: str) -> None:
    assert slot in given_slots(ticket)
    assert slot in asked_slots(question, given_slots(ticket), ticket)
    assert "asks_given" in reasons(question, ticket)


def test_asking_is_fine_when_the_ticket_did_not_give_it() -> None:
    assert asked_slots("Which device are you watching on?", given_slots("it keeps buffering")) == set()
    # Restarting was not tried (reinstalling was): asking about it is a fair question.
    ticket = "I reinstalled the app twice"
    assert asked_slots("Have you tried restarting your phone?", given_slots(ticket), ticket) == set()
    # A statement is not a request even when it names the slot.
    assert asked_slots("Your order number is on the receipt.", {"order"}) == set()


# --- 4. every part of the message; intent-aware holding --------------------------------------------


def test_questions_and_intents() -> None:
    assert questions("How much is shipping? And how long does express take?") == [
        "How much is shipping?", "And how long does express take?"]
    assert len(questions("Phí ship bao nhiêu? Còn giao nhanh thì mất mấy ngày?")) == 2
    assert len(questions("运费是多少？多久能到？")) == 2
    assert message_intent("Your team sorted my issue in minutes, brilliant service!") == "compliment"
    assert message_intent("Third time the lift is broken at this store.") == "complaint"
    assert message_intent("Do you deliver on Sundays?") == "question"
    assert message_intent("Cảm ơn shop, hàng đẹp lắm") == "compliment"


# --- consensus ------------------------------------------------------------------------------------


def test_what_several_agents_wrote_to_several_customers_groups_together() -> None:
    p = pool([["Oh no!", "Which device do you use? Are all channels affected?"],
              ["Oh no!", "Which device do you use? Are all channels affected?", "Try a reboot."],
              ["Sorry about that!", "Is it every channel?"]], "live tv keeps buffering")
    top = p.agreed(alone=0.9)
    assert top[0].agree == 2 and top[0].role in {"opener", "question"}
    # A statement written to one customer only is about that customer's case.
    lone = pool([["The engineers finished the upgrade."]], "my internet is slow")
    assert lone.agreed(alone=0.1) == []


def test_a_sentence_that_leans_on_a_dropped_one_goes_with_it() -> None:
    p = pool([["The credits were added to your card.", "You will see them on your next statement."]],
             "why was I charged twice")
    assert all(piece.reasons for piece in p.pieces)


def test_roles() -> None:
    assert role_of("Which device do you use?") == "question"
    assert role_of("Oh no!") == "opener"
    assert role_of("Please try a quick reboot of your router.") == "step"
    assert role_of("Our stores open at nine.") == "statement"
