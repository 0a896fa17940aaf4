"""What makes a source or a reply dangerous to a customer, judged the same way at ingest and at draft time.

A poisoned knowledge-base article or past ticket (planted through an import, ``POST /v1/tickets``
or a compromised help center) tries to get one of these into a reply:

- a request for a password, a one-time code or card details ("email your account password to
  verify@..."): no support reply ever asks for them;
- a link or an e-mail address at a domain the brand does not use, above all one for paying,
  logging in, verifying an account or claiming money;
- instructions addressed to an assistant (``copilot.guardrails.injected_text``);
- a promise beyond any policy: more than 100%, a refund *plus* an amount, doubled money, a refund
  "guaranteed, even without returning the item".

Every pattern here runs in linear time on any input (tested with adversarial strings): matches can
only start where a token starts, and every window between two parts is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from copilot.guardrails import injected_text

__all__ = ["allowed_host", "credential_request", "domains_of", "hosts_in", "outlandish_promise", "poison_reasons",
           "promise_markers", "site_of", "suspicious_links"]

# Links with a scheme, "www." links, e-mail addresses (full-width ＠ too) and bare host names with a
# common top-level domain ("evil.example/claim"), in one pass. Only a scheme link may start inside a
# token; the others start where a run of address characters starts, so each run is scanned once.
_TLDS = ("com|net|org|info|biz|io|co|app|dev|xyz|top|online|site|shop|store|link|click|live|me|ly|gl|to|cc|ws|ru"
         "|cn|vn|uk|us|de|fr|es|it|nl|eu|in|jp|kr|tk|ml|ga|cf|gq|pw|su|example|test|invalid|local")
_HOSTS = re.compile(
    r"(?i)\bhttps?://(?P<url>[^\s/?#)\]>\"'<，。]+)[^\s)\]>\"'<，。]*"
    r"|(?<![\w.+-])[\w.+-]+[@＠](?P<email>[\w-]+(?:\.[\w-]+)+)"
    r"|(?<![\w.@/-])(?P<www>www(?:\.[a-z0-9-]+)+)"
    rf"|(?<![\w.@/-])(?P<bare>(?:[a-z0-9-]+\.)+(?:{_TLDS}))(?![\w-])"
)
_CONTEXT = 120  # characters around a link that say what it is for

_SECRET = (
    r"(?:(?:account |online banking |bank |login |your )?pass(?:word|code|phrase)s?|\bpins?\b(?: code| number)?"
    r"|cvv2?|cvc|security code|one[- ]time (?:pass)?code|\botp\b|2fa code|verification code|login (?:details|credentials)"
    r"|credentials|(?:online )?bank(?:ing)? (?:login|password|details|credentials)|full card number|card number and (?:cvv|cvc|expiry|security code)|card details"
    r"|social security number|\bssn\b|seed phrase|recovery phrase|private key"
    r"|mật khẩu|mã pin|mã otp|mã xác (?:nhận|thực|minh)|số thẻ|mã cvv|thông tin đăng nhập"
    r"|密码|验证码|动态码|安全码|银行卡号|卡号|登录信息|支付密码)"
)
_ASK = (
    r"(?:\b(?:send|e-?mail|mail|reply with|respond with|give|provide|share|tell|text|dm|message|submit|confirm"
    r"|verify|type|forward|post|include|write down|read out|call us with|ask(?: you)? for|need)\b"
    r"|gửi|cung cấp|cho (?:chúng tôi|em|mình|shop) biết|nhắn|xác nhận|đọc"
    r"|发送|提供|告诉|发给|回复|邮件|填写|确认|报给)"
)
_CREDENTIAL = re.compile(
    rf"(?i){_ASK}[^!?\n。！？]{{0,40}}?{_SECRET}"
    rf"|{_SECRET}[^!?\n。！？]{{0,40}}?\b(?:to|at|về|tới|đến)\s{{1,3}}[\w.+-]{{1,64}}[@＠]"
    rf"|{_SECRET}[^!?\n。！？]{{0,12}}?(?:发送|发到|发给|告诉|提供)"
)
# "We will never ask for your password": a negation right before the request (at most two words
# between), so "if you did not get it, send your password" is still a request.
_NEGATED = re.compile(
    r"(?i)(?:\b(?:never|not|don't|do not|won't|will not|cannot|can't|must not|should not|shouldn't)\b(?:\s+\w+){0,2}"
    r"|không bao giờ|không|đừng|chớ|绝不会?|不会|不要|切勿|请勿|从不|别|不)\s*$"
)
_NEGATION_REACH = 30
# What a link that takes money or credentials is about (in its address or its sentence).
_SENSITIVE = re.compile(
    r"(?i)verif|confirm|log-?in|sign-?in|log in|sign in|password|account|secure|wallet|pay|billing|bank|claim"
    r"|refund|card|unlock|reset|prize|reward|xác minh|xác nhận|đăng nhập|thanh toán|nhận tiền|hoàn tiền|tài khoản"
    r"|验证|登录|支付|付款|领取|退款|账户|账号"
)

# Extravagance markers: one alone can be a real policy ("a full refund within 24 hours"); two in
# the same refund-like sentence are not ("within 24 hours, guaranteed, even without returning it").
_MONEYISH = re.compile(
    r"(?i)\b(?:refund\w*|money back|reimburs\w*|compensat\w*|credit(?:ed)?|voucher|gift card|cash|payout|bonus)\b"
    r"|hoàn tiền|bồi thường|đền bù|tiền thưởng|退款|赔偿|补偿|返现|代金券|红包|奖励"
)
_MARKERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)\bguarantee[ds]?\b|\bno questions asked\b|\b100% (?:sure|certain)\b|cam kết|bảo đảm|đảm bảo"
               r"|保证|承诺"),
    re.compile(r"(?i)\b(?:even )?without (?:returning|sending|a return)|\bno (?:need|obligation) to return"
               r"|\bkeep (?:the|your) (?:item|product|order)|không cần (?:trả|gửi) (?:lại )?hàng|无需退货|不用退货|不必退货"
               r"|即使不退"),
    re.compile(r"(?i)\b(?:instant(?:ly)?|immediately|right away|within (?:\d{1,3}|an?) (?:minutes?|hours?))\b"
               r"|ngay lập tức|trong (?:vòng )?\d{1,3} (?:phút|giờ)|立即|马上|\d{1,3}\s?(?:分钟|小时)内"),
    re.compile(r"(?i)\b(?:for life|forever|lifetime)\b|trọn đời|mãi mãi|终身|永久"),
    re.compile(r"(?i)\b(?:plus|and an? extra|on top)\b[^.!?\n]{0,20}?(?:[$€£¥₫]\s?\d|\d[\d,.]*\s?(?:usd|eur|dollars?|%))"
               r"|\bbonus\b|cộng thêm|thêm \d|tiền thưởng|额外|另加|外加|奖金"),
    re.compile(r"(?i)\b(?:double[ds]?|doubled|triple[ds]?|twice|2x|3x)\b|gấp (?:đôi|ba|hai)|翻倍|双倍|加倍|三倍"),
    re.compile(r"\b100\s?%"),
)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,7})(?:[.,]\d+)?\s?%")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[\n。！？]+")


def _sentences(text: str) -> Iterator[str]:
    # A local, cheap split (no abbreviations needed): the windows above never cross one anyway.
    for part in _SENTENCE_END.split(text):
        if part.strip():
            yield part


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence a link stands in (at most ``_CONTEXT`` characters either side)."""
    before = text[max(0, start - _CONTEXT): start]
    cuts = list(_SENTENCE_END.finditer(before))
    before = before[cuts[-1].end():] if cuts else before
    after = text[end: end + _CONTEXT]
    cut = _SENTENCE_END.search(after)
    return before + text[start:end] + (after[: cut.start()] if cut else after)


