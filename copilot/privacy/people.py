"""Who and where: people's names (in greetings, signatures, self-introductions and form labels)
and street addresses, in English, Vietnamese and Chinese.

A name is only looked for where a person is named: after "Hi", "Thanks,", "My name is", "Chào anh",
"em tên là", "我叫", "姓名：" or before "先生". The regex finds the place; Python reads the words
that follow (capitalised, not a common word, not a company's "Support Team").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.privacy.spans import CJK, LATIN, Keyed, Span, has_cjk, has_digit, needles
from copilot.privacy.words import words

__all__ = ["addresses", "names"]

_WORD = re.compile(rf"[{LATIN}'’-]{{1,24}}")
_NAME_WORDS = rf"[{LATIN}'’-]{{1,24}}(?:[ \t]{{1,2}}[{LATIN}'’-]{{1,24}}){{0,4}}"
# Titles ("Mr.", "Dr.", "BS." for bác sĩ) may take a dot; Vietnamese forms of address do not, so in
# "Cảm ơn anh. Trân trọng" nothing after the dot is taken for a name.
_HONORIFIC = (rf"(?:(?i:mr|mrs|ms|miss|dr|mx|prof|sir|madam|bs|ths|ts|pgs|gs)(?![{LATIN}])\.?"
              rf"|(?i:anh|chị|chi|em|ông|bà|cô|chú|bác|bạn|quý khách|khách hàng)(?![{LATIN}]))[ \t]{{1,2}}")

# A greeting straight before a name opens with it ("Hi Maria how are you"). After "Hi," the next
# word may start a sentence ("Hi, Yesterday I..."), and sign-offs are ordinary words too ("I bought
# it at Best Buy"): there the name must end its line or clause, unless an honorific precedes it
# ("Cảm ơn anh Đỗ Hùng đã...").
_ADDRESSEE = rf"(?P<p>[,!.:]?[ \t]{{0,3}}(?:\r?\n[ \t]{{0,3}}){{0,2}})(?P<h>{_HONORIFIC})?(?P<n>{_NAME_WORDS})"
_GREETING = Keyed(["hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening", "chào", "xin chào",
                   "dạ chào", "kính gửi"], (), _ADDRESSEE)
_SIGN_OFF = Keyed(["thanks", "thank you", "many thanks", "cheers", "regards", "best regards", "kind regards",
                   "warm regards", "best wishes", "best", "sincerely", "yours sincerely", "yours truly", "respectfully",
                   "thx", "gửi", "cảm ơn", "cám ơn", "trân trọng", "thân ái", "thân mến"], (), _ADDRESSEE)
# Self-introductions and form labels: what follows is a name whatever comes after it.
_SELF = [f"{who} {verb}" for who in ("em", "tôi", "mình", "tớ", "con", "cháu") for verb in ("tên", "tên là", "là")]
_SELF += [f"tên {of}{who}{is_}" for of in ("", "của ") for who in ("em", "tôi", "mình", "tớ") for is_ in ("", " là")]
_LABELS = ["full name", "customer name", "account holder", "card holder", "cardholder", "name", "họ và tên", "họ tên",
           "tên khách hàng", "người nhận", "người gửi", "tên"]
_INTRO_NAME = rf"[ \t]{{1,3}}(?P<h>{_HONORIFIC})?(?P<n>{_NAME_WORDS})"
_INTRO = Keyed(["my name is", "my name's", "my name’s", "name is", "i am", "i'm", "i’m", "this is", "it's", "it’s",
                *_SELF], (), _INTRO_NAME)
_LABEL = Keyed(_LABELS, (), r"[ \t]{0,2}[:：]" + _INTRO_NAME)
# "This is" and "it's" are followed by a full name or by nothing we take ("This is Ridiculous").
_NEEDS_FULL_NAME = re.compile(r"(?i)this is|it's|it’s")
_AMBIGUOUS_INTRO = re.compile(r"(?i)i am|i'm|i’m|this is|it's|it’s")
_CLAUSE_END = re.compile(r"[ \t]{0,2}(?:[,!.?:;)\n\r]|[-–—][ \t]|$)")

# A Chinese name: a family name from the list, then one or two characters that are not grammar
# words ("我是李娜的丈夫" gives 李娜).
_W = words()
_SURNAME = "(?:" + "|".join(sorted(_W.surnames_compound)) + "|[" + "".join(sorted(_W.surnames_single)) + "])"
_GIVEN = f"(?:(?![{''.join(sorted(_W.chinese_name_stops))}])[{CJK}])"
_ZH_INTRO = Keyed((), ["我叫", "我的名字是", "我的名字叫", "名字叫", "我是", "本人", "姓名", "名字", "联系人", "收件人", "收货人",
                       "寄件人", "持卡人", "户名"], rf"[:：]?[ \t]{{0,2}}(?P<n>{_SURNAME}{_GIVEN}{{1,2}})")
_ZH_TITLE = re.compile(rf"(?P<n>{_SURNAME}{_GIVEN}{{0,2}})(?:先生|女士|小姐)")
_ZH_TITLES = needles(["先生", "女士", "小姐"])


def names(text: str) -> Iterator[Span]:
    for greeting in (_GREETING, _SIGN_OFF):
        for m in greeting.finditer(text):
            honorific = m.group("h") is not None
            span = _latin_name(text, m.start("n"), m.group("n"), honorific=honorific, full=False)
            opens = greeting is _GREETING and not m.group("p").strip()
            if span and (opens or honorific or _CLAUSE_END.match(text, span[1])):
                yield span
    for intro in (_INTRO, _LABEL):
        for m in intro.finditer(text):
            ambiguous = intro is _INTRO and _AMBIGUOUS_INTRO.match(m.group(0))
            if ambiguous and ambiguous.group(0).isupper():
                continue  # "I AM MISSING CASH": in capitals a name cannot be told from shouting
            full = intro is _INTRO and bool(_NEEDS_FULL_NAME.match(m.group(0)))
            span = _latin_name(text, m.start("n"), m.group("n"), honorific=m.group("h") is not None, full=full)
            if span:
                yield span
    if not has_cjk(text):
        return
    for m in _ZH_INTRO.finditer(text):
        # The name must end there: "我是高级会员" is no name.
        after = text[m.end() : m.end() + 1]
        if m.group("n")[:2] in _W.chinese_not_names:
            continue
        if not _CJK_CHAR.match(after) or after in _W.chinese_name_stops:
            yield m.span("n")
    # "王先生": the shortest family name before the title ("谢谢王先生" is Mr Wang).
    for m in _ZH_TITLE.finditer(text) if _ZH_TITLES.search(text) else ():
        chars = m.group("n")
        for k in range(1, len(chars) + 1):
            if _surname_at(chars[-k:]):
                yield m.end("n") - k, m.end("n")
                break


def _latin_name(text: str, start: int, found: str, *, honorific: bool, full: bool) -> Span | None:
    """The leading capitalised words of ``found`` that are not common words; None if none."""
    end, taken = start, 0
    for m in _WORD.finditer(found):
        token = m.group(0).strip("'’-")
        if not token or not token[0].isupper() or token.lower() in _W.not_names:
            break
        if token.lower() in _W.organisation_words:
            return None
        taken += 1
        end = start + m.end()
        if taken == 5:
            break
    if taken == 0 or (full and taken < 2):
        return None
    if taken == 1 and not honorific and len(text[start:end]) < 2:
        return None
    return start, end


def _surname_at(chars: str) -> bool:
    return chars[:2] in _W.surnames_compound or chars[:1] in _W.surnames_single


# --- addresses ----------------------------------------------------------------------------------
_EN_SUFFIX = (r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
              r"highway|hwy|square|sq|parkway|pkwy|crescent|cres|close|grove|row|circle|cir)")
_EN_STREET = re.compile(
    r"(?=[0-9])(?<![\w.,:/])[0-9]{1,5}[A-Za-z]?(?:[-/][0-9]{1,4})?[ \t]{1,2}"
    r"(?P<w>(?:(?:[A-Z][A-Za-z'’.-]{0,20}|[0-9]{1,3}(?:st|nd|rd|th))[ \t]{1,2}){1,4})"
    rf"{_EN_SUFFIX}\.?(?![A-Za-z])"
    r"(?:,?[ \t]{0,2}(?i:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|#)\.?[ \t]{0,2}[A-Za-z0-9-]{1,6})?"
)
_PO_BOX = Keyed(["po box", "p.o. box", "p.o.box", "p o box", "post office box", "hộp thư"], (), r"[ \t]{0,2}[0-9]{1,7}")

_VI_STREET = re.compile(
    r"(?=[0-9])(?<![\w/-])[0-9]{1,5}[A-Za-z]?(?:/[0-9]{1,4}[A-Za-z]?){0,3}"
    r"(?=[ \t]{1,2}(?:[A-ZÀ-ÞĐƠƯ\u1ea0-\u1ef9]|(?i:đường|phố|ngõ|ngách|hẻm|kiệt|khu phố|tổ|ấp|thôn)))"
    r"(?P<kw>(?:[ \t]{1,2}(?i:đường|phố|ngõ|ngách|hẻm|kiệt|khu phố|tổ|ấp|thôn)"
    r"(?:[ \t]{1,2}(?:(?i:số)[ \t]{1,2})?[0-9]{1,4}(?:/[0-9]{1,4}){0,2})?){0,3})"
    rf"(?P<w>(?:[ \t]{{1,2}}[{LATIN}]{{1,10}}){{0,5}})"
)
# "số 12", "hẻm 52", "ngõ 34" before the number.
_VI_PREFIX = re.compile(r"(?<!\w)(?i:số nhà|nhà số|số|hẻm|ngõ|ngách|kiệt)[ \t]{1,2}$")
# Numbers that count something else: "Điều 8 Luật ..." (article 8 of a law), "ngày 27 Tháng Hai".
_VI_NOT_STREET_NUMBER = re.compile(r"(?<!\w)(?i:điều|khoản|điểm|mục|chương|phần|tháng|ngày|năm|lần|tuổi|trang|bước"
                                   r"|lúc|khoảng|gần|hơn|top|hạng|covid)[ \t]{1,2}$")
_VI_WORD = re.compile(f"[{LATIN}]{{1,10}}")
_VI_LETTERS = re.compile("[ăâđêôơưĂÂĐÊÔƠƯàáãèéìíòóõùúýÀÁÃÈÉÌÍÒÓÕÙÚÝĩũĨŨ\u1ea0-\u1ef9\u0300-\u036f]")

_ZH_NUMBER = "(?:[0-9]{1,5}|[一二三四五六七八九十百零]{1,5})"
_ZH_ROAD = re.compile(
    rf"[{CJK}]{{1,8}}(?:路|街|大道|大街|巷|弄|胡同)(?:[东西南北中一二三四五六七八九十]{{1,3}}段)?[ \t]?{_ZH_NUMBER}[ \t]?[号號]"
    rf"(?:[{CJK}A-Za-z]{{0,8}}(?:[0-9A-Za-z]{{1,5}}|[一二三四五六七八九十]{{1,3}})(?:号楼|栋|幢|座|单元|楼|层|室|房)){{0,4}}"
)
_ZH_ESTATE = re.compile(
    rf"[{CJK}]{{1,8}}(?:小区|花园|公寓|大厦|社区|新村|家园)"
    rf"(?:(?:[0-9A-Za-z]{{1,5}}|[一二三四五六七八九十]{{1,3}})(?:号楼|栋|幢|座|单元|楼|层|室|号)){{1,4}}"
)
_CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_NUMERAL = re.compile("[一二三四五六七八九十]")
_ROAD_MARKS = re.compile("[路街道巷弄同]")
_ESTATE_MARKS = re.compile("[区园寓厦村]")
# Characters that end the words before an address ("地址是", "我住在", "寄到"): the address starts after.
_ZH_ADDRESS_STOPS = "是在到住寄送址的为于往请发收：:，,、"
_ZH_LAST_STOP = re.compile(f"[{_ZH_ADDRESS_STOPS}][^{_ZH_ADDRESS_STOPS}]{{0,80}}$")
_ZH_PLACE_REVERSED = re.compile(f"(?:(?![{_ZH_ADDRESS_STOPS}])[{CJK}]){{1,12}}")


def addresses(text: str) -> Iterator[Span]:
    if not has_digit(text) and not _CJK_NUMERAL.search(text):
        return
    for m in _EN_STREET.finditer(text):
        if not any(t.lower() in _W.not_names for t in m.group("w").split()):
            yield m.span()
    for m in _PO_BOX.finditer(text):
        yield m.span()
    for m in _VI_STREET.finditer(text):
        if _VI_NOT_STREET_NUMBER.search(text, max(0, m.start() - 12), m.start()):
            continue
        span = _vietnamese_street(m, _VI_PREFIX.search(text, max(0, m.start() - 10), m.start()))
        if span:
            yield span
    if not has_cjk(text):
        return
    for pattern, marks in ((_ZH_ROAD, _ROAD_MARKS), (_ZH_ESTATE, _ESTATE_MARKS)):
        for m in pattern.finditer(text) if marks.search(text) else ():
            yield _chinese_address_start(text, m.start(), m.end()), m.end()


def _vietnamese_street(m: re.Match[str], prefix: re.Match[str] | None) -> Span | None:
    """Number, street words, then the capitalised words of the street's name."""
    end = m.end("kw") if m.group("kw") else m.end() - len(m.group("w"))
    taken: list[str] = []
    for word in _VI_WORD.finditer(m.group("w")):
        token = word.group(0)
        # A street's name is capitalised, not shouted, and does not start with a common word
        # ("Luật An ninh", "Bộ Y tế"; but "Hai Bà Trưng" is a street).
        if not token[0].isupper() or (len(token) > 1 and token.isupper()) or (
                not taken and token.lower() in _W.not_names):
            break
        taken.append(word.group(0))
        end = m.start("w") + word.end()
    start = prefix.start() if prefix else m.start()
    if (m.group("kw") or prefix) and (taken or re.search(r"[0-9]", m.group("kw"))):
        return start, end
    if len(taken) >= 2 and any(_VI_LETTERS.search(t) for t in taken):
        return start, end
    return None


def _chinese_address_start(text: str, start: int, end: int) -> int:
    """Drop the words before the address from the match, then take in the province, city and
    district written just before it (up to 12 characters)."""
    cut = _ZH_LAST_STOP.search(text, start, end)
    if cut:
        return cut.start() + 1
    place = _ZH_PLACE_REVERSED.match(text[max(0, start - 12) : start][::-1])
    return start - len(place.group(0)) if place else start
