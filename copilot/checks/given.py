"""Details the customer already gave, and reply sentences that ask for them again.

"Which device?" after "my Fire TV keeps buffering", the order number after the customer wrote it,
"where are you travelling?" after "Waterloo to Weymouth": a reply that asks for what the ticket says
tells the customer nobody read it. Each *slot* (order number, booking, device and OS, e-mail,
address, photo, date of purchase, route, what was already tried, the problem itself) has a pattern
for the ticket that gives it and one for a request that asks for it, in English, Vietnamese and
Chinese. A sentence asks when it is a question or a request ("please send", "can you tell us", "DM
us your ..."); asking for a slot the ticket gave is dropped by the check stage for every drafter.
"""

from __future__ import annotations

import re

from copilot.pii import PLACEHOLDER_RE

__all__ = ["SLOTS", "asked_slots", "given_slots", "is_request"]

_PRODUCTS = (r"i-?phone|ipad|ipod|mac ?book|imac|apple ?watch|airpods|apple ?tv|android|windows(?: ?\d+)?|xbox(?: one| 360)?"
             r"|ps[345]|playstation|fire ?(?:tv|stick)|firestick|echo|alexa|kindle|roku|chromecast|galaxy|pixel|surface"
             r"|samsung|huawei|nokia|lg|sony|dell|hp|lenovo|chromebook|smart ?tv|ios|mac ?os|macos|linux")
_DEVICE_WORDS = (r"phone|mobile|laptop|computer|pc|mac|desktop|tablet|tv|television|console|router|modem|printer|watch"
                 r"|browser|chrome|firefox|safari|edge|app")

# What the ticket says -> the slot is given.
_GIVES: dict[str, re.Pattern[str]] = {
    "order": re.compile(
        r"\[ORDER_NUMBER(?:_\d+)?\]|(?i:\border\s*(?:number|no\.?|num|id|#)\s*[:#]?\s*\w*\d)|#\s?\d{4,}"
        r"|(?i:\b(?:order|purchase)\s+#?\d{4,})|mã đơn(?: hàng)?\s*(?:số\s*)?[:#]?\s*\w*\d|订单号?\s*[:：#]?\s*\w*\d"),
    "booking": re.compile(
        r"(?i:\b(?:booking|reservation|confirmation)\s*(?:ref(?:erence)?|number|no\.?|code|#)?\s*[:#]?\s*[A-Z0-9]{5,}\b"
        r"|\bflight\s*(?:number|no\.?|#)?\s*[A-Z]{0,3}\s?\d{2,4}\b)|\b[A-Z]{2}\s?\d{3,4}\b|mã đặt chỗ|预订号"),
    "device": re.compile(rf"(?i:\b(?:{_PRODUCTS})\b|\bmy\s+(?:\w+\s+)?(?:{_DEVICE_WORDS})\b|\bversion\s*\d"
                         rf"|\b(?:ios|android|windows)\s*\d+)|điện thoại|máy tính|ứng dụng|手机|电脑|平板|电视|系统版本"),
    "email": re.compile(r"\[EMAIL(?:_\d+)?\]|(?i:\bmy e-?mail (?:address )?is\b)"),
    "address": re.compile(r"\[ADDRESS(?:_\d+)?\]|(?i:\b(?:new |my |delivery |shipping )address (?:is|:)"
                          r"|\bpost ?code\b)|địa chỉ (?:mới |của tôi )?(?:là|:)|地址(?:是|：|:)"),
    "photo": re.compile(r"(?i:https?://t\.co/\S+|\b(?:photo|picture|pic|screenshot|screen shot|image|video)s?\b"
                        r"|\battached\b)|ảnh|hình|照片|图片|截图|视频"),
    "purchase_date": re.compile(
        r"(?i:\b(?:bought|purchased|ordered|got)\b.{0,30}\b(?:ago|yesterday|last (?:week|month|year)|on \w+day"
        r"|in (?:january|february|march|april|may|june|july|august|september|october|november|december)|\d{1,2}/\d{1,2})"
        r"|\b\d+\s+(?:days?|weeks?|months?)\s+ago\b)|mua .{0,20}(?:ngày|tuần|tháng) (?:trước|rồi)|买了.{0,6}(?:天|周|个月|年)"),
    "route": re.compile(r"\bfrom\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?\s+to\s+[A-Z][\w'-]+|\b[A-Z][a-z]{2,}\s+to\s+[A-Z][a-z]{2,}\b"
                        r"|#[A-Z]{3}\b.{0,20}#[A-Z]{3,}\b"),
    "tried": re.compile(r"(?i:\b(?:i've|i have|i|already|we've|we have)\s+(?:already\s+|also\s+)?"
                        r"(?:tried|restarted|rebooted|reinstalled|re-installed|reset|updated|uninstalled|cleared|logged out"
                        r"|signed out|unplugged|power cycled)\b)|đã thử|đã khởi động lại|đã cài lại|试过|重启过|重装过|已经重启|已经重装"),
}
_TRIED_ACTIONS = re.compile(r"(?i)restart|reboot|reinstall|re-install|reset|update|uninstall|clear|log(?:ged)? out|sign(?:ed)? out"
                            r"|unplug|power cycl|khởi động lại|cài lại|重启|重装")

