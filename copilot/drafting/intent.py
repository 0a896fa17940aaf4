"""What a customer's message is: the questions it asks, and whether it praises, complains, asks
or reports a problem. The embedded drafter answers each question (or says which part needs a
person) and picks a holding reply that fits: a compliment is thanked, a complaint acknowledged,
a question gets "let me check"."""

from __future__ import annotations

import re
from typing import Literal

from copilot.text import split_sentences

__all__ = ["Intent", "message_intent", "questions"]

Intent = Literal["compliment", "complaint", "question", "problem"]

_HANDLES = re.compile(r"@\w+|https?://\S+")
_QUESTION_START = re.compile(
    r"(?i)^(?:hi|hello|hey|so|and|but|also|ok|okay|pls|please)?[\s,!]*"
    r"(?:what|how|when|where|why|which|who|whose|can|could|would|will|is|are|am|do|does|did|should|may|has|have)\b")
_VI_QUESTION = re.compile(r"(?i)\b(?:bao nhiêu|bao lâu|mấy|thế nào|như thế nào|làm sao|ở đâu|khi nào|tại sao|vì sao"
                          r"|được không|không ạ|chưa|có phải|gì)\b[\s.!]*$|\b(?:làm sao|bao giờ|có thể)\b"
                          r"|\b(?:bao nhieu|bao lau|the nao|lam sao|o dau|khi nao|tai sao|duoc khong)\b")
_ZH_QUESTION = re.compile(r"[吗呢么]\s*[。！!]?$|多少|怎么|什么|几天|哪|是否|能否|可不可以|能不能|有没有|要不要")
_PRAISE = re.compile(
    r"(?i)\b(?:thank(?:s| you)|thx|ty|love|loved|loving|great|awesome|amazing|brilliant|fantastic|excellent|best|kudos"
    r"|shout ?out|well done|impressed|appreciate|perfect|wonderful|superb|happy with)\b"
    r"|cảm ơn|tuyệt vời|rất tốt|hài lòng|谢谢|感谢|太棒|很好|满意|点赞|给力")
_NEGATIVE = re.compile(
    r"(?i)\b(?:not|no|never|can't|cannot|won't|doesn't|don't|didn't|isn't|wasn't|still|again|broken|broke|wrong|late"
    r"|delay\w*|cancel\w*|missing|lost|down|fail\w*|terrible|awful|worst|bad|poor|rude"
    r"|disappoint\w*|annoy\w*|frustrat\w*|ridiculous|unacceptable|useless|joke|waste|sucks|garbage|hate|angry"
    r"|upset|smell\w*|dirty|unhappy|charged|overcharg\w*|refund)\b|😡|😠|😤|😞|😢|🙁|☹"
    r"|không|chưa|lỗi|hỏng|vỡ|chậm|tệ|thất vọng|bực|不|没|坏|慢|差|失望|生气|错")


def _clean(text: str) -> str:
    return " ".join(_HANDLES.sub(" ", text).split())


def _is_question(sentence: str) -> bool:
    s = sentence.strip()
    return bool(s.endswith(("?", "？")) or (_QUESTION_START.search(s) and len(s.split()) > 2)
                or _VI_QUESTION.search(s) or _ZH_QUESTION.search(s))


def questions(text: str) -> list[str]:
    """The questions a message asks, in order (a sentence with two question marks counts twice)."""
    out: list[str] = []
    for line in _clean(text).split("\n"):
        for s in split_sentences(line):
            parts = [p for p in re.split(r"(?<=[?？])\s*", s) if p.strip()]
            out.extend(p.strip() for p in parts if _is_question(p))
    return out


def message_intent(text: str) -> Intent:
    """Praise without a complaint is a compliment ("you sorted my issue in minutes" still is); a
    question is a question, unless it asks about something that went wrong (a problem); complaint
    words without a question are a complaint; anything else reports a problem."""
    clean = _clean(text)
    praise = bool(_PRAISE.search(clean))
    negative = bool(_NEGATIVE.search(clean))
    if praise and not negative:
        return "compliment"
    asks = bool(questions(clean))
    if asks and not negative:
        return "question"
    # A question about something that went wrong ("why did my delivery fail?") reports a problem.
    return "problem" if asks or not negative else "complaint"
