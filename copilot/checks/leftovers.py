"""Leftovers of another case in a reply: what a reused past reply carries that this customer never said.

A reply built from another customer's ticket can repeat that customer's name ("That shouldn't be the
case, Jenell!"), the other agent's signature in any of its forms (``^KD``, ``*TJF``, ``/JI``, ``~ Dean``,
``-Sam``, "Regards, Dinesh"), unreplaced placeholders (``[NAME]``), the other case's product or device
("your TV"), its booking or error codes, amounts, dates and times, and phrases that presuppose an earlier
exchange ("regarding your DM", "1/2"). Each is a leftover unless the ticket itself or a cited *article*
(or the brand's own frame) says it. A cited past *ticket* licenses nothing: it is where leftovers come from.

Seed lists (products, case objects, context phrases) are package data in
``copilot/defaults/leftovers.yaml``; the patterns cover English, Vietnamese and Chinese.
This is a floor for grading by reading, not a replacement: it finds form, not meaning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml

from copilot.pii import PLACEHOLDER_RE

__all__ = ["KINDS", "Leftover", "Seeds", "find_leftovers", "seeds", "strip_names"]

Kind = Literal["signature", "name", "placeholder", "product", "detail", "amount", "date", "context"]
KINDS: tuple[str, ...] = ("signature", "name", "placeholder", "product", "detail", "amount", "date", "context")


@dataclass(frozen=True)
class Leftover:
    kind: Kind
    text: str


@dataclass(frozen=True)
class Seeds:
    products: re.Pattern[str]
    # Each case object's synonyms, and the pattern of "your <object>" for it.
    objects: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]
    # Each case object's synonyms as plain words (what a ticket is about).
    groups: tuple[re.Pattern[str], ...]
    context: re.Pattern[str]
    not_names: frozenset[str]


@lru_cache(maxsize=1)
def seeds() -> Seeds:
    """The seed lists (package data), compiled once."""
    raw = yaml.safe_load(resources.files("copilot.defaults").joinpath("leftovers.yaml").read_text(encoding="utf-8"))
    # One compiled alternation per list: a reply is scanned once per list, not once per word.
    # Capitalised plain words (Galaxy, Surface) must keep their capital; iPhone, PS4 match in any case.
    exact = [p for p in map(str, raw["products"]) if p[:1].isupper() and p[1:].replace(" ", "").islower()]
    loose = [p for p in map(str, raw["products"]) if p not in exact]
    products = re.compile(rf"(?<!\w)(?:{_alternation(exact)}|(?i:{_alternation(loose)}))(?!\w)")
    objects = []
    groups = []
    for line in raw["case_objects"]:
        group = tuple(w.strip() for w in str(line).split("|") if w.strip())
        # "your order number" asks for an identifier: generic, not a detail of another case.
        objects.append((group, re.compile(rf"\b(?:your|ur)\s+(?:\w+\s+)?(?:{_alternation(group)})(?:s|es)?\b"
                                          rf"(?!\s+{_ASKED_FOR})", re.I)))
        groups.append(re.compile(rf"(?<!\w)(?:{_alternation(group)})(?:s|es)?(?!\w)", re.I))
    context = re.compile(rf"(?<!\w)(?:{_alternation(map(str, raw['context']))})(?!\w)", re.I)
    return Seeds(products=products, objects=tuple(objects), groups=tuple(groups), context=context,
                  not_names=frozenset(str(w).lower() for w in raw["not_names"]))


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_URL = re.compile(r"https?://\S+|\bt\.co/\S+|\bwww\.\S+")
_NAME = r"[A-Z][a-z]{1,14}"
# Initials after ^, *, / or ~ (``^KD``, ``*TJF``, ``/JI``, ``~ Dean``), standing alone.
_INITIALS = re.compile(r"(?:^|(?<=[\s(]))(?:\^\s?[A-Z][A-Za-z]{0,4}|[*/]\s?[A-Z]{1,4}|~+\s*[A-Z][A-Za-z]{0,14})"
                       r"(?=$|[\s.!,)])", re.M)
# A dash and a name or initials closing a line (``-Sam``, ``- Josh``, ``-GR``, ``– Georgina (2)``).
_DASH_SIG = re.compile(rf"(?:^|\s)[-–—]+\s*({_NAME}|[A-Z]{{2,4}})\.?\s*(?:\(?\d/\d\)?|\(\d\))?\s*$", re.M)
# A valediction and a name: "Regards, Dinesh", "Thanks - Ed", "Thanks-Sha", "Cheers, Tom".
_VALEDICTION_SIG = re.compile(rf"(?i:\b(?:thanks|thank you|regards|rgds|cheers|best|warmly|ta))[ \t]*"
                              rf"(?:[,\-–—~]+[ \t]*)({_NAME})\b(?!\s+[a-z])")
# A lone name closing the reply, after a full stop: "... a different browser? Lewis".
_TRAILING_NAME = re.compile(rf"[.!?)]\s+({_NAME})\.?\s*(?:\(?\d/\d\)?)?\s*$")
# Names spoken to: "Hi Jenell", "Thanks Sam!", "That shouldn't be the case, Jenell!".
_GREETING_NAME = re.compile(rf"(?i:\b(?:hi|hello|hey|hiya|dear|morning|evening|afternoon|thanks|thank you|sorry"
                            rf"|apologies|welcome|cheers))\s*,?\s+({_NAME})(?=\s*[,!.?:;\-]|\s*$)")
_VOCATIVE = re.compile(rf",\s+({_NAME})\s*[!.?]")
# "which items were they, Portia and do you have...": a name between a comma and the next clause.
_VOCATIVE_CLAUSE = re.compile(rf",\s+({_NAME})\s+(?=(?:and|but|so|if|please|we|I|you|can|could|do)\b)")
# After a lower-case word and before a comma, "!" or "?" ("sorry to hear this Jeremy, have you...",
# "what the app shows Steven?"), or standing as a sentence of its own ("... referring to? Chris.").
_MID_NAME = re.compile(rf"\b[a-z]+\s+({_NAME})(?=\s*[,!?](?:\s|$)|\s*$)"
                       rf"|\b(?:this|that|you|there|it|too|again|now|today|soon|here|help|know|hear|see|us)\s+({_NAME})"
                       rf"(?=\.(?:\s|$))")
_LONE_NAME = re.compile(rf"(?:^|[.!?]\s+)({_NAME})\.(?=\s|$)", re.M)
_VI_NAME = re.compile(r"\b(?:anh|chị|em|bạn|cô|chú|ông|bà)\s+([A-ZĐ][a-zà-ỹđ]{1,10})\b")
_ZH_NAME = re.compile(r"(?<![的位本该此这那])([\u4e00-\u9fff])(?:先生|女士|小姐)")

_AMOUNT = re.compile(r"(?:[$£€¥₹]|\bRs\.?\s?|\bINR\s?|\bUSD\s?)\d[\d,]*(?:\.\d+)?"
                     r"|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars|pounds|euros|rupees|usd|gbp|eur|đô la|đồng)\b"
                     r"|\d[\d,]*(?:\.\d+)?\s?(?:美元|元|块)|\b\d{1,3}\s?%", re.I)
_DATE = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b|\b(?:yesterday|tomorrow|tonight|last night"
    r"|this (?:morning|afternoon|evening)|earlier today|over the weekend|(?:last|next) (?:week|month))\b"
    r"|\b(?:jan(?:uary)?|feb(?:ruary)?|march|april|june|july|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)\.?\s+\d{1,2}(?:st|nd|rd|th)?\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(?:jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)\b|\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)(?!\w)|\b\d{1,2}:\d{2}(?!\d)"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b(?:hôm qua|ngày mai|tối nay|sáng nay|chiều nay|thứ (?:hai|ba|tư|năm|sáu|bảy)|chủ nhật)\b"
    r"|\bngày \d{1,2}/\d{1,2}\b|昨天|明天|今晚|今早|周[一二三四五六日]|星期[一二三四五六日天]|\d{1,2}月\d{1,2}[日号]|\d{1,2}点",
    re.I)
# Codes of one case: flight numbers, long numbers (orders, accounts), error and booking codes, versions.
_DETAIL = re.compile(r"#\w*\d\w*|\b[A-Z]{2}\s?\d{3,4}\b|\b\d{5,}\b|\bv?\d+\.\d+\.\d+\b"
                     r"|\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{2,}(?:-[A-Z0-9]+)+\b"
                     r"|\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z][A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b")
_ASKED_FOR = r"(?:numbers?|no\b|id\b|details|reference|confirmation|code|e-?mail|address)"
_THREAD = re.compile(r"(?:^|(?<=\s))\(?[1-9]/[1-9]\)?(?=\s|$)")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _said(phrase: str, allowed: str) -> bool:
    """The phrase appears in the allowed text as whole words (case-insensitive)."""
    p = _norm(phrase)
    if not p:
        return True
    if re.search(r"[\u4e00-\u9fff]", p):
        return p in allowed
    return re.search(rf"(?<!\w){re.escape(p)}(?!\w)", allowed) is not None


def _number_said(text: str, allowed: str) -> bool:
    """An amount or code is licensed when its digits (and letters) appear in the allowed text."""
    if _said(text, allowed):
        return True
    core = re.sub(r"[^\w.,]", "", text.lower()).strip(".,")
    digits = re.findall(r"\d+", core)
    if not digits:
        return False
    # 14.95 and 14,95 are the same amount; 1,000 and 1000 too.
    pattern = r"[.,]?".join(re.escape(d) for d in digits)
    return re.search(rf"(?<!\d){pattern}(?!\d)", allowed) is not None and (
        not re.search(r"[a-z]", core) or all(w in allowed for w in re.findall(r"[a-z]+", core)))


def find_leftovers(reply: str, *, allowed: Iterable[str] = ()) -> list[Leftover]:
    """Details of another case in ``reply`` that no ``allowed`` text (the ticket's messages, cited
    articles, the brand's greeting and sign-off, the brand's name) contains. Best first: signatures and
    names, then the rest, each found once."""
    seed = seeds()
    ok = _norm(" ".join(allowed))
    text = _URL.sub(" ", reply)
    found: list[Leftover] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: Kind, value: str, *, licensed: bool | None = None) -> None:
        value = value.strip()
        key = (kind, value.lower())
        if not value or key in seen:
            return
        if licensed if licensed is not None else _said(value, ok):
            return
        seen.add(key)
        found.append(Leftover(kind, value))

    def name_like(word: str) -> bool:
        return word.lower() not in seed.not_names and not _DATE.fullmatch(word)

    for m in _INITIALS.finditer(text):
        add("signature", m.group(0))
    for m in _DASH_SIG.finditer(text):
        if name_like(m.group(1)):
            add("signature", m.group(0).strip())
    for m in _VALEDICTION_SIG.finditer(text):
        if name_like(m.group(1)):
            add("signature", m.group(0), licensed=_said(m.group(1), ok))
    m2 = _TRAILING_NAME.search(text)
    if m2 and name_like(m2.group(1)):
        add("signature", m2.group(1))
    signed = {f.text.lower() for f in found}
    for pattern in (_GREETING_NAME, _VOCATIVE, _VOCATIVE_CLAUSE, _MID_NAME, _LONE_NAME, _VI_NAME):
        for m in pattern.finditer(text):
            word = m.group(1) or m.group(m.lastindex or 1)
            if name_like(word) and not any(word.lower() in s for s in signed):
                add("name", word)
    for m in _ZH_NAME.finditer(text):
        add("name", m.group(0))
    for m in PLACEHOLDER_RE.finditer(text):
        add("placeholder", m.group(0), licensed=False)
    for m in seed.products.finditer(text):
        add("product", m.group(0))
    for group, pattern in seed.objects:
        group_said: bool | None = None
        for m in pattern.finditer(text):
            if group_said is None:
                group_said = any(_said(w, ok) for w in group)
            if not group_said and not any(f.text.lower() in m.group(0).lower() for f in found):
                add("detail", m.group(0))
    for m in _DETAIL.finditer(text):
        add("detail", m.group(0), licensed=_number_said(m.group(0), ok))
    for m in _AMOUNT.finditer(text):
        add("amount", m.group(0), licensed=_number_said(m.group(0), ok))
    for m in _DATE.finditer(text):
        add("date", m.group(0))
    for m in seed.context.finditer(text):
        add("context", m.group(0))
    for m in _THREAD.finditer(text):
        add("context", m.group(0))
    return found


def strip_names(sentence: str, *, allowed: Iterable[str] = ()) -> tuple[str, list[Leftover]]:
    """The sentence without another customer's name spoken to and without agents' signatures
    ("sorry to hear this Jeremy, have you..." -> "sorry to hear this, have you..."), and what went."""
    out = sentence
    gone = [f for f in find_leftovers(sentence, allowed=allowed) if f.kind in {"signature", "name"}]
    for f in gone:
        if f.kind == "signature":
            out = out.replace(f.text, " ")
        else:
            name = re.escape(f.text)
            out = re.sub(rf"^\s*{name}\s*[,!.]?\s*|,?\s+{name}\b(?=\s*[,!.?]|\s*$|\s+(?:and|but|so|if|please|we|I|you"
                         rf"|can|could|do)\b)", "", out, count=1)
    out = re.sub(r"\s+([,!.?])", r"\1", re.sub(r"[ \t]{2,}", " ", out)).strip(" ,")
    return out, gone