# What a request asks for -> the slot it wants.
_ASKS: dict[str, re.Pattern[str]] = {
    "order": re.compile(r"(?i:\border\s*(?:number|no\b|#|id|details|reference))|mã đơn|订单号"),
    "booking": re.compile(r"(?i:\bbooking\s*(?:reference|ref|number|details|code)|\bconfirmation\s*(?:code|number)"
                          r"|\brecord locator|\bflight (?:number|details)|\bwhich flight)|mã đặt chỗ|预订号|航班号"),
    "device": re.compile(r"(?i:\b(?:which|what)\s+(?:\w+\s+)?(?:device|phone|model|console|tv|browser|platform|computer)"
                         r"|\bdevice\s*(?:and|&|,)\s*(?:os|operating system)|\boperating system|\b(?:os|software|app|ios)"
                         r" version|\bversion of (?:the app|ios|android|windows|\w+ app)|\bmake and model)"
                         r"|thiết bị nào|điện thoại (?:gì|nào)|什么设备|哪款(?:手机|设备)|什么手机|系统版本"),
    "email": re.compile(r"(?i:\be-?mail address\b|\bemail (?:associated|linked|on (?:the|your) account))|địa chỉ email|邮箱地址"),
    "address": re.compile(r"(?i:\b(?:delivery|shipping|new|home|full)\s+address|\bpost ?code|\bzip ?code|\byour address)"
                          r"|địa chỉ|地址"),
    "photo": re.compile(r"(?i:\b(?:photo|picture|pic|screenshot|screen shot|image)s?\b)|ảnh|hình chụp|照片|图片|截图"),
    "purchase_date": re.compile(r"(?i:\bwhen did you (?:buy|purchase|order|get)|\bdate of (?:purchase|order)"
                                r"|\bpurchase date)|mua khi nào|什么时候买"),
    "route": re.compile(r"(?i:\bwhere (?:are|were) you (?:travell?ing|going|headed|heading)|\bwhich station"
                        r"|\btravell?ing (?:from|to)\b|\byour route|\bwhat route|\bwhich (?:train|service) (?:is|was) (?:this|it))"),
    "tried": re.compile(r"(?i:\b(?:have|had|did) you (?:already |also )?(?:tried|try)\b.{0,40}(?:restart|reboot|reinstall"
                        r"|re-install|reset|updat|uninstall|clear|log(?:ging)? out|sign(?:ing)? out|unplug|power cycl)"
                        r"|\bhave you (?:restarted|rebooted|reinstalled|updated|reset))|đã thử khởi động lại|试过重启"),
    "problem": re.compile(r"(?i:\bwhat (?:issue|problem|trouble|seems to be|is happening|'s happening|is going on"
                          r"|'s going on|happened)|\btell us (?:more )?(?:about )?what(?:'s| is) (?:going on|happening)"
                          r"|\bwhat (?:issue|problem)s? are you (?:having|experiencing|facing))"
                          r"|vấn đề gì|gặp vấn đề gì|什么问题|遇到了什么"),
}
_REQUEST = re.compile(
    r"[?？]\s*$|(?i:^\s*(?:please\s+|kindly\s+)?(?:send|share|provide|dm|tell|let us know|confirm|include|reply with"
    r"|pop|drop|follow|reach)\b|\b(?:can|could|would) you\b|\bmay (?:i|we) (?:have|get|know|ask)\b"
    r"|\b(?:please|kindly)\s+(?:send|share|provide|dm|tell|let us know|confirm|include)\b|\bdm us\b|\bwe(?:'ll| will) need\b"
    r"|\bwe need\b)|vui lòng (?:gửi|cho|cung cấp)|bạn (?:gửi|cho) (?:giúp|mình|tôi)|请(?:提供|发送|告诉)|麻烦您?提供")


SLOTS: tuple[str, ...] = (*_GIVES, "problem")
# A ticket that describes its problem at this length gave "the problem" (what is happening).
PROBLEM_MIN_WORDS = 14


def given_slots(ticket_text: str) -> set[str]:
    """Slots the customer's own words already fill."""
    out = {slot for slot, pattern in _GIVES.items() if pattern.search(ticket_text)}
    words = re.findall(r"\w+", PLACEHOLDER_RE.sub(" ", re.sub(r"https?://\S+|@\w+", " ", ticket_text)))
    cjk = len(re.findall(r"[\u4e00-\u9fff]", ticket_text))
    if len(words) + cjk // 2 >= PROBLEM_MIN_WORDS:
        out.add("problem")
    return out


def is_request(sentence: str) -> bool:
    """A question or a request addressed to the customer."""
    return bool(_REQUEST.search(sentence.strip()))


def asked_slots(sentence: str, given: set[str] | None = None, ticket_text: str = "") -> set[str]:
    """The slots this sentence asks the customer for (only requests ask). With ``given`` (and the
    ticket, for what was tried), only those the ticket already gave."""
    if not is_request(sentence):
        return set()
    out = {slot for slot, pattern in _ASKS.items() if pattern.search(sentence)}
    if "tried" in out and ticket_text:
        # "Have you tried restarting?" repeats only when the customer restarted, not when they reinstalled.
        wanted = {m.group(0).lower()[:5] for m in _TRIED_ACTIONS.finditer(sentence)}
        done = {m.group(0).lower()[:5] for m in _TRIED_ACTIONS.finditer(ticket_text)}
        if not wanted & done:
            out.discard("tried")
    return out if given is None else out & given
