"""Text surgery for reusing past agent replies: split into clean sentences, say which ones belong to
the old case, pick the sentences of a KB passage that answer."""

from __future__ import annotations

import html
import re

from copilot.checks.leftovers import strip_names
from copilot.pii import ALL_KINDS
from copilot.text import join_sentences, split_sentences, tokenize

__all__ = ["adapt_reply", "best_sentences", "case_specific", "reply_sentences"]

_LEAD_HANDLES = re.compile(r"^(?:\s*(?:@\w+|\[HANDLE(?:_\d+)?\]))+[\s,:]*")
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening)|chào|xin chào|kính gửi|您好|你好|亲爱的)"
    r"(?:\s+(?:there|team|\[NAME(?:_\d+)?\]|[A-Z][a-z]+|bạn|anh|chị|em|quý khách))?\s*[,!.:，！]?\s*(?=\S|$)",
    re.IGNORECASE,
)
_SIGNOFF_LINE = re.compile(
    r"(?im)^\s*(?:best regards|kind regards|warm regards|regards|cheers|thanks|thank you|sincerely|trân trọng|thân ái"
    r"|祝好|此致)[,!.]?\s*(?:\n.*)?$"
)
_TRAILING_SIG = re.compile(r"\s*(?:[\^/*~-]\s*[A-Z]{1,4}|[-–—]\s*[A-Z][a-z]+|[\^]\w+)\s*$")
# Another customer's personal data, of any kind the redaction knows (names are handled apart).
_PERSONAL = re.compile(r"\[(?:" + "|".join(sorted(ALL_KINDS - {"NAME", "HANDLE"})) + r")(?:_\d+)?\]")
# Sentences about the *other* customer's case: what the agent already did or saw, and when,
# what the service is doing right now, and what was offered. Reused for a new customer they
# would be invented facts and promises.
_CASE_SPECIFIC = re.compile(
    r"(?i)\b(?:I|I've|I have|I'd|we|we've|we have)\s+(?:just\s+|already\s+|now\s+)?(?:checked|looked|can see|see that"
    r"|arranged|refunded|sent|updated|cancell?ed|escalated|issued|processed|ordered|reviewed|opened|passed|taken"
    r"|credited|applied|reset|unlocked|shipped|asked|added|removed|confirmed|found|raised|logged|reported|fed|forwarded"
    r"|spoken|contacted|booked|rebooked|re-booked|made|placed|submitted|received)\b"
    r"|\b(?:I'll|I will|we'll|we will)\s+(?:update|e-?mail|get back|contact|follow up|call|let you know|send you"
    r"|refund|credit|replace)"
    r"|\b(?:yesterday|today|tonight|tomorrow|this (?:morning|afternoon|evening)|on (?:monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday))\b"
    r"|\b(?:has|have) (?:now )?been (?:issued|refunded|credited|cancell?ed|delayed|processed|sent|shipped|resolved|fixed"
    r"|restored|added|applied|approved)\b|\b(?:we're|we are|I'm|I am) (?:showing|seeing)\b|\bis (?:now )?showing\b"
    r"|\b(?:is|was|were|are) (?:due to|caused by)\b|\bthis is due to\b|\bdue to (?:a |an |the )?\w+ (?:failure|fault|issue"
    r"|problem|incident|works|outage)|\blooks? to have\b|\b(?:running|run|ran) (?:on time|late|normally)\b"
    r"|\bestimated (?:departure|arrival|time)\b|\b(?:I'd|we'd) like to (?:send|offer|give)\b"
    r"|\b(?:we can|I can|we'd|I'd|happy to) (?:offer|send you|give you|credit|refund)\b"
    r"|\b(?:moneycard|e-?voucher|goodwill|gesture|compensation|complimentary)\b"
    r"|(?:tôi|chúng tôi|mình|em)\s+(?:đã|vừa)\s|hôm nay|hôm qua|ngày mai|thứ (?:hai|ba|tư|năm|sáu|bảy)"
    r"|我(?:已|刚|查询了|查了|帮您|为您)|已(?:经)?为您|已于|昨天|今天|明天|周[一二三四五六日]"
)
_NAME = re.compile(r",?\s*\[NAME(?:_\d+)?\]")
_HANDLE = re.compile(r"\s*\[HANDLE(?:_\d+)?\]")
# A tweet-thread marker ("1/2", "(2/3)", "(cont)"): the sentence it ends continues in another tweet.
_THREAD = re.compile(r"(?:^|(?<=\s))[(\[]?[1-9]\s?/\s?[1-9]?[)\]]?(?=\s|$)|\((?:cont|ctd)\.?\)|\bcont'd\b"
                     r"|(?<=\s)\(?[1-9]\)?\s*$|(?:\.\.\.|…)\s*$", re.I)
