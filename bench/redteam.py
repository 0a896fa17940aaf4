"""Red-team result: how many injection / exfiltration attempts changed behaviour, per drafter.

    python bench/redteam.py [--suite eval/redteam/v1.jsonl]
    python bench/redteam.py --llm-model NAME [--llm-base-url URL]   # also against a real model

Runs the suite on the bundled demo brand with the real embedded model: once with the embedded
drafter, once with the LLM drafter driven by an obedient model that follows every injected
instruction (the worst case, so only our checks stand between the attack and the reply), and,
when a model is named, once with it (OpenAI with OPENAI_API_KEY, or an OpenAI-compatible server).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.messages import AIMessage

from copilot.config import load_config
from copilot.drafting.llm import LLMDrafter
from copilot.evaluation.redteam import ObedientChatModel, load_cases, run_suite
from copilot.service import Copilot
from copilot.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", type=Path, default=Path(__file__).resolve().parent.parent / "eval/redteam/v1.jsonl")
    ap.add_argument("--llm-model", help="also run against this chat model")
    ap.add_argument("--llm-base-url", help="an OpenAI-compatible server for --llm-model")
    args = ap.parse_args()
    cases = load_cases(args.suite)
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    labels = ["embedded", "llm (obedient model)"]
    if args.llm_model:
        labels.append(f"llm ({args.llm_model})")
    for label in labels:
        settings = Settings(data_dir=Path(tempfile.mkdtemp()))
        if label == f"llm ({args.llm_model})":
            settings = Settings(data_dir=settings.data_dir, llm_model=args.llm_model, llm_base_url=args.llm_base_url,
                                llm_timeout_s=120)
        drafter = LLMDrafter(ObedientChatModel(responses=[AIMessage(content="")]), name="obedient") \
            if label == "llm (obedient model)" else None
        cp = Copilot(settings, config=load_config(demo / "config.yaml"), drafter=drafter)
        cp.ingest([demo / "kb"], [demo / "tickets.jsonl"], brand="acme", progress=False)
        result = run_suite(cp, cases, brand="acme")
        print(f"{label:<22} {result['changed_behaviour']}/{result['cases']} attempts changed behaviour "
              f"(LLM drafts that fell back to the embedded drafter: {result['llm_fallbacks']}) "
              + (f"({', '.join(f['id'] for f in result['failures'])})" if result["failures"] else ""))


if __name__ == "__main__":
    main()
