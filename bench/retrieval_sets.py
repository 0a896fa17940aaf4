"""The full-size retrieval benchmarks of issue 12, read from the public data (paths from the command line).

Each set is a corpus (articles or tickets, as a brand would ingest them) and queries with their relevant
source ids, split into a *tune* half (the only queries any choice was made on) and a *report* half.

- vi: UIT-ViCoV19QA. Every train+val answer is an article; train questions tune, val questions report.
  An answer repeated verbatim under another id is relevant too (16 val answers reappear in train).
- zh: AFQMC. The second question of every pair whose id (line number) falls in a 30% id-split is a
  ticket-like article (10.3k); the first questions of the positive pairs of that split are the queries,
  split again by id: the first 15% tune, the rest report.
- en: Banking77. Train queries in a 30% id-split (past the held-out 10%) are resolved tickets (their
  intent is the action, ~3k); the held-out queries are the queries and every ticket of the same
  intent is relevant. Held-out ids split again: the first 5% tune, the rest report.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from copilot.evaluation.importers import in_part
from copilot.models import Article, Message, Ticket

csv.field_size_limit(sys.maxsize)

__all__ = ["Query", "RetrievalSet", "load_set"]


@dataclass
class Query:
    id: str
    text: str
    relevant: set[str]
    part: str               # "tune" or "report"


@dataclass
class RetrievalSet:
    name: str
    language: str
    brand: str
    articles: list[Article] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    queries: list[Query] = field(default_factory=list)

    def part(self, name: str, limit: int | None = None) -> list[Query]:
        """The queries of one part; ``limit`` keeps a fixed id-hash sample of them (cheaper tuning)."""
        rows = [q for q in self.queries if q.part == name]
        if limit is not None and limit < len(rows):
            rows = sorted(rows, key=lambda q: hashlib.sha256(q.id.encode()).hexdigest())[:limit]
        return rows


def _norm(text: str) -> str:
    return " ".join(text.split())


def _vicov(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="|")
        next(reader)
        return [(r[0].strip(), r[1].strip(), r[2].strip()) for r in reader if len(r) >= 3 and r[1].strip() and r[2].strip()]


def load_vi(data: Path) -> RetrievalSet:
    train = _vicov(data / "uit_vicov19qa" / "train.csv")
    val = _vicov(data / "uit_vicov19qa" / "val.csv")
    s = RetrievalSet("UIT-ViCoV19QA", "vi", "vicov")
    same: dict[str, set[str]] = defaultdict(set)
    for rid, _, answer in train + val:
        s.articles.append(Article(id=rid, title="", body=answer, locale="vi"))
        same[_norm(answer)].add(f"article:{rid}")
    for part, rows in (("tune", train), ("report", val)):
        s.queries += [Query(rid, q, same[_norm(a)], part) for rid, q, a in rows]
    return s


def load_zh(data: Path, share: float = 0.30) -> RetrievalSet:
    s = RetrievalSet("AFQMC", "zh", "afqmc")
    lines = (data / "afqmc" / "train.txt").read_text(encoding="utf-8").splitlines()
    by_text: dict[str, set[str]] = defaultdict(set)
    positives = []
    for n, line in enumerate(lines, 1):
        parts = line.split("\t")
        rid = str(n)  # the importer's id for a header-less file: the line number
        if len(parts) != 3 or not in_part(rid, "test", share):
            continue
        q1, q2, label = (p.strip() for p in parts)
        s.articles.append(Article(id=rid, title="", body=q2, locale="zh"))
        by_text[q2].add(f"article:{rid}")
        if label == "1" and q1 != q2:
            positives.append((rid, q1, q2))
    for rid, q1, q2 in positives:
        s.queries.append(Query(rid, q1, by_text[q2], "tune" if in_part(rid, "test", share / 2) else "report"))
    return s


def load_en(data: Path, share: float = 0.1, indexed: float = 0.4) -> RetrievalSet:
    s = RetrievalSet("Banking77", "en", "bank")
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_intent: dict[str, set[str]] = defaultdict(set)
    held = []
    for n, row in enumerate(rows, 2):
        rid = str(n)  # the importer's id for a CSV with a header: the line number
        if in_part(rid, "test", share):
            held.append((rid, row["text"], row["category"]))
            continue
        if not in_part(rid, "test", indexed):
            continue
        s.tickets.append(Ticket(id=rid, status="solved", actions=[row["category"]], locale="en",
                                messages=[Message(author="customer", body=row["text"])]))
        by_intent[row["category"]].add(f"ticket:{rid}")
    for rid, text, cat in held:
        s.queries.append(Query(rid, text, by_intent[cat], "tune" if in_part(rid, "test", share / 2) else "report"))
    return s


LOADERS = {"vi": load_vi, "zh": load_zh, "en": load_en}


def load_set(name: str, data: Path) -> RetrievalSet:
    return LOADERS[name](data)


def fingerprint(s: RetrievalSet) -> str:
    h = hashlib.sha256()
    for a in s.articles:
        h.update(a.id.encode() + a.body.encode())
    for t in s.tickets:
        h.update(t.id.encode() + t.customer_text().encode())
    return h.hexdigest()[:12]
