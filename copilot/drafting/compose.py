"""Text surgery for reusing past agent replies: split, clean, adapt, pick sentences."""

from __future__ import annotations

import re

from copilot.pii import ALL_KINDS
from copilot.text import join_sentences, split_sentences, tokenize

__all__ = ["adapt_reply", "best_sentences"]

_LEAD_HANDLES = re.compile(r"^(?:\s*(?:@\w+|\[HANDLE(?:_\d+)?\]))+[\s,:]*")
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|chào|xin chào|kính gửi|您好|你好|亲爱的)"
    r"(?:\s+(?:there|\[NAME(?:_\d+)?\]|[A-Z][a-z]+|bạn|anh|chị|em|quý khách))?\s*[,!.:，！]?\s*(?=\S|$)",
    re.IGNORECASE,
)
_SIGNOFF_LINE = re.compile(
    r"(?im)^\s*(?:best regards|kind regards|regards|cheers|thanks|thank you|sincerely|trân trọng|thân ái|祝好|此致)"
    r"[,!.]?\s*(?:\n.*)?$"
)
_TRAILING_SIG = re.compile(r"\s*(?:[\^/*~-]\s*[A-Z]{1,4}|[-–—]\s*[A-Z][a-z]+|[\^]\w+)\s*$")
# Another customer's personal data, of any kind the redaction knows (names are handled apart).
_PERSONAL = re.compile(r"\[(?:" + "|".join(sorted(ALL_KINDS - {"NAME", "HANDLE"})) + r")(?:_\d+)?\]")
# Sentences about the *other* customer's case: what the agent already did or saw,
# and when. Reused for a new customer they would be invented facts and promises.
_CASE_SPECIFIC = re.compile(
    r"(?i)\b(?:I|I've|I have|I'd|we|we've|we have)\s+(?:just\s+|already\s+|now\s+)?(?:checked|looked|can see|see that"
    r"|arranged|refunded|sent|updated|cancell?ed|escalated|issued|processed|ordered|reviewed|opened|passed|taken"
    r"|credited|applied|reset|unlocked|shipped|asked|added|removed|confirmed|found)\b"
    r"|\b(?:I'll|I will|we'll|we will)\s+(?:update|e-?mail|get back|contact|follow up|call|let you know)"
    r"|\b(?:yesterday|today|tomorrow|this (?:morning|afternoon|evening)|on (?:monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday))\b"
    r"|(?:tôi|chúng tôi|mình|em)\s+(?:đã|vừa)\s|hôm nay|hôm qua|ngày mai|thứ (?:hai|ba|tư|năm|sáu|bảy)"
    r"|我(?:已|刚|查询了|查了|帮您|为您)|已(?:经)?为您|昨天|今天|明天|周[一二三四五六日]"
)
_NAME = re.compile(r",?\s*\[NAME(?:_\d+)?\]")
_HANDLE = re.compile(r"\s*\[HANDLE(?:_\d+)?\]")






def adapt_reply(text: str, lang: str) -> str:
    """Make another customer's reply reusable: no greeting, sign-off, names or their personal data."""
    text = _LEAD_HANDLES.sub("", text.strip())
    text = _GREETING.sub("", text, count=1)
    text = _SIGNOFF_LINE.sub("", text).strip()
    text = _TRAILING_SIG.sub("", text)
    kept = []
    for para in re.split(r"\n\s*\n", text):
        sents = [s for s in split_sentences(para) if not _PERSONAL.search(s) and not _CASE_SPECIFIC.search(s)]
        if sents:
            kept.append(join_sentences(sents, lang))
    text = "\n\n".join(kept)
    text = _NAME.sub("", text)
    text = _HANDLE.sub("", text)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    if text and text[0].islower() and lang not in {"zh", "ja"}:
        text = text[0].upper() + text[1:]
    return text




def _is_heading(line: str) -> bool:
    line = line.strip()
    return len(line) < 60 and not re.search(r"[.!?。！？:：]$", line)


def best_sentences(passage: str, query: str, *, max_sentences: int = 2, max_chars: int = 400) -> list[str]:
    """The passage's sentences that best answer the query, kept in passage order."""
    q = set(tokenize(query))
    body = " ".join(line for line in passage.splitlines() if line.strip() and not _is_heading(line))
    sents = [s for s in split_sentences(body) if len(s) > 8]
    if not sents:
        return []
    scored = sorted(
        ((len(q & set(tokenize(s))) / (1 + 0.02 * len(s)) - 0.01 * i, i) for i, s in enumerate(sents)), reverse=True
    )
    chosen: list[int] = []
    total = 0
    for score, i in scored:
        if score <= 0 and chosen:
            break
        if total + len(sents[i]) > max_chars and chosen:
            continue
        chosen.append(i)
        total += len(sents[i])
        if len(chosen) >= max_sentences:
            break
    return [sents[i] for i in sorted(chosen)]