def hosts_in(text: str) -> list[tuple[str, str]]:
    """(host, the link or address as written) for every link and e-mail address in ``text``."""
    return [(_host(host), raw) for host, raw, _ in _hosts(text)]


def _hosts(text: str) -> list[tuple[str, str, int]]:
    # A sentence's full stop after a link is not part of it.
    return [(next(g for g in m.group("url", "email", "www", "bare") if g), m.group(0).rstrip(".,;:!?"), m.start())
            for m in _HOSTS.finditer(text)]


def _host(host: str) -> str:
    host = host.lower().rsplit("@", 1)[-1].split(":")[0].rstrip(".")
    try:  # an IDN written in Unicode and its punycode form are one domain
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def domains_of(urls: Iterable[str | None]) -> set[str]:
    """The host names of some URLs or addresses, lower-cased (punycode for IDNs)."""
    return {h for u in urls for h, _ in hosts_in(u or "")}


# Second-level labels under which a country's registrable names sit (acme.co.uk, acme.com.vn).
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "biz", "info"})
# Hosting platforms whose subdomains belong to different companies: a help center at
# acme.zendesk.com does not make every *.zendesk.com the brand's.
_SHARED_PLATFORMS = frozenset({
    "zendesk.com", "freshdesk.com", "freshservice.com", "zohodesk.com", "intercom.help", "helpscoutdocs.com",
    "document360.io", "readme.io", "readthedocs.io", "gitbook.io", "notion.site", "github.io", "gitlab.io",
    "myshopify.com", "wordpress.com", "blogspot.com", "wixsite.com", "squarespace.com", "webflow.io",
    "herokuapp.com", "vercel.app", "netlify.app", "pages.dev", "appspot.com", "web.app", "firebaseapp.com",
    "cloudfront.net", "amazonaws.com", "azurewebsites.net", "hubspot.com", "hs-sites.com", "salesforce-sites.com",
    "force.com", "my.site.com", "atlassian.net", "statuspage.io"})


