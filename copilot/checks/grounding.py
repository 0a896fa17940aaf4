"""Sentence-level grounding: does a cited source back each claim a reply makes?

A *claim* is a sentence stating a policy, an amount, a time frame or a promise ("refunds take
5 business days", "we will replace it for free"). Each claim must be supported by one sentence
of a cited source, judged two ways, cheapest first:

1. lexical: most of the claim's content words appear in that source sentence;
2. dense: the claim and the source sentence are close in the embedder's space
   (calibrated with the embedder's own floor/ceiling, so one threshold fits every model).

An optional judge (any callable, e.g. an LLM asked "does this source support this sentence?")
gets the last word on claims both checks reject.

A source in another language than the claim (an English article backing a Vietnamese reply) cannot
share its words: it backs the claim when the two are close in the multilingual embedding space
(``CROSS_LANGUAGE_SUPPORT``, a lower bar: translations land less close than paraphrases) and state
the same numbers.

Some sources are *weak*: a past ticket's reply says what one agent told one customer, so a claim
copied from it ("the credits have now been issued") is backed by it trivially. A claim counts as
supported by weak sources only when ``WEAK_AGREEMENT`` of them back it (several agents said it to
several customers); one article, or the text the caller vouches for, is enough. Source sentence vectors are cached: sources
repeat across tickets, so a warm process embeds mostly the reply's few claims.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from copilot.language import detect_language
from copilot.pii import PLACEHOLDER_RE
from copilot.retrieval.embeddings import Embedder
from copilot.text import split_sentences, tokenize

__all__ = ["Grounding", "GroundingChecker", "Judge", "claim_sentences", "claim_terms", "is_claim", "unsupported_numbers"]

# Amounts, percentages, durations, policy words and commitments, in the languages we template.
_CLAIM = re.compile(
    r"\d"
    r"|(?i:\b(?:policy|policies|refund\w*|reimburs\w*|free|no charge|guarantee\w*|warrant\w*|eligible|entitled"
    r"|compensat\w*|credit(?:s|ed)?|discount\w*|vouchers?|fee|fees|(?:has|have) (?:now )?been (?:issued|sent|processed"
    r"|approved|refunded|credited|added|applied)|charge[sd]?|cost[s]?|price|within|business days?"
    r"|days?|hours?|weeks?|months?|years?|always|never|promise\w*|we will|we'll|you will|you'll|will be"
    r"|must|required|not allowed|only if|as long as)\b)"
    r"|(?i:\b(?:política|reembolso|gratis|garantía|politique|remboursement|gratuit|garantie|erstattung"
    r"|kostenlos|garantie|rückerstattung)\b)"
    r"|chính sách|hoàn tiền|miễn phí|bảo hành|đền bù|phí|trong vòng|ngày làm việc|ngày|giờ|tuần|tháng|sẽ|cam kết"
    r"|政策|退款|退货|免费|保修|赔偿|费用|工作日|小时|天内|将会|保证|承诺"
)
# Words that make a sentence a promise but say nothing about *what* is promised.
_GENERIC = frozenset({"we will", "we'll", "you will", "you'll", "will be", "must", "sẽ", "将会", "always", "never"})
LEXICAL_SUPPORT = 0.6   # share of the claim's content words found in one source sentence
WEAK_AGREEMENT = 2      # weak sources (past tickets) that must back a claim together
# Measured with the default model: translations of a support sentence land at 0.34-0.64 calibrated,
# unrelated sentences in another language below 0.
CROSS_LANGUAGE_SUPPORT = 0.3
DENSE_SUPPORT = 0.6     # calibrated similarity between the claim and one source sentence
_CACHE_SIZE = 4096


_LINK = re.compile(r"https?://\S+")


def is_claim(sentence: str) -> bool:
    # A link is a pointer, not a claim: ".../refunds" does not state a refund policy.
    return bool(_CLAIM.search(_LINK.sub("", sentence)))


def claim_terms(sentence: str) -> set[str]:
    """The policy words, amounts and durations a claim is about ("free", "refund", "工作日"); a
    supporting sentence must use them too (digits are compared as whole numbers elsewhere)."""
    found = _CLAIM.finditer(_LINK.sub("", sentence))
    terms = {m.group(0).lower() for m in found if not m.group(0).isdigit()} - _GENERIC
    # "refunds" is backed by "refund", "charged" by "charge": compare English stems.
    return {re.sub(r"(?:es|s|ed|ing)$", "", t) if t.isascii() and len(t) > 4 else t for t in terms}


def claim_sentences(text: str) -> list[str]:
    # Paragraphs end sentences too: a sign-off line is not part of the sentence above it.
    return [s for para in re.split(r"\n\s*\n", text) for s in split_sentences(para) if is_claim(s)]


_NUMBERISH = re.compile(r"\d+(?:[.,]\d+)?%?|\$\s?\d+")


def unsupported_numbers(text: str, sources: Sequence[str]) -> list[str]:
    """Sentences stating a number (amount, time frame, percentage) that no source contains.

    PII placeholders (``[ORDER_NUMBER_1]``) are the customer's own data, not claims.
    """
    support = " ".join(sources)
    out = []
    for sentence in split_sentences(text):
        nums = _NUMBERISH.findall(PLACEHOLDER_RE.sub("", sentence))
        if nums and any(n.replace("$", "").strip() not in support for n in nums):
            out.append(sentence.strip())
    return out


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)?", text))


def _backs(source_sentence: str, nums: set[str], terms: set[str]) -> bool:
    """Can this sentence support a claim at all: its numbers and claim terms are all there."""
    low = source_sentence.lower()
    return nums <= _numbers(source_sentence) and all(t in low for t in terms)


def _enough(groups: set[int]) -> bool:
    """Backed by a strong source, or by enough weak ones."""
    return -1 in groups or len(groups) >= WEAK_AGREEMENT


@dataclass
class Grounding:
    claims: int = 0
    unsupported: list[str] = field(default_factory=list)

    @property
    def supported_share(self) -> float:
        return 1.0 if not self.claims else 1 - len(self.unsupported) / self.claims


Judge = Callable[[str, Sequence[str]], bool]


class GroundingChecker:
    def __init__(self, embedder: Embedder | None = None, *, judge: Judge | None = None,
                 lexical_support: float = LEXICAL_SUPPORT, dense_support: float = DENSE_SUPPORT) -> None:
        self.embedder = embedder
        self.judge = judge
        self.lexical_support = lexical_support
        self.dense_support = dense_support
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._languages: dict[str, str] = {}

    def check(self, reply: str, sources: Sequence[str], weak: Sequence[str] = ()) -> Grounding:
        """``reply`` may hold PII placeholders (``[ORDER_NUMBER_1]``): the customer's own data is not a
        claim. ``weak`` sources back a claim only when ``WEAK_AGREEMENT`` of them do."""
        claims = {c: _LINK.sub("", PLACEHOLDER_RE.sub("", c)) for c in claim_sentences(reply)}
        claims = {c: bare for c, bare in claims.items() if is_claim(bare)}
        out = Grounding(claims=len(claims))
        if not claims:
            return out
        # (source group, sentence): group -1 for every strong source, i for weak source i.
        sents = [(-1, s) for src in sources for s in split_sentences(src) if s.strip()]
        sents += [(i, s) for i, src in enumerate(weak) for s in split_sentences(src) if s.strip()]
        left = [c for c in claims if tokenize(claims[c])
                and not _enough({g for g, s in sents if self._lexical(claims[c], s)})]
        if left and sents and self.embedder is not None:
            left = self._dense(left, [claims[c] for c in left], sents)
        if left and self.judge is not None and sources:
            left = [c for c in left if not self.judge(c, sources)]
        out.unsupported = left
        return out

    def _lexical(self, claim: str, source_sentence: str) -> bool:
        words = set(tokenize(claim))
        # "Yes!", an emoji, a dash: no content words, nothing a source could back.
        if not words or not _backs(source_sentence, _numbers(claim), claim_terms(claim)):
            return False
        return len(words & set(tokenize(source_sentence))) / len(words) >= self.lexical_support

    def _dense(self, claims: list[str], bare: list[str], sents: list[tuple[int, str]]) -> list[str]:
        backing = self._dense_backing(bare, sents, terms=True)
        return [c for c, groups in zip(claims, backing, strict=True) if not _enough(groups)]

    def _dense_backing(self, bare: list[str], sents: list[tuple[int, str]], *, terms: bool) -> list[set[int]]:
        """For each text, the source groups with a sentence close enough to back it."""
        assert self.embedder is not None
        floor, ceiling = self.embedder.floor, self.embedder.ceiling
        src = self._embed([s for _, s in sents])
        src_lang = [self._language(s) for _, s in sents]
        q = np.asarray(self.embedder.embed_documents(bare), dtype=np.float32)
        sims = q @ src.T
        out = []
        for text, row in zip(bare, sims, strict=True):
            plain = PLACEHOLDER_RE.sub("", text)
            nums, words = _numbers(plain), claim_terms(plain) if terms else set()
            lang = detect_language(plain)
            backing = set()
            for v, (g, s), s_lang in zip(row, sents, src_lang, strict=True):
                same = s_lang == lang
                # A close paraphrase with another number or policy word is exactly the invented case;
                # across languages only the numbers can be compared.
                if not (_backs(s, nums, words) if same else nums <= _numbers(s)):
                    continue
                if (float(v) - floor) / (ceiling - floor) >= (self.dense_support if same else CROSS_LANGUAGE_SUPPORT):
                    backing.add(g)
            out.append(backing)
        return out

    def backing(self, texts: Sequence[str], sources: Sequence[str]) -> list[int | None]:
        """For each text (a claim or not), the first source with a sentence that says the same, in any
        language; None when no source does."""
        sents = [(i, s) for i, src in enumerate(sources) for s in split_sentences(src) if s.strip()]
        out: list[int | None] = [None] * len(texts)
        if not texts or not sents:
            return out
        bare = [_LINK.sub("", PLACEHOLDER_RE.sub("", t)) for t in texts]
        for k, b in enumerate(bare):
            out[k] = next((i for i, s in sents if self._lexical(b, s)), None)
        todo = [k for k, found in enumerate(out) if found is None]
        if todo and self.embedder is not None:
            for k, groups in zip(todo, self._dense_backing([bare[k] for k in todo], sents, terms=False), strict=True):
                out[k] = min(groups) if groups else None
        return out

    def _language(self, sentence: str) -> str:
        lang = self._languages.get(sentence)
        if lang is None:
            lang = self._languages[sentence] = detect_language(sentence)
            if len(self._languages) > _CACHE_SIZE:
                self._languages.pop(next(iter(self._languages)))
        return lang

    def _embed(self, sents: list[str]) -> np.ndarray:
        assert self.embedder is not None
        missing = list(dict.fromkeys(s for s in sents if s not in self._vectors))
        if missing:
            for s, v in zip(missing, np.asarray(self.embedder.embed_documents(missing), dtype=np.float32), strict=True):
                self._vectors[s] = v
            while len(self._vectors) > _CACHE_SIZE:
                self._vectors.popitem(last=False)
        for s in sents:
            self._vectors.move_to_end(s)
        return np.stack([self._vectors[s] for s in sents])
