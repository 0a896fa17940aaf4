"""The embedded drafter: reuse of what is generic in past replies and KB passages, no LLM.

1. Keep evidence of this brand that is close enough (calibrated dense similarity). Past tickets
   about another problem (another product, device, error code or intent, or an intent this
   customer refuses: ``topics.py``) are not reused.
2. Judge every sentence of the replies to the remaining tickets (``reuse.py``): what belongs to
   the old case goes, what other agents wrote to other customers too (or a KB passage says) stays.
   Questions about details the customer already gave become an acknowledgement.
3. Answer each question of the message from the best KB passage for it, or say which part needs a
   person; link the article; cite every source the reply rests on.
4. When the only relevant article is in another language: the honest link, flagged
   ``evidence_in_other_language``. With nothing safe to say: a holding reply that fits the
   message (thanks for a compliment, an apology for a complaint, "let me check" for a question),
   flagged ``no_evidence``.

The confidence returned is the drafter's own score of its evidence; the pipeline maps it through the
brand's calibration (fitted on the brand's own history) and flags ``low_confidence`` below the
brand's threshold. The check stage adds the brand frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from copilot.checks.given import given_slots
from copilot.checks.grounding import GroundingChecker
from copilot.drafting.base import Draft, DraftRequest
from copilot.drafting.compose import best_sentences, reply_sentences
from copilot.drafting.intent import Intent, message_intent, questions
from copilot.drafting.reuse import Group, Piece, SentencePool, opener_tone
from copilot.drafting.topics import Topics, conflict, topics
from copilot.flags import Flag
from copilot.models import Citation, Hit
from copilot.prompts import Prompt, load_prompt
from copilot.retrieval.embeddings import Embedder
from copilot.text import join_sentences, overlap, tokenize

__all__ = ["EmbeddedDrafter", "citation_for"]

TICKET_MIN = 0.25     # calibrated similarity for a past reply to be considered at all
ARTICLE_MIN = 0.20    # ... for a KB passage to be quoted
FOREIGN_MIN = 0.0     # ... for an article in another language that names the ticket's intent
MAX_CANDIDATES = 10
# A sentence said to one ticket only is reused when that ticket is this close (a near-duplicate).
ALONE = 0.3
# A second group of content joins the first when it weighs at least this share of it.
SECOND_SHARE = 0.6
REDUNDANT = 0.5       # KB sentences this close to the reused sentences add nothing
SNIPPET_CHARS = 240
# Past replies only weakly related to this ticket, when an article answers it much better, are
# about other problems (a warranty question matched a vase-return reply): the article answers alone.
WEAK_TICKET = 0.5
ARTICLE_LEAD = 0.15
_OPENS = re.compile(r"(?i)^(?:oh no|sorry|so sorry|we're sorry|i'm sorry|i am sorry|we are sorry|apologies|we apologi[sz]e"
                    r"|i apologi[sz]e|thanks|thank you|we'd love|happy to|glad|i understand|we understand)\b")


@dataclass
class _Candidate:
    hit: Hit
    closeness: float
    sentences: list[str]


@dataclass
class _Body:
    parts: list[str]
    citations: list[Citation]
    score: float


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def citation_for(hit: Hit, snippet: str) -> Citation:
    c = hit.chunk
    return Citation(source_id=c.source_id, kind=c.kind, title=c.title or None, url=c.url or None,
                    snippet=_snippet(snippet))


def _article_topics(hit: Hit) -> Topics:
    """What an article is about: its title says it best (its body mentions neighbouring topics)."""
    title = topics(hit.chunk.title)
    return title if title.intents else topics(hit.chunk.text)


def _passage(hit: Hit) -> str:
    return hit.chunk.text.split("\n", 1)[-1]


class EmbeddedDrafter:
    name = "embedded"
    prompt_text = ""  # it writes from its templates and the sources: there is no prompt to leak

    def __init__(self, embedder: Embedder, *, template: Prompt | None = None,
                 grounding: GroundingChecker | None = None) -> None:
        self.embedder = embedder
        self.template = template or load_prompt("embedded_reply")
        # Says which sentence of a past reply a KB passage backs, in any language.
        self.grounding = grounding or GroundingChecker(embedder)

    def calibrated(self, sim: float | None) -> float:
        if sim is None:
            return 0.0
        lo, hi = self.embedder.floor, self.embedder.ceiling
        return float(min(1.0, max(0.0, (sim - lo) / (hi - lo))))

    def strings(self, lang: str) -> tuple[str, dict[str, str]]:
        """(language actually used, its strings); unsupported languages fall back to English."""
        if lang in self.template.languages:
            return lang, self.template.for_language(lang)
        return "en", self.template.for_language("en")

    # --- evidence ------------------------------------------------------------------------------

    def _candidates(self, hits: list[Hit], ticket_text: str, lang: str) -> list[_Candidate]:
        """Past first replies close enough, about the same problem, as reusable sentences."""
        mine = topics(ticket_text)
        top_lex = max((h.lexical or 0.0 for h in hits), default=0.0) or 1.0
        out: list[_Candidate] = []
        for h in hits:
            if len(out) >= MAX_CANDIDATES:
                break
            if h.chunk.kind != "ticket" or not h.chunk.replies or self.calibrated(h.dense) < TICKET_MIN:
                continue
            if conflict(mine, topics(h.chunk.text)) is not None:
                continue
            sentences = reply_sentences(h.chunk.replies[0], lang)
            if not sentences:
                continue
            # A strong BM25 match sharpens the compressed dense similarities.
            closeness = min(1.0, self.calibrated(h.dense) + 0.15 * (h.lexical or 0.0) / top_lex)
            out.append(_Candidate(h, closeness, sentences))
        return out

    def _articles(self, hits: list[Hit], ticket_text: str, lang: str) -> list[Hit]:
        """Articles about this ticket's problem, closest first. One in another language is compared
        through a small multilingual model that places translations far apart: it must also name
        one of the ticket's intents in its title."""
        mine = topics(ticket_text)
        found = []
        for h in hits:
            if h.chunk.kind != "article" or conflict(mine, _article_topics(h), broad=True) is not None:
                continue
            same = not h.chunk.locale or h.chunk.locale == lang
            # The best keyword matches that name the ticket's intent count too: the dense similarity of
            # short texts is compressed, and an article sharing the customer's words is on topic.
            keyword = h.lexical_rank is not None and h.lexical_rank <= 2 and bool(mine.intents & _article_topics(h).intents)
            if (self.calibrated(h.dense) >= ARTICLE_MIN or keyword) if same else (
                    self.calibrated(h.dense) >= FOREIGN_MIN and mine.intents & _article_topics(h).intents):
                found.append(h)
        return sorted(found, key=lambda h: -(h.dense or 0.0))

    # --- composition ---------------------------------------------------------------------------

    def _reused(self, cands: list[_Candidate], ticket_text: str, support: list[Hit], lang: str,
                intent: Intent, s: dict[str, str]) -> _Body | None:
        """The strongest generic content of the replies to similar tickets, with an opener. ``support``:
        articles (any language) whose sentences back what one reply alone says."""
        if not cands:
            return None
        given = given_slots(ticket_text)
        licensed = [_passage(h) for h in support]
        pool = SentencePool([c.sentences for c in cands], [c.closeness for c in cands], ticket_text=ticket_text,
                            licensed=licensed, given=given, problems=[c.hit.chunk.text for c in cands])
        lone = [g for g in pool.groups if g.agree < 2 and g.role == "statement"]
        backers = self.grounding.backing([g.best.text for g in lone], licensed)
        backed = {g.best.text: support[i] for g, i in zip(lone, backers, strict=True) if i is not None}
        groups = pool.agreed(alone=ALONE, backed=frozenset(backed))
        # What several agents wrote to several customers first; then what the closest reply asks.
        content = sorted((g for g in groups if g.role != "opener"), key=lambda g: (g.agree < 2, -g.weight))
        if not content:
            return None
        first = content[0]
        chosen = [first]
        for g in content[1:]:
            # Sentences of the same reply read together; from another reply only a strong one of another kind.
            if g.sources & first.sources or (g.agree >= 2 and g.weight >= SECOND_SHARE * first.weight
                                             and g.role != first.role):
                chosen.append(g)
                break
        openers = sorted((g for g in groups if g.role == "opener" and _fits(opener_tone(g.best.text), intent)),
                         key=lambda g: (not g.sources & first.sources, -g.weight))
        pieces: list[Piece] = [g.best for g in chosen]
        if _OPENS.search(first.best.text):
            openers = []  # "I am sorry to hear this, can I ask..." opens by itself
        elif openers:
            pieces.insert(0, openers[0].best)
        elif any("asks_given" in p.reasons and p.source in first.sources for p in pool.dropped()):
            pieces.insert(0, Piece(s["acknowledge_details"], -1, 0, "opener", set()))
        elif intent == "complaint":
            pieces.insert(0, Piece(s["opener_apology"], -1, 0, "opener", set()))
        # The opener first, then each reply's sentences in their own order.
        rank = {g.best.source: i for i, g in enumerate(chosen)}
        pieces.sort(key=lambda p: (p.role != "opener", rank.get(p.source, 0), p.position))
        used: set[int] = set()
        for g in [*chosen, *openers[:1]]:
            used |= g.sources
        citations = [citation_for(cands[i].hit, join_sentences(cands[i].sentences, lang)) for i in sorted(
            used, key=lambda i: -cands[i].closeness)]
        articles = list({h.chunk.source_id: h for h in (backed.get(g.best.text) for g in chosen) if h}.values())
        citations += [citation_for(h, _passage(h)) for h in articles]
        score = _reuse_score(chosen, cands)
        if articles:
            # One reply's statement that an article backs answers only as much as it speaks of what was asked.
            words = set(tokenize(ticket_text))
            share = len(words & set(tokenize(" ".join(p.text for p in pieces)))) / max(1, len(words))
            score = 0.1 + 0.3 * max(cands[i].closeness for i in first.sources) + 1.2 * share
        return _Body([join_sentences([_ended(p.text) for p in pieces], lang)], citations, score)

    def _answers(self, articles: list[Hit], ticket_text: str, asked: list[str], lang: str, s: dict[str, str],
                 reused: str | None) -> _Body | None:
        """Each question answered from the article that answers it best, with the link(s)."""
        if not articles:
            return None
        used_tokens = set(tokenize(reused)) if reused else set()
        parts: list[str] = []
        citations: list[Citation] = []
        links: list[str] = []
        unanswered = 0
        covered: list[float] = []
        for q in asked or [ticket_text]:
            words = set(tokenize(q))
            best: tuple[float, Hit, list[str], float] | None = None
            for h in articles[:3]:
                sents = best_sentences(_passage(h), q)
                share = len(words & set(tokenize(" ".join(sents)))) / max(1, len(words))
                rank = share + 0.3 * self.calibrated(h.dense)
                if sents and share and (best is None or rank > best[0]):
                    best = (rank, h, sents, share)
            if best is None:
                unanswered += 1
                continue
            _, h, sents, share = best
            covered.append(share)
            fresh = [x for x in sents if x not in parts and overlap(set(tokenize(x)), used_tokens) < REDUNDANT]
            parts.extend(fresh)
            if h.chunk.source_id not in {c.source_id for c in citations}:
                citations.append(citation_for(h, join_sentences(sents, lang)))
                if h.chunk.url and h.chunk.url not in links:
                    links.append(h.chunk.url)
        if not citations:
            return None
        text = join_sentences(parts, lang) if parts else ""
        sep = "" if lang == "zh" else " "  # Chinese runs sentences on without spaces
        body = [text if reused or not text else f"{s['kb_intro']}{sep}{text}"] if text else []
        if unanswered and len(asked) > 1:
            body.append(s["other_part"])
        body.extend(s["see_article"].format(title=u) for u in links[:1])
        # An article about the topic is not an answer to the question: how much of what was asked
        # the chosen sentences speak of counts as much as how close the article is.
        score = 0.1 + 0.3 * self.calibrated(articles[0].dense) + 1.2 * min(covered) - (0.15 if unanswered else 0.0)
        return _Body(body, citations, score)

    # --- main ----------------------------------------------------------------------------------

    def draft(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Draft:
        # Composition takes milliseconds: there is nothing to stream, the caller gets the whole reply.
        lang, s = self.strings(request.language)
        flags: list[str] = []
        if lang != request.language:
            flags.append(Flag.LANGUAGE_UNSUPPORTED)
        text = request.query
        intent = message_intent(text)
        signals = set(request.screening.signals)
        if {"legal_threat", "safety"} & signals:
            # Legal and safety cases go to a person; the reply makes no claims of its own.
            return Draft(body=s["escalation"], language=lang, citations=[], confidence=0.5, flags=flags,
                         prompt_version=self.template.id)

        same_lang = [h for h in request.hits if not h.chunk.locale or h.chunk.locale == lang]
        cands = self._candidates(same_lang, text, lang)
        articles = self._articles(same_lang, text, lang)
        if cands and articles:
            best_ticket = max(self.calibrated(c.hit.dense) for c in cands)
            if best_ticket < WEAK_TICKET and self.calibrated(articles[0].dense) >= best_ticket + ARTICLE_LEAD:
                cands = []
        support = self._articles(request.hits, text, lang)[:3]
        reused = self._reused(cands, text, support, lang, intent, s)
        best_ticket = max((self.calibrated(c.hit.dense) for c in cands), default=0.0)
        answered = None
        # A much closer past ticket speaks first; when none of its sentences could be reused, the
        # same-language article still answers (before any article in another language).
        if articles and (reused is None or self.calibrated(articles[0].dense) >= best_ticket - 0.25):
            answered = self._answers(articles, text, questions(text), lang, s,
                                     reused.parts[0] if reused else None)
        bodies = [b for b in (reused, answered) if b is not None]
        if bodies:
            parts = [p for b in bodies for p in b.parts]
            citations = [c for b in bodies for c in b.citations]
            if "anger" in signals and not reused:
                parts.insert(0, s["opener_apology"])
            return Draft(body="\n\n".join(parts), language=lang, citations=citations,
                         confidence=round(min(1.0, max(b.score for b in bodies)), 3), flags=flags,
                         prompt_version=self.template.id)

        foreign = self._articles([h for h in request.hits if h not in same_lang], text, lang)
        if foreign:
            top = foreign[0]
            # The article, not one of its sections: the customer reads it whole.
            title = top.chunk.title.split(" › ")[0] + (f" ({top.chunk.url})" if top.chunk.url else "")
            return Draft(body=s["other_language_article"].format(title=title), language=lang,
                         citations=[citation_for(top, _passage(top))],
                         # Honest and harmless: the brand's own article on the ticket's intent, said to be in
                         # another language. It ranks with the best-backed drafts.
                         confidence=round(min(0.95, 0.75 + 0.3 * self.calibrated(top.dense)), 3),
                         flags=[*flags, Flag.EVIDENCE_IN_OTHER_LANGUAGE], prompt_version=self.template.id)
        return self._holding(lang, s, intent, flags)

    def _holding(self, lang: str, s: dict[str, str], intent: Intent, flags: list[str]) -> Draft:
        return Draft(body=s[f"holding_{intent}"], language=lang, citations=[], confidence=0.1,
                     flags=[Flag.NO_EVIDENCE, *flags], prompt_version=self.template.id)

    def holding(self, request: DraftRequest) -> Draft:
        """The honest holding reply, for when no draft could be made safe to send."""
        lang, s = self.strings(request.language)
        flags: list[str] = [Flag.LANGUAGE_UNSUPPORTED] if lang != request.language else []
        return self._holding(lang, s, message_intent(request.query), flags)


def _ended(sentence: str) -> str:
    """A sentence that lost its full stop gets one back before another sentence follows it."""
    return sentence if sentence.rstrip().endswith((".", "!", "?", "。", "！", "？", ")", "…")) else f"{sentence.rstrip()}."


def _fits(tone: str, intent: Intent) -> bool:
    """An opener's tone fits the message: a complaint gets an apology, a compliment thanks, a
    problem an apology or an offer of help."""
    if intent == "compliment":
        return tone == "thanks"
    if intent == "complaint":
        return tone == "apology"
    if intent == "problem":
        return tone != "thanks"
    return tone != "apology"  # a plain question is not a problem to be sorry about


def _reuse_score(chosen: list[Group], cands: list[_Candidate]) -> float:
    """How strongly the reused content is backed: the closeness of the tickets behind it, and how
    many agents wrote it to how many customers."""
    top = chosen[0]
    nearest = max(cands[i].closeness for i in top.sources)
    if top.agree < 2:
        # One agent's words to one customer: only as good as that customer's problem is close to this one.
        return 0.1 + 0.6 * nearest
    return min(0.95, 0.5 + 0.25 * nearest + 0.15 * min(1.0, (top.agree - 1) / 3) + 0.05 * (len(chosen) > 1))