def site_of(host: str) -> str | None:
    """The organisation's own domain behind a host (help.acme.com -> acme.com, help.acme.co.uk ->
    acme.co.uk); None when the host is a tenant of a shared platform or already that domain."""
    host = _host(host)
    if any(host.endswith("." + p) for p in _SHARED_PLATFORMS):
        return None
    labels = host.split(".")
    keep = 3 if len(labels) > 2 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    site = ".".join(labels[-keep:])
    return site if site != host else None


def allowed_host(host: str, allowed: Iterable[str]) -> bool:
    """``host`` is one of ``allowed`` or a subdomain of one."""
    host = _host(host)
    return any(host == d or host.endswith("." + d) for d in (_host(a) for a in allowed if a))


def credential_request(text: str) -> str | None:
    """The words asking for a password, code or card details, if ``text`` asks for them (a sentence
    that says the brand will *never* ask does not)."""
    if not _CREDENTIAL.search(text):  # one pass first: most text asks for nothing
        return None
    for sentence in _sentences(text):
        for m in _CREDENTIAL.finditer(sentence):
            if not _NEGATED.search(sentence[max(0, m.start() - _NEGATION_REACH): m.start()]):
                return m.group(0).strip()
    return None


def suspicious_links(text: str, allowed: Iterable[str], *, any_link: bool = False, emails: bool = True) -> list[str]:
    """Links and addresses at domains not in ``allowed``: every e-mail address (unless ``emails`` is
    false), and every link that takes money or credentials, by its address or the words around it
    (or, with ``any_link``, every link)."""
    allowed = set(allowed)
    out = []
    for host, raw, start in _hosts(text):
        if allowed_host(host, allowed):
            continue
        address = "@" in raw or "＠" in raw
        if address and not emails:
            continue
        if any_link or address or _SENSITIVE.search(_sentence_around(text, start, start + len(raw))):
            out.append(_host(host))
    return list(dict.fromkeys(out))


def promise_markers(sentence: str) -> list[re.Pattern[str]]:
    """The extravagance markers a sentence uses ("guaranteed", "without returning", "within 2 hours")."""
    return [m for m in _MARKERS if m.search(sentence)]


def outlandish_promise(text: str) -> str | None:
    """A refund-like sentence promising what no policy does, if ``text`` has one."""
    if not (_MONEYISH.search(text) or _PERCENT.search(text)):
        return None
    for sentence in _sentences(text):
        over_100 = any(int(p) > 100 for p in _PERCENT.findall(sentence))
        if not (_MONEYISH.search(sentence) or over_100):
            continue
        markers = sum(1 for m in _MARKERS if m.search(sentence)) + over_100
        if markers >= 2 or over_100:
            return sentence.strip()
    return None


def poison_reasons(*, trusted: str = "", reused: str = "", allowed: Iterable[str] = (), emails: bool = True) -> list[str]:
    """Why a source must not be used (empty when it may).

    ``reused`` is text that can reach a reply word for word (an article, a past agent reply): it is
    checked for everything. Customer text (a past ticket's question) is passed as ``trusted`` and
    only checked for instructions to an assistant: customers quote phishing mails and links when
    they ask about them. ``emails=False`` when the reused text's addresses are redacted before it is
    stored (a past agent reply naming the customer's own address is not poison)."""
    reasons = []
    if injected_text(trusted) or injected_text(reused):
        reasons.append("instructions addressed to an assistant")
    if not reused:
        return reasons
    asked = credential_request(reused)
    if asked:
        reasons.append(f"asks for credentials ({asked[:60]!r})")
    hosts = suspicious_links(reused, allowed, emails=emails)
    if hosts:
        reasons.append(f"payment, login or e-mail link to a domain the brand does not use ({', '.join(hosts[:3])})")
    promise = outlandish_promise(reused)
    if promise:
        reasons.append(f"promises what no policy does ({promise[:80]!r})")
    return reasons
