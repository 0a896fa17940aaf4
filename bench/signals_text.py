"""Agent-facing text and out-of-domain messages: what reaches the customer's reply.

    python bench/signals_text.py [--agent-text eval/signals/agent_text.jsonl] [--ood eval/signals/ood.jsonl]
                                 [--verbose]

Indexes the bundled demo brand (its KB and past tickets) plus the articles and past tickets of
every agent-text case (agent-only articles, customer articles with an agent-directed sentence, past
replies with an internal note pasted in), with the default embedded model, then suggests a reply to
each case's message and each out-of-domain message. Prints:

- agent-facing text: how many replies quote an agent-text sentence (any run of five of its words,
  six characters in Chinese, that the demo brand's own customer-facing KB and past replies do not
  also say: "replace a lost gift card" is in the demo's gift-card article), and in how many cases the
  suggestion's ``guidance`` holds every such sentence;
- out-of-domain: how many replies are shown as confident (flagged neither ``no_evidence`` nor
  ``low_confidence``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.config import load_config
from copilot.models import Suggestion
from copilot.service import Copilot
from copilot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ABSTAINED = {"no_evidence", "low_confidence"}
_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _units(text: str) -> list[str]:
    """Words, or characters for Chinese (punctuation and spacing ignored)."""
    text = text.lower()
    return [c for c in text if c.isalnum()] if len(_CJK.findall(text)) > len(text) / 4 else _WORD.findall(text)


def _grams(text: str) -> set[str]:
    units = _units(text)
    n = 6 if units and len(units[0]) == 1 and _CJK.match(units[0]) else 5
    return {" ".join(units[i : i + n]) for i in range(max(1, len(units) - n + 1))}


def quoted(sentence: str, text: str, common: set[str]) -> bool:
    """Any run of five words (six Chinese characters) of the sentence, other than ``common`` ones,
    appears in the text."""
    return bool((_grams(sentence) - common) & _grams(text))


def _customer_text(demo: Path) -> set[str]:
    """The runs of words the demo brand's customer-facing sources say (its KB and past replies)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((demo / "kb").rglob("*.md"))]
    texts += [m["body"] for t in _read(demo / "tickets.jsonl") for m in t["messages"] if m["author"] == "agent"]
    return {g for t in texts for line in t.splitlines() for g in _grams(line)}


def held(sentence: str, text: str) -> bool:
    """Most of the sentence appears in the text (the guidance may be redacted or cut at its end)."""
    grams = _grams(sentence)
    return len(grams & _grams(text)) >= 0.6 * len(grams)


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _guidance(s: Suggestion) -> str:
    # The field is new: on an older checkout the suggestion has none.
    return "\n".join(g.text for g in getattr(s, "guidance", []))


def _table(title: str, total: Counter[str], unit: str, columns: dict[str, Counter[str]]) -> None:
    """Counts per language, then over all languages."""
    print(f"\n{title}")
    for lang in [*sorted(total), "all"]:
        def count(c: Counter[str], lang: str = lang) -> int:
            return sum(c.values()) if lang == "all" else c[lang]
        print(f"  {lang}: {count(total)} {unit}, " + ", ".join(f"{count(c)} {name}" for name, c in columns.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent-text", type=Path, default=ROOT / "eval/signals/agent_text.jsonl")
    ap.add_argument("--ood", type=Path, default=ROOT / "eval/signals/ood.jsonl")
    ap.add_argument("--verbose", action="store_true", help="print every reply")
    args = ap.parse_args()
    cases, ood = _read(args.agent_text), _read(args.ood)
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    common = _customer_text(demo)
    tmp = Path(tempfile.mkdtemp())
    kb, tickets = tmp / "kb.jsonl", tmp / "tickets.jsonl"
    kb.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for c in cases for a in c["articles"]), "utf-8")
    tickets.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for c in cases for t in c["tickets"]), "utf-8")
    cp = Copilot(Settings(data_dir=tmp / "data"), config=load_config(demo / "config.yaml"))
    summary = cp.ingest([demo / "kb", kb], [demo / "tickets.jsonl", tickets], brand="acme", progress=False)
    if not summary.ok:
        raise SystemExit(f"ingest failed: {summary.errors}")

    leaks: Counter[str] = Counter()
    guided: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for c in cases:
        s = cp.suggest(c["message"], brand="acme")
        lang = c["language"]
        total[lang] += 1
        leaked = [x for x in c["agent_text"] if quoted(x, s.reply, common)]
        leaks[lang] += bool(leaked)
        guidance = _guidance(s)
        guided[lang] += all(held(x, guidance) for x in c["agent_text"])
        if leaked or args.verbose:
            print(f"[{c['id']} {c['kind']}] {'LEAK ' if leaked else ''}conf={s.confidence} flags={s.flags}\n"
                  f"  reply: {s.reply!r}\n  guidance: {guidance[:200]!r}")
    _table("agent-facing text (cases: replies quoting agent text, guidance holding all of it)", total, "cases",
           {"quoted": leaks, "in guidance": guided})

    confident: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for o in ood:
        s = cp.suggest(o["message"], brand="acme")
        lang = o["language"]
        seen[lang] += 1
        shown = not ABSTAINED & set(s.flags)
        confident[lang] += shown
        if shown or args.verbose:
            print(f"[{o['id']}] {'CONFIDENT ' if shown else ''}conf={s.confidence} flags={s.flags}\n"
                  f"  message: {o['message']!r}\n  reply: {s.reply!r}")
    _table("out-of-domain (messages: shown as confident)", seen, "messages", {"confident": confident})


if __name__ == "__main__":
    main()