_LINK = re.compile(r"\s*(?:https?://\S+|\bt\.co/\S+|\bwww\.\S+)")
_TRAILING_LINK = re.compile(r"\s*(?:https?://\S+|\bt\.co/\S+|\bwww\.\S+)[\s.!]*$")
# "...help you.Please DM us": tweets often lose the space after a full stop.
_GLUED = re.compile(r"(?<=[a-z][.!?])(?=[A-Z])")
# What a sentence reads like once its link is gone: "... follow the steps here:" says nothing.
_DANGLING = re.compile(r"(?i)(?:[:\-–—]|\b(?:here|at|via|w/|with|on|to|below|link|this)|\.\.\.)\s*[.!]?\s*$")
_LONE_NAME = re.compile(r"^[A-Z][a-z]{1,14}\.?$")


def _frame_off(text: str) -> str:
    text = _LEAD_HANDLES.sub("", text.strip())
    text = _GREETING.sub("", text, count=1)
    text = _SIGNOFF_LINE.sub("", text).strip()
    return _TRAILING_SIG.sub("", text)


def _capitalised(text: str, lang: str) -> str:
    if text and text[0].islower() and lang not in {"zh", "ja"}:
        return text[0].upper() + text[1:]
    return text


def reply_sentences(text: str, lang: str) -> list[str]:
    """A past reply as reusable sentences: no greeting, sign-off, signature, handles or names; no
    sentence continued in another tweet; links removed (a sentence that only pointed at one goes)."""
    text = _GLUED.sub(" ", _frame_off(html.unescape(text).replace("’", "'").replace("‘", "'")))
    out: list[str] = []
    for para in re.split(r"\n\s*\n|\n", text):
        for s in split_sentences(para):
            if _THREAD.search(s):
                continue
            s = _NAME.sub("", _HANDLE.sub("", s))
            if _LINK.search(s):
                # A link in the middle leaves a sentence with a hole ("the steps here: to see if...").
                if len(_LINK.findall(s)) > 1 or not _TRAILING_LINK.search(s):
                    continue
                s = _TRAILING_LINK.sub("", s).strip()
                if not s or _DANGLING.search(s):
                    continue
            s, _ = strip_names(s)
            if not s or _LONE_NAME.match(s) or not re.search(r"\w", s) or _too_short(s):
                continue
            out.append(_capitalised(s, lang))
    return out


def _too_short(sentence: str) -> bool:
    """A word or two that is not an opener ("TY", "Cheers") is a sign-off, not content."""
    words = re.findall(r"\w+", sentence)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", sentence))
    return len(words) + cjk // 2 < 3 and not re.match(r"(?i)(?:oh no|sorry|thanks|thank you|apologies|oops)", sentence)


def case_specific(sentence: str) -> bool:
    """Whether the sentence speaks of one case: another customer's data, what the agent did or sees,
    a service status, a time, or an offer."""
    return bool(_PERSONAL.search(sentence) or _CASE_SPECIFIC.search(sentence))


def adapt_reply(text: str, lang: str) -> str:
    """Make another customer's reply reusable: no greeting, sign-off, names, their personal data, or
    sentences about their case."""
    text = _frame_off(text)
    kept = []
    for para in re.split(r"\n\s*\n", text):
        sents = [s for s in split_sentences(para) if not case_specific(s)]
        if sents:
            kept.append(join_sentences(sents, lang))
    text = "\n\n".join(kept)
    text = _NAME.sub("", text)
    text = _HANDLE.sub("", text)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return _capitalised(text, lang)


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
