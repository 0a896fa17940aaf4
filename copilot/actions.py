"""Next-best actions: ranked by what similar resolved tickets did, then by the catalog's cues.

Evidence beats description: if the nearest resolved tickets were refunded,
"refund" ranks first with a reason naming those tickets. The catalog's text
(title, description, cues) embedded once, and cue matches in the ticket,
rank actions when history is thin. Escalation signals force ``escalate``.

Action ids that resolved tickets carry but the catalog lacks (macro names, tags, intents) are
*learned actions*: they vote like catalog actions, titled from their id ("card_arrival" ->
"Card arrival"). They are read from the retrieved tickets themselves, so every process that shares
the index sees the same ones; a catalog entry with the same id always supplies the title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from copilot.config import ActionSpec
from copilot.models import Hit, NextAction
from copilot.retrieval.embeddings import Embedder

__all__ = ["ActionRanker", "learned_title"]

# Calibrated similarity of the closest resolved ticket above which its actions count even when no
# reply could be drafted (history of what was done, not of what was said).
SIMILAR_HISTORY = 0.6

_ORDERISH = re.compile(
    r"(?i)\b(order|package|parcel|delivery|shipment|shipping|purchase)\b|đơn hàng|gói hàng|giao hàng|订单|包裹|快递|发货"
)


_SEPARATORS = re.compile(r"[\s_\-.:/]+")


def learned_title(action_id: str) -> str:
    """A readable title for an action id nobody described: "card_arrival" -> "Card arrival"."""
    words = _SEPARATORS.sub(" ", action_id).strip()[:80] or action_id.strip()[:80]
    return words[:1].upper() + words[1:]


class ActionRanker:
    def __init__(self, catalog: Sequence[ActionSpec], embedder: Embedder) -> None:
        self.catalog = {a.id: a for a in catalog}
        self.embedder = embedder
        self._vectors: np.ndarray | None = None
        self._ids = list(self.catalog)

    def _catalog_vectors(self) -> np.ndarray:
        if self._vectors is None:
            texts = [f"{a.title}. {a.description} {' '.join(a.when)}".strip() for a in self.catalog.values()]
            self._vectors = self.embedder.embed_documents(texts)
        return self._vectors

    def rank(self, query: str, hits: Sequence[Hit], *, signals: Sequence[str] = (), has_order_number: bool = False,
             no_evidence: bool = False, top: int = 3) -> list[NextAction]:
        scores: dict[str, float] = {}
        reasons: dict[str, str] = {}

        # 1) Evidence: votes of similar resolved tickets, weighted by similarity.
        ticket_hits = [h for h in hits if h.chunk.kind == "ticket" and (h.chunk.actions or h.chunk.tags)]
        votes: dict[str, float] = {}
        voters: dict[str, list[str]] = {}
        total = 0.0
        for rank, h in enumerate(ticket_hits[:10]):
            w = max(0.0, self._cal(h.dense)) * (1.0 / (1 + 0.15 * rank))
            total += w
            # A ticket's actions all count (learned when not in the catalog); tags only when the
            # catalog names them, since most tags describe the ticket rather than what was done.
            acts = [a for a in h.chunk.actions if a.strip()] or [t for t in h.chunk.tags if t in self.catalog]
            for a in dict.fromkeys(acts):
                votes[a] = votes.get(a, 0.0) + w
                voters.setdefault(a, []).append(h.source_id)
        n_voters = len(ticket_hits[:10])
        strength = max((self._cal(h.dense) for h in ticket_hits[:10]), default=0.0)
        for a, v in votes.items():
            share = v / total if total else 0.0
            # Weak neighbours vote with little weight: history only counts when it is similar.
            scores[a] = (0.75 * share + 0.25 * min(1.0, v)) * (0.4 + 0.6 * strength)
            who = voters[a]
            reasons[a] = (f"{len(who)} of {n_voters} similar resolved tickets did this "
                          f"({', '.join(who[:3])}{'...' if len(who) > 3 else ''})"
                          + ("" if a in self.catalog else "; learned from ticket history"))

        # 2) Catalog: cue phrases in the ticket and similarity to the action's description.
        low = query.lower()
        qvec = self.embedder.embed_query(query)
        sims = self._catalog_vectors() @ qvec
        for i, aid in enumerate(self._ids):
            spec = self.catalog[aid]
            cue = next((c for c in spec.when if c and c.lower() in low), None)
            desc = 0.35 * max(0.0, self._cal(float(sims[i])))
            if aid in votes:
                scores[aid] += 0.1 if cue else 0.0
            else:
                # Without history an action is a guess: capped well below evidence-backed ones.
                scores[aid] = 0.6 * (desc + (0.3 if cue else 0.0))
                reasons[aid] = f"the ticket mentions {cue!r}" if cue else "matches the action's description"

        # 3) Rules the catalog cannot express.
        if signals and "escalate" in self.catalog:
            scores["escalate"] = max(scores.get("escalate", 0.0), 0.9)
            reasons["escalate"] = "escalation signals: " + ", ".join(signals)
        if "ask_order_number" in self.catalog and _ORDERISH.search(query) and not has_order_number:
            top_other = max((s for a, s in scores.items() if a != "ask_order_number"), default=0.0)
            scores["ask_order_number"] = max(scores.get("ask_order_number", 0.0), min(0.8, top_other + 0.05))
            reasons["ask_order_number"] = "the ticket is about an order but gives no order number"

        if has_order_number:
            scores.pop("ask_order_number", None)  # never ask for what the customer already gave
        if no_evidence and "ask_details" in self.catalog and strength < SIMILAR_HISTORY:
            # Nothing similar was ever resolved: what others did is a weak hint, asking is the safe move.
            # (A reply may have nothing reusable while close tickets still agree on what was done.)
            scores = {a: v * 0.5 for a, v in scores.items()}
            scores["ask_details"] = max(scores.get("ask_details", 0.0), 0.6)
            reasons["ask_details"] = "no similar resolved ticket or article answers this yet"

        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        out = []
        for aid, s in ranked[:top]:
            if s < 0.05:
                continue
            known = self.catalog.get(aid)
            out.append(NextAction(id=aid, title=known.title if known else learned_title(aid),
                                  confidence=round(min(1.0, s), 3), reason=reasons.get(aid)))
        return out

    def _cal(self, sim: float | None) -> float:
        if sim is None:
            return 0.0
        lo, hi = self.embedder.floor, self.embedder.ceiling
        return float(min(1.0, max(0.0, (sim - lo) / (hi - lo))))
