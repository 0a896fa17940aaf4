"""Next-best action accuracy on Banking77, with and without a hand-written action catalog.

    python bench/actions.py --data ../shared/data              # the whole held-out split
    python bench/actions.py --data ../shared/data --limit 300  # a quicker look

The split is the one of `copilot eval import banking77 ... --part train/test` (by record id, 10%
held out). Train queries are ingested once as resolved tickets with their intent as the action. Then
every held-out query is suggested twice, on the same index:
- learned: the default config (built-in catalog only; the 77 intents are nobody's catalog entries,
  so they rank as actions learned from the tickets);
- catalog: a hand-written catalog of the 77 intents (title and description from the id), built-ins off.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.config import ActionSpec, CopilotConfig
from copilot.evaluation.importers import import_records
from copilot.models import Message, Ticket
from copilot.service import Copilot
from copilot.settings import Settings


def tickets(path: Path, part: str) -> list[Ticket]:
    return [t for t in import_records("banking77", path, as_="tickets", part=part)  # type: ignore[arg-type]
            if isinstance(t, Ticket)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder holding banking77/train.csv")
    ap.add_argument("--limit", type=int, default=None, help="evaluate the first N held-out queries")
    args = ap.parse_args()
    csv = args.data / "banking77" / "train.csv"
    train, test = tickets(csv, "train"), tickets(csv, "test")[: args.limit]
    intents = sorted({a for t in train for a in t.actions})
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="copilot-bench-actions-")), top_k=10)
    learned = Copilot(settings, config=CopilotConfig())
    t0 = time.perf_counter()
    summary = learned.ingest_records(tickets=train, brand="bank")
    print(f"Banking77: {len(train)} train queries ingested as resolved tickets ({time.perf_counter() - t0:.0f}s), "
          f"{len(test)} held out, {len(intents)} intents; {len(summary.learned_actions)} learned actions "
          f"in the ingest summary")
    catalog = [ActionSpec(id=i, title=i.replace("_", " "), description=i.replace("_", " ")) for i in intents]
    with_catalog = Copilot(settings, config=CopilotConfig(actions=catalog, builtin_actions=False),
                           embedder=learned.embedder)
    for name, cp in (("learned (no catalog)", learned), ("hand-written catalog", with_catalog)):
        top1 = top3 = 0
        t1 = time.perf_counter()
        for t in test:
            s = cp.suggest(Ticket(brand="bank", messages=[Message(author="customer", body=t.customer_text())]))
            ids = [a.id for a in s.next_actions]
            top1 += bool(ids) and ids[0] == t.actions[0]
            top3 += t.actions[0] in ids[:3]
        n = len(test)
        print(f"  {name:<22} top-1 {top1 / n:.3f}  top-3 {top3 / n:.3f}  "
              f"({1000 * (time.perf_counter() - t1) / n:.0f} ms/suggestion)")


if __name__ == "__main__":
    main()
