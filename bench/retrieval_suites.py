"""Write the full-size retrieval benchmarks of issue 12 as `copilot eval` suites a QA lead can rerun.

    python bench/retrieval_suites.py --data ../shared/data --out runs/retrieval     # writes, prints commands
    python bench/retrieval_suites.py --data ../shared/data --out runs/retrieval --run

For each set of bench/retrieval_sets.py (UIT-ViCoV19QA, AFQMC, Banking77) it writes the corpus as the
copilot ingests it (articles or tickets JSONL), the *report* queries as cases (the tune queries never
become cases) and a suite YAML; nothing of the data goes into the repository. `--run` then runs
`copilot eval run` on each (the whole corpus is embedded by the real model: minutes to an hour on a
laptop) and prints the retrieval metrics of the full suggest path.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.retrieval_sets import load_set
from copilot.evaluation.cases import EvalCase
from copilot.models import Message, Ticket

METRICS = {"vi": ["recall@5", "mrr", "ndcg@10", "latency_ms"], "zh": ["recall@5", "mrr", "ndcg@10", "latency_ms"],
           "en": ["action_top1", "action_top3", "latency_ms"]}


def write_suite(name: str, data: Path, out: Path) -> Path:
    s = load_set(name, data)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    copilot: dict[str, object] = {"brand": s.brand}
    if s.articles:
        (folder / "articles.jsonl").write_text("".join(a.model_dump_json(exclude_defaults=True) + "\n" for a in s.articles),
                                               encoding="utf-8")
        copilot["kb"] = ["articles.jsonl"]
    if s.tickets:
        (folder / "tickets.jsonl").write_text("".join(t.model_dump_json(exclude_defaults=True) + "\n" for t in s.tickets),
                                              encoding="utf-8")
        copilot["tickets"] = ["tickets.jsonl"]
    actions = {t.id: t.actions for t in s.tickets}
    cases = []
    for q in s.part("report"):
        ticket = Ticket(id=q.id, brand=s.brand, locale=s.language, messages=[Message(author="customer", body=q.text)])
        if s.tickets:  # Banking77: the intent is what to predict; every same-intent ticket is as good
            intent = actions[next(iter(q.relevant)).split(":", 1)[1]]
            cases.append(EvalCase(id=q.id, ticket=ticket, expected_actions=intent, language=s.language))
        else:
            cases.append(EvalCase(id=q.id, ticket=ticket, expected_sources=sorted(q.relevant), language=s.language))
    (folder / "cases.jsonl").write_text("".join(c.model_dump_json(exclude_defaults=True) + "\n" for c in cases),
                                        encoding="utf-8")
    if s.tickets:
        config = {"builtin_actions": False, "actions": [{"id": a, "title": a.replace("_", " ").capitalize()}
                                                        for a in sorted({a for t in s.tickets for a in t.actions})]}
        (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        copilot["config"] = "config.yaml"
    suite = {"name": f"retrieval-{name}", "description": f"{s.name}: full corpus, report queries (issue 12)",
             "dataset": "cases.jsonl", "copilot": copilot, "metrics": METRICS[name]}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False, allow_unicode=True), encoding="utf-8")
    print(f"{s.name}: {len(s.articles)} articles, {len(s.tickets)} tickets, {len(cases)} cases -> {path}")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("runs/retrieval"))
    ap.add_argument("--sets", default="vi,zh,en")
    ap.add_argument("--run", action="store_true", help="also run each suite with `copilot eval run`")
    args = ap.parse_args()
    for name in args.sets.split(","):
        suite = write_suite(name, args.data, args.out.resolve())
        cmd = [sys.executable, "-m", "copilot.cli", "eval", "run", str(suite), "--out", str(suite.parent / "run")]
        print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
        if args.run:
            subprocess.run(cmd, check=False)
            summary = json.loads((suite.parent / "run" / "summary.json").read_text(encoding="utf-8"))
            print("  " + ", ".join(f"{k} {v['mean'] if v['mean'] is not None else v['p95']}"
                                   for k, v in summary["metrics"].items()))


if __name__ == "__main__":
    main()
