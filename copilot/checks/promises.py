"""What a reply may promise: credentials are never asked for, and amounts and refund or
compensation promises only as a knowledge-base article states them.

A past agent reply is evidence of what one agent once wrote, not of policy: reused for another
customer, "a full refund within 24 hours, guaranteed, even without returning the item" or "we
refund 100% plus $500" would bind the brand. So:

- a sentence naming an amount (money or a percentage) keeps it only when an article retrieved for
  this ticket (or the text a rewrite starts from) has that number;
- a sentence promising a refund, compensation, credit or something free keeps it only when such an
  article uses the same promise words, every number the sentence has, and every extravagance it
  adds ("guaranteed", "even without returning the item", "within 2 hours", "doubled");
- a sentence asking for a password, a code or card details is removed whatever backs it.

Past tickets alone license none of these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from copilot.pii import PLACEHOLDER_RE
from copilot.poisoning import credential_request, promise_markers
from copilot.text import filter_sentences

__all__ = ["PromiseCheck", "PromiseResult", "amounts_in"]

# Numbers start only where a run of digits starts: one scan per run, linear on "1.1.1.1...".
_AMOUNT = re.compile(
    r"(?i)[$€£¥₫]\s?\d[\d,.]*"
    r"|(?<![\d,.])\d[\d,.]*\s?(?:usd|eur|gbp|vnd|dollars?|euros?|pounds?|đồng|đ|nghìn|ngàn|triệu|元|美元|块|欧元|英镑|港币)(?!\w)"
    r"|(?<![\d,.])\d+(?:[.,]\d+)?\s?(?:%|percent|phần trăm)"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PROMISE = re.compile(
    r"(?i)\b(?:refund(?:s|ed|ing|able)?|money back|reimburs(?:e|ed|ement)|compensat(?:e|ed|ion)|credit(?:ed)?"
    r"|store credit|vouchers?|coupons?|gift cards?|discounts?|cash ?back|free(?: of charge)?|no charge|at no cost"
    r"|waived?|goodwill)\b"
    r"|hoàn tiền|hoàn lại tiền|bồi thường|đền bù|phiếu giảm giá|giảm giá|miễn phí|không mất phí"
    r"|退款|退还|赔偿|补偿|代金券|优惠券|折扣|免费|返现|免单"
)


def _plain_number(n: str) -> str:
    return n.replace(",", "").rstrip(".")


def amounts_in(text: str) -> list[str]:
    """The numbers of the money amounts and percentages a text states ("$500" -> "500")."""
    text = PLACEHOLDER_RE.sub(" ", text)
    return [_plain_number(n) for m in _AMOUNT.finditer(text) for n in _NUMBER.findall(m.group(0))]


@dataclass
class PromiseResult:
    body: str
    credential_requests: list[str]
    unlicensed: list[str]


class PromiseCheck:
    def run(self, body: str, *, kb: Sequence[str], support: Sequence[str] = ()) -> PromiseResult:
        """Remove credential requests, and amounts and promises that ``kb`` (article texts, plus any
        ``support``) does not state."""
        licensing = "\n".join([*kb, *support])
        low = licensing.lower()
        numbers = {_plain_number(n) for n in _NUMBER.findall(licensing)}

        def licensed(sentence: str) -> bool:
            plain = PLACEHOLDER_RE.sub(" ", sentence)
            if not all(a in numbers for a in amounts_in(plain)):
                return False
            words = {m.group(0).lower() for m in _PROMISE.finditer(plain)}
            if not words:
                return True
            return (all(w in low or w.rstrip("s") in low for w in words)
                    and all(_plain_number(n) in numbers for n in _NUMBER.findall(plain))
                    and all(m.search(licensing) for m in promise_markers(plain)))

        body, asks = filter_sentences(body, lambda s: credential_request(s) is None)
        body, unlicensed = filter_sentences(body, licensed)
        return PromiseResult(body, asks, unlicensed)
