"""The ``copilot`` command line (contract: see DESIGN.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel, ValidationError

from copilot import __version__
from copilot.errors import CopilotError, InputError
from copilot.models import Hit, Suggestion, Ticket
from copilot.settings import Settings

if TYPE_CHECKING:
    from copilot.service import Copilot

__all__ = ["main"]

# The demo's first message, then what "Try another" proposes (never the message just used).
DEMO_MESSAGES = ("Hi, I returned a chair last week and still haven't got my money back. When will I see the refund?",
                 "Tôi muốn trả lại cái ghế, làm thế nào?", "我的包裹还没到，怎么查物流？")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    if getattr(args, "config", None):
        overrides["config"] = args.config
    return Settings(**overrides)


def _copilot(args: argparse.Namespace) -> Copilot:
    # Imported here: `copilot --help` and bad arguments answer without loading the heavy parts.
    from copilot.service import Copilot

    return Copilot(_settings(args))


def _hit_json(h: Hit) -> dict[str, Any]:
    c = h.chunk
    snippet = " ".join(c.text.split())
    return {
        "source_id": c.source_id, "kind": c.kind, "score": round(h.score, 6), "title": c.title,
        "snippet": snippet[:240], "url": c.url or None, "locale": c.locale or None,
        "dense": None if h.dense is None else round(h.dense, 4),
        "lexical": None if h.lexical is None else round(h.lexical, 4),
    }


def _relevance(h: Hit, floor: float, ceiling: float) -> str:
    """How close a hit is in meaning, as a percentage a person can read (the embedder's calibrated
    similarity), and which signals found it; the raw fusion scores are in --json."""
    pct = 0.0 if h.dense is None else min(1.0, max(0.0, (h.dense - floor) / (ceiling - floor)))
    found = ("meaning and words" if h.dense_rank and h.lexical_rank else "words" if h.lexical_rank and not h.dense_rank
             else "meaning")
    return f"relevance {pct:.0%} (matched on {found})"


def _print_hits(hits: list[Hit], out: TextIO, *, floor: float, ceiling: float) -> None:
    if not hits:
        print("No results.", file=out)
    for i, h in enumerate(hits, 1):
        c = h.chunk
        print(f"{i:>2}. {c.source_id}  {c.title}", file=out)
        print(f"    {_relevance(h, floor, ceiling)}{'  ' + c.url if c.url else ''}", file=out)
        print(f"    {' '.join(c.text.split())[:160]}", file=out)


def _print_suggestion(s: Suggestion, out: TextIO) -> None:
    rule = "─" * 72
    meta = f"{s.language} · confidence {s.confidence:.2f} · {s.drafter}"
    if s.prompt_version:
        meta += f" · {s.prompt_version}"
    meta += f" · {s.latency_ms:.0f} ms"
    if s.startup_ms >= 100:
        meta += f"; start-up {s.startup_ms / 1000:.1f} s"
    print(f"Suggested reply ({meta})", file=out)
    print(rule, file=out)
    print(s.reply, file=out)
    print(rule, file=out)
    if s.flags:
        print("Flags: " + ", ".join(s.flags), file=out)
    print("Sources:" if s.citations else "Sources: none", file=out)
    for i, c in enumerate(s.citations, 1):
        print(f"  [{i}] {c.source_id}  {c.title or ''}{'  ' + c.url if c.url else ''}", file=out)
        print(f"      “{c.snippet}”", file=out)
    print("Next actions:" if s.next_actions else "Next actions: none", file=out)
    for i, a in enumerate(s.next_actions, 1):
        print(f"  {i}. {a.title} [{a.id}] ({a.confidence:.2f})" + (f" — {a.reason}" if a.reason else ""), file=out)


def _read_ticket(args: argparse.Namespace) -> Ticket:
    if args.message is not None:
        return Ticket.model_validate({"messages": [{"author": "customer", "body": args.message}]})
    if args.ticket:
        source, raw = str(args.ticket), _read_text(Path(args.ticket))
    else:
        source, raw = "standard input", sys.stdin.read()
    if not raw.strip():
        raise InputError(f"no ticket given on {source}",
                         hint="use --message TEXT, --ticket FILE, or pipe a ticket JSON on standard input")
    try:
        return Ticket.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError(f"invalid ticket JSON: {exc.errors()[0]['msg']} at {_loc(exc)}", where=source,
                         hint='shape: {"messages": [{"author": "customer", "body": "..."}]}') from exc


def _loc(exc: ValidationError) -> str:
    return ".".join(str(p) for p in exc.errors()[0]["loc"]) or "top level"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", hint="check the path") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start + 1})", where=str(path),
                         hint="save the file as UTF-8 (a binary file cannot be read)") from exc


def _batch_lines(path: Path) -> list[tuple[int, str | InputError]]:
    """Non-blank lines, each decoded on its own: a line that is not UTF-8 is an error for that line only."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", hint="check the path") from exc
    out: list[tuple[int, str | InputError]] = []
    for n, line in enumerate(raw.splitlines(), 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append((n, InputError(f"not UTF-8 text (byte {exc.start + 1} of the line)",
                                      hint="save the file as UTF-8")))
            continue
        if text.strip():
            out.append((n, text))
    return out


# --- commands ------------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.kb and not args.tickets:
        raise InputError("nothing to ingest", hint="pass --kb PATH and/or --tickets PATH")
    cp = _copilot(args)
    summary = cp.ingest([Path(p) for p in args.kb], [Path(p) for p in args.tickets], brand=args.brand,
                        prune=args.prune, include_unresolved=args.include_unresolved)
    if args.json:
        print(summary.model_dump_json())
    else:
        out = sys.stdout
        info = cp.index_info()
        print(f"Ingested into {info.location} ({info.embedder}) in {summary.seconds:.1f}s", file=out)
        print(f"  added {summary.added} · updated {summary.updated} · unchanged {summary.unchanged} · "
              f"removed {summary.removed} · skipped {len(summary.skipped)} · errors {len(summary.errors)} · "
              f"chunks embedded {summary.chunks_embedded}", file=out)
        reasons: dict[str, int] = {}
        for _, why in summary.skipped:
            reasons[why] = reasons.get(why, 0) + 1
        for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  skipped {n}: {why}", file=out)
        learned = summary.learned_actions
        if learned:
            print(f"  learned actions (in resolved tickets, not in the action catalog): {len(learned)}", file=out)
            for a in learned[:20]:
                print(f"    {a.id} \"{a.title}\" ({a.tickets} tickets, e.g. {', '.join(a.examples)})", file=out)
            if len(learned) > 20:
                print(f"    ... and {len(learned) - 20} more (--json lists them all)", file=out)
            print("  hint: they already rank as next actions; describe them under `actions:` in the config "
                  "(id, title, description, when) to set their titles and cues", file=out)
        if summary.quarantined:
            print(f"  quarantined {len(summary.quarantined)} (suspicious: not indexed; review them):", file=out)
        for sid, why in summary.quarantined[:50]:
            print(f"    {sid}: {why}", file=out)
    for err in summary.errors[:50]:
        print(f"error: {err}", file=sys.stderr)
    if len(summary.errors) > 50:
        print(f"error: ... and {len(summary.errors) - 50} more", file=sys.stderr)
    return 1 if summary.errors else 0


def _run_batch(path: Path, handle: Callable[[str], str]) -> int:
    """One JSON line out per line in, same order; a bad line gets an error object in its place."""
    failed = 0
    for lineno, line in _batch_lines(path):
        where = f"{path}:{lineno}"
        err: dict[str, str | None]
        try:
            if isinstance(line, InputError):
                raise line
            print(handle(line))
        except ValidationError as exc:
            failed += 1
            err = {"code": "invalid_input", "where": where, "message": f"{exc.errors()[0]['msg']} at {_loc(exc)}"}
        except CopilotError as exc:
            failed += 1
            err = {**exc.to_dict(), "where": where}
        except (ValueError, RecursionError) as exc:  # JSON syntax, nesting
            failed += 1
            err = {"code": "invalid_input", "where": where, "message": str(exc) or type(exc).__name__}
        else:
            sys.stdout.flush()
            continue
        print(json.dumps({"error": err}, ensure_ascii=False))
        print(f"error: {where}: {err['message']}", file=sys.stderr)
    return 1 if failed else 0


class _Query(BaseModel):
    query: str
    brand: str | None = None


def _warn_if_empty(cp: Copilot) -> None:
    info = cp.index_info()
    if info.chunks == 0:
        print(f"note: the index at {info.location} is empty; run `copilot ingest` first", file=sys.stderr)


def _print_explanation(e: Any, out: TextIO) -> None:
    w = e.weight
    print(f"brand {e.brand} · language {e.language} · dense share {w.dense:.1f}, lexical {1 - w.dense:.1f} "
          f"({w.source}{f' on {w.queries} pseudo-queries' if w.queries else ''})", file=out)
    if w.mrr:
        print("  pseudo-query MRR@10: " + ", ".join(f"{k} {v:.3f}" for k, v in w.mrr.items()), file=out)
    cal = e.calibration
    if cal is None:
        print("  no calibration stored: language priors (run `copilot search --recalibrate`)", file=out)
    else:
        langs = ", ".join(f"{lang} {sw.dense:.1f}" for lang, sw in sorted(cal.languages.items())) or "none measured"
        print(f"  calibrated {cal.created_at} on {cal.chunks} chunks; dense share by language: {langs}", file=out)
    stale = "" if e.index_analyzer == e.analyzer else f" (index made by {e.index_analyzer or 'an unversioned analyzer'}: run `copilot ingest` to migrate)"
    print(f"  terms: {' '.join(e.terms) or '(none)'}  [analyzer {e.analyzer}{stale}]", file=out)


def cmd_search(args: argparse.Namespace) -> int:
    cp = _copilot(args)
    _warn_if_empty(cp)
    if args.recalibrate:
        cp.recalibrate(args.brand)
    if args.batch:
        def one(line: str) -> str:
            q = _Query.model_validate_json(line)
            hits = cp.search(q.query, brand=q.brand or args.brand, k=args.k)
            return json.dumps([_hit_json(h) for h in hits], ensure_ascii=False)

        return _run_batch(Path(args.batch), one)
    if not args.query:
        raise InputError("no query given", hint="copilot search 'your question' or --batch FILE")
    hits = cp.search(args.query, brand=args.brand, k=args.k)
    explanation = cp.explain_search(args.query, brand=args.brand) if args.explain else None
    if args.json:
        rows = [_hit_json(h) | ({"dense_rank": h.dense_rank, "lexical_rank": h.lexical_rank} if explanation else {})
                for h in hits]
        doc: Any = {"explain": explanation.model_dump(mode="json"), "hits": rows} if explanation else rows
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        if explanation is not None:
            _print_explanation(explanation, sys.stdout)
        _print_hits(hits, sys.stdout, floor=cp.embedder.floor, ceiling=cp.embedder.ceiling)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    cp = _copilot(args)
    _warn_if_empty(cp)
    if args.batch:
        return _run_batch(Path(args.batch),
                          lambda line: cp.suggest(Ticket.model_validate_json(line), brand=args.brand).model_dump_json())
    if args.stream:
        return _stream(cp, _read_ticket(args), args)
    suggestion = cp.suggest(_read_ticket(args), brand=args.brand)
    if args.json:
        print(suggestion.model_dump_json(indent=2))
    else:
        _print_suggestion(suggestion, sys.stdout)
    return 0


def _stream(cp: Copilot, ticket: Ticket, args: argparse.Namespace) -> int:
    """--json: one event JSON per line (NDJSON). Otherwise the draft as it is written (on standard
    error, so standard output holds only the final, checked suggestion)."""
    shown = ""
    for event in cp.stream(ticket, brand=args.brand):
        if args.json:
            print(event.model_dump_json(exclude_none=True), flush=True)
        elif event.suggestion is not None:
            if shown:
                print(file=sys.stderr)
            _print_suggestion(event.suggestion, sys.stdout)
        elif event.text.startswith(shown):
            sys.stderr.write(event.text[len(shown):])
            sys.stderr.flush()
            shown = event.text
    return 0


def cmd_rewrite(args: argparse.Namespace) -> int:
    source = str(args.suggestion) if args.suggestion else "standard input"
    raw = _read_text(Path(args.suggestion)) if args.suggestion else sys.stdin.read()
    try:
        suggestion = Suggestion.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError(f"invalid suggestion JSON: {exc.errors()[0]['msg']} at {_loc(exc)}", where=source,
                         hint="pass the output of `copilot suggest --json`") from exc
    out = _copilot(args).rewrite(suggestion, args.instruction, language=args.language)
    if args.json:
        print(out.model_dump_json(indent=2))
    else:
        _print_suggestion(out, sys.stdout)
    return 0


def _json_logging() -> None:
    """Services log one JSON object per line, personal data redacted."""
    import logging

    from copilot.integrations.http.observability import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from copilot.serving import build_service

    _json_logging()
    cp = _copilot(args)
    cp.own_store()  # the embedded index takes one writing process: this one
    app = build_service(cp)
    cp.warm_up()  # the first requests must not pay for loading the model and indexes
    if not cp.config.api.tokens:
        print("warning: no API tokens configured: every /v1 call will be refused (see `copilot token create`)",
              file=sys.stderr)
    if args.worker:
        cp.start_worker()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    finally:
        if args.worker:
            cp.stop_worker()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import signal
    import threading

    _json_logging()
    cp = _copilot(args)
    cp.own_store()
    cp.warm_up()
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host, registry=cp.metrics_registry)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    cp.start_worker(threads=args.threads)
    print(f"worker running ({args.threads or cp.settings.worker_threads} threads); stop with Ctrl-C or SIGTERM",
          file=sys.stderr)
    stop.wait()
    cp.stop_worker()  # the jobs in flight finish (or run again elsewhere once their lease expires)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    cp = _copilot(args)
    if args.action == "retry":
        print(f"{cp.retry_jobs(args.ids or None)} failed jobs queued again")
        return 0
    stats, failed = cp.job_stats(), cp.failed_jobs()
    if args.json:
        print(json.dumps({"counts": stats.counts, "retrying": stats.retrying, "expired_leases": stats.expired_leases,
                          "oldest_waiting_s": stats.oldest_waiting_s,
                          "failed": [{"id": j.id, "kind": j.kind, "attempts": j.attempts, "error": j.last_error}
                                     for j in failed]}))
        return 0
    print("  ".join(f"{k} {v}" for k, v in stats.counts.items()) + f"  (retrying {stats.retrying}, expired leases "
          f"{stats.expired_leases})")
    if stats.oldest_waiting_s is not None:
        print(f"oldest job waiting: {stats.oldest_waiting_s:.0f}s")
    for j in failed[:50]:
        print(f"failed #{j.id} {j.kind} after {j.attempts} attempts: {j.last_error}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    import yaml

    from copilot.integrations.http.auth import hash_token, new_token

    entry: dict[str, Any] = {"name": args.name, "brands": args.brand}
    if args.expires:
        from datetime import date

        try:
            entry["expires"] = date.fromisoformat(args.expires).isoformat()
        except ValueError as exc:
            raise InputError(f"--expires {args.expires!r} is not a date", hint="use YYYY-MM-DD") from exc
    token = new_token()
    entry = {"name": args.name, "sha256": hash_token(token), **entry}
    print(f"token (shown once; give it to the client): {token}\n")
    print("add to your config file:\n")
    print(yaml.safe_dump({"api": {"tokens": [entry]}}, sort_keys=False).rstrip())
    return 0


def cmd_sidebar(args: argparse.Namespace) -> int:
    from copilot.integrations.sidebar.package import build_package

    out = build_package(args.helpdesk, Path(args.out or f"copilot-{args.helpdesk}.zip"))
    print(f"wrote {out}: upload it as a private app in {args.helpdesk.capitalize()}")
    return 0


def cmd_helpdesk(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    try:
        since = int(datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError as exc:
        raise InputError(f"--since {args.since!r} is not a date", hint="use YYYY-MM-DD") from exc
    read, summary = _copilot(args).backfill(args.helpdesk, since=since)
    print(f"{read} solved tickets read: {summary.added} added, {summary.updated} updated, "
          f"{summary.unchanged} unchanged")
    return 0


def _run_dir(out: str | None, name: str) -> Path:
    from datetime import datetime

    return Path(out) if out else Path("runs") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _finish_run(summary: Any, out: Path, junit: str | None, as_json: bool = False) -> int:
    from copilot.evaluation.compare import write_junit
    from copilot.evaluation.metrics import COST
    from copilot.evaluation.runner import gate_checks

    if junit:
        write_junit(Path(junit), summary.name, gate_checks(summary.thresholds))
    if as_json:
        print(json.dumps({"run": str(out), "report": str(out / "report.html"),
                          **summary.model_dump(mode="json")}, indent=2, ensure_ascii=False))
        return 0 if summary.passed else 1
    for name, m in summary.metrics.items():
        shown = f"p50 {m.p50:.1f}  p95 {m.p95:.1f}" if name in COST and m.p50 is not None else \
            ("n/a" if m.mean is None else f"{m.mean:.3f}")
        print(f"  {name:<22} {shown:>22}   ({m.n} case{'' if m.n == 1 else 's'})")
    for t in summary.thresholds:
        print(f"  gate {t.metric}: {'pass' if t.passed else 'FAIL'} ({t.value} vs {t.minimum})")
    if summary.errors:
        print(f"  {summary.errors} cases could not be drafted (see their rows in cases.jsonl): the run fails")
    g = summary.grading
    if g is not None:
        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.0%}"

        print(f"  shown {g.shown}/{g.total} (coverage {pct(g.coverage)}); graded A {g.counts['A']} B {g.counts['B']} "
              f"C {g.counts['C']} D {g.counts['D']}, {g.counts['ungraded']} shown replies not graded; acceptance "
              f"{pct(g.acceptance)}, harm {pct(g.harm)}, confidence AUROC "
              f"{'n/a' if g.auroc is None else f'{g.auroc:.2f}'}")
    print(f"{summary.cases} cases, {summary.seconds_per_case * 1000:.0f} ms per case; report: {out / 'report.html'}")
    return 0 if summary.passed else 1


def cmd_eval_run(args: argparse.Namespace) -> int:
    from copilot.evaluation.cases import load_suite
    from copilot.evaluation.runner import parse_thresholds, run_suite

    suite = load_suite(Path(args.suite))
    out = _run_dir(args.out, suite.name)
    summary = run_suite(suite, out, extra_thresholds=parse_thresholds(args.fail_under), progress=sys.stderr.isatty())
    return _finish_run(summary, out, args.junit, args.json)


def cmd_eval_backtest(args: argparse.Namespace) -> int:
    import time

    from copilot.evaluation.backtest import BACKTEST_METRICS, load_history, split_history, to_case
    from copilot.evaluation.runner import evaluate, parse_thresholds, write_run

    thresholds = parse_thresholds(args.fail_under)
    history, held = split_history(load_history(Path(args.tickets)), holdout=args.holdout, split=args.split)
    out = _run_dir(args.out, "backtest")
    from copilot.service import Copilot

    cp = Copilot(_settings(args).model_copy(update={"data_dir": out / "index"}))
    cp.ingest([Path(k) for k in args.kb], progress=False, brand=args.brand)
    cp.ingest_records(tickets=history, brand=args.brand)
    print(f"indexed {len(history)} tickets; drafting {len(held)} held-out ones", file=sys.stderr)
    t0 = time.perf_counter()
    rows = evaluate(cp, [to_case(t) for t in held], BACKTEST_METRICS, brand=args.brand, progress=sys.stderr.isatty())
    summary = write_run(out, "backtest", rows, BACKTEST_METRICS, seconds=time.perf_counter() - t0,
                        config={"tickets": args.tickets, "holdout": args.holdout, "split": args.split,
                                "brand": args.brand, "embedder": cp.settings.embedder,
                                "llm_model": cp.settings.llm_model},
                        dataset=Path(args.tickets), thresholds=thresholds)
    return _finish_run(summary, out, args.junit, args.json)


def cmd_eval_import(args: argparse.Namespace) -> int:
    import yaml

    from copilot.evaluation.importers import import_records
    from copilot.evaluation.runner import parse_pairs

    out = Path(args.out)
    delimiter = args.delimiter.encode().decode("unicode_escape") if args.delimiter else None
    # Read everything first: a bad line stops the import before any output file is touched.
    records = list(import_records(
        args.format, Path(args.file), as_=args.as_, mapping=parse_pairs(args.map, "--map", "FIELD=COLUMN"),
        where=parse_pairs(args.where, "--where", "COLUMN=VALUE"), delimiter=delimiter, header=not args.no_header,
        limit=args.limit, skip=args.skip, part=args.part, test_share=args.test_share))
    if not records:
        raise InputError(f"nothing to import from {args.file}", hint="check the format, --map, --where and --part")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(r.model_dump_json(exclude_defaults=True) + "\n" for r in records), encoding="utf-8")
    actions = dict.fromkeys(a for r in records
                            for a in (getattr(r, "actions", None) or getattr(r, "expected_actions", None) or []))
    print(f"wrote {len(records)} {args.as_} to {out}")
    if args.actions_config:
        config = {"builtin_actions": False, "actions": [
            {"id": a, "title": a.replace("_", " ").capitalize()} for a in sorted(actions)]}
        Path(args.actions_config).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        print(f"wrote an action catalog of {len(actions)} actions to {args.actions_config}")
    return 0


def cmd_eval_feedback(args: argparse.Namespace) -> int:
    from copilot.evaluation.feedback_report import analyse, print_table, write_feedback_report

    a = analyse(_copilot(args).feedback_records(brand=args.brand))
    if args.json:
        print(a.model_dump_json(indent=2))
    else:
        print_table(a, sys.stdout)
    if args.html:
        print(f"report: {write_feedback_report(a, Path(args.html))}", file=sys.stderr)
    return 0


def cmd_eval_export_feedback(args: argparse.Namespace) -> int:
    from copilot.evaluation.feedback_export import export_feedback

    exported = export_feedback(_copilot(args), brand=args.brand, outcomes=args.outcome or ["accepted"])
    if not exported.cases:
        raise InputError("no feedback to export", hint="agents have not sent a suggestion as is yet; check --brand, "
                         "--data-dir and --outcome")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(c.model_dump_json(exclude_defaults=True) + "\n" for c in exported.cases), encoding="utf-8")
    grades = ", ".join(f"{g} {n}" for g, n in exported.grades.items())
    print(f"wrote {len(exported.cases)} graded cases ({grades}) to {out}"
          + (f"; {exported.missing} feedback records name a suggestion no longer stored" if exported.missing else ""))
    return 0


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from copilot.evaluation.compare import compare_runs, write_junit
    from copilot.evaluation.metrics import COST
    from copilot.evaluation.runner import gate, gate_checks, load_summary, parse_thresholds

    thresholds = parse_thresholds(args.fail_under)
    c = compare_runs(Path(args.run_a), Path(args.run_b))
    # Run B against the thresholds by the same gate as `eval run` (p95 under the limit for cost metrics).
    checks = gate_checks(gate(load_summary(Path(args.run_b)).metrics, thresholds)) if thresholds else []
    for d in c.metrics:
        if args.fail_on_regression and d.metric not in COST and d.delta is not None:
            ok = not (d.significant and d.delta < 0)
            checks.append((f"{d.metric} did not regress", ok, f"delta {d.delta:+.4f} (p={d.p_value})"))
    if args.json:
        print(c.model_dump_json(indent=2))
    else:
        print(f"{'metric':<22} {'A':>9} {'B':>9} {'delta':>9}  p-value  (paired cases)")
        def fmt(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        for d in c.metrics:
            sig = "*" if d.significant else " "
            delta = "n/a" if d.delta is None else f"{d.delta:+.3f}"
            print(f"{d.metric:<22} {fmt(d.a):>9} {fmt(d.b):>9} {delta:>9}{sig} {fmt(d.p_value):>7}  ({d.n_paired})")
        print(f"\n{len(c.worse)} cases got worse, {c.better} got better (* = significant at 0.05)")
        for w in c.worse[:20]:
            print(f"  {w.id}: {w.a:.2f} -> {w.b:.2f} (most: {w.worst_metric})")
        for name, ok, msg in checks:
            print(f"  gate {name}: {'pass' if ok else 'FAIL'} ({msg})")
    if args.junit:
        write_junit(Path(args.junit), "compare", checks)
    return 0 if all(ok for _, ok, _ in checks) else 1


def cmd_slack(args: argparse.Namespace) -> int:
    from copilot.integrations.slack import build_app, serve

    _json_logging()
    cp = _copilot(args)
    slack = build_app(cp)
    token = cp.settings.slack_app_token
    serve(slack, socket=args.socket, app_token=token.get_secret_value() if token else None, host=args.host,
          port=args.port)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from copilot.service import Copilot

    demo = Path(str(resources.files("copilot").joinpath("demo")))
    settings = _settings(args)
    settings.config = settings.config or demo / "config.yaml"
    cp = Copilot(settings)
    summary = cp.ingest([demo / "kb"], [demo / "tickets.jsonl"], brand="acme")
    print(f"Demo knowledge base ready in {cp.index_info().location}: {summary.added} added, "
          f"{summary.updated} updated, {summary.unchanged} unchanged ({summary.seconds:.1f}s).\n")
    message = args.message or DEMO_MESSAGES[0]
    print(f"Customer: {message}\n")
    suggestion = cp.suggest(Ticket.model_validate({"messages": [{"author": "customer", "body": message}]}),
                            brand="acme")
    if args.json:
        print(suggestion.model_dump_json(indent=2))
    else:
        _print_suggestion(suggestion, sys.stdout)
        other = next(m for m in DEMO_MESSAGES if m != message)
        data = f" --data-dir {args.data_dir}" if args.data_dir else ""
        print(f"\nTry another: copilot demo{data} --message '{other}'")
        print(f"Or ask the demo brand directly: copilot suggest{data} --brand acme --config {demo / 'config.yaml'} "
              "--message 'Can I change my delivery address?'")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="where the index lives (env COPILOT_DATA_DIR, default ./.copilot)")
    common.add_argument("--config", type=Path, help="YAML with brand profiles and actions (env COPILOT_CONFIG)")

    p = argparse.ArgumentParser(prog="copilot", description="Grounded reply suggestions for support agents.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    pi = sub.add_parser("ingest", parents=[common], help="index knowledge-base articles and resolved tickets")
    pi.add_argument("--kb", action="append", default=[], metavar="PATH", help="folder of md/html/txt, .jsonl, or "
                    "Help Center .json (repeatable)")
    pi.add_argument("--tickets", action="append", default=[], metavar="PATH",
                    help="tickets .jsonl or Zendesk export .json/.jsonl (repeatable)")
    pi.add_argument("--brand", help="brand for records that name none (default: the config's default brand)")
    pi.add_argument("--prune", action="store_true", help="remove indexed sources of these brands not in the inputs")
    pi.add_argument("--include-unresolved", action="store_true", help="also index tickets that are not solved/closed")
    pi.add_argument("--json", action="store_true", help="print the summary as JSON")
    pi.set_defaults(func=cmd_ingest)

    ps = sub.add_parser("search", parents=[common], help="hybrid search of the index")
    ps.add_argument("query", nargs="?", help="text to search for")
    ps.add_argument("--brand")
    ps.add_argument("--k", type=int, default=8)
    ps.add_argument("--json", action="store_true")
    ps.add_argument("--batch", metavar="FILE", help='JSONL of {"query", "brand"?}; one JSON result list per line out')
    ps.add_argument("--explain", action="store_true",
                    help="show the query's language and terms, the brand's fusion weights and each hit's ranks")
    ps.add_argument("--recalibrate", action="store_true",
                    help="measure the brand's dense/lexical weights again before searching")
    ps.set_defaults(func=cmd_search)

    pg = sub.add_parser("suggest", parents=[common], help="suggest a reply and next actions for a ticket")
    src = pg.add_mutually_exclusive_group()
    src.add_argument("--message", help="a single customer message")
    src.add_argument("--ticket", metavar="FILE", help="a ticket JSON file (default: read from standard input)")
    src.add_argument("--batch", metavar="FILE", help="JSONL of tickets; one suggestion JSON per line out")
    pg.add_argument("--brand")
    pg.add_argument("--json", action="store_true")
    pg.add_argument("--stream", action="store_true",
                    help="show the reply while the model writes it (with --json: one event per line)")
    pg.set_defaults(func=cmd_suggest)

    pr = sub.add_parser("rewrite", parents=[common], help="rewrite a suggestion (shorter, friendlier, formal...)")
    pr.add_argument("instruction", help='"shorter", "friendlier", "more formal", "translate", or your own edit')
    pr.add_argument("--suggestion", metavar="FILE", help="suggestion JSON (default: standard input)")
    pr.add_argument("--language", help="target language for translate (default: the suggestion's)")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_rewrite)

    pv = sub.add_parser("serve", parents=[common], help="run the HTTP service (API, sidebar, Slack, webhooks)")
    pv.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    pv.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    pv.add_argument("--no-worker", dest="worker", action="store_false",
                    help="do not run background jobs here (run `copilot worker` instead); to scale, run more "
                         "replicas behind a load balancer")
    pv.set_defaults(func=cmd_serve)

    pw = sub.add_parser("worker", parents=[common], help="run background jobs (webhook work) in this process")
    pw.add_argument("--threads", type=int, help="jobs at a time (env COPILOT_WORKER_THREADS, default 2)")
    pw.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    pw.add_argument("--metrics-host", default="127.0.0.1", help="interface for the metrics (default 127.0.0.1)")
    pw.set_defaults(func=cmd_worker)

    pj = sub.add_parser("jobs", parents=[common], help="background jobs: counts and failures, or retry failed ones")
    pj.add_argument("action", nargs="?", choices=["status", "retry"], default="status")
    pj.add_argument("ids", nargs="*", type=int, help="retry: these failed jobs (default: all)")
    pj.add_argument("--json", action="store_true")
    pj.set_defaults(func=cmd_jobs)

    pt = sub.add_parser("token", help="create an API token scoped to brands")
    pt.add_argument("action", choices=["create"])
    pt.add_argument("--name", required=True, help="who uses it, e.g. zendesk-sidebar")
    pt.add_argument("--brand", action="append", required=True, help="a brand it may use (repeat; * for all)")
    pt.add_argument("--expires", help="last valid day, YYYY-MM-DD")
    pt.set_defaults(func=cmd_token)

    pb = sub.add_parser("sidebar", help="build the Zendesk or Freshdesk sidebar app package")
    pb.add_argument("action", choices=["package"])
    pb.add_argument("helpdesk", choices=["zendesk", "freshdesk"])
    pb.add_argument("--out", help="zip file to write (default: copilot-<helpdesk>.zip)")
    pb.set_defaults(func=cmd_sidebar)

    ph = sub.add_parser("helpdesk", parents=[common], help="ingest solved Zendesk tickets since a date (backfill)")
    ph.add_argument("action", choices=["backfill"])
    ph.add_argument("helpdesk", choices=["zendesk"])
    ph.add_argument("--since", required=True, help="YYYY-MM-DD: tickets solved since then")
    ph.set_defaults(func=cmd_helpdesk)

    pe = sub.add_parser("eval", help="evaluate: run a suite, backtest on history, compare runs")
    esub = pe.add_subparsers(dest="eval_command", required=True)
    er = esub.add_parser("run", parents=[common], help="run a suite and write a run folder with a report")
    er.add_argument("suite", help="suite YAML file")
    er.add_argument("--out", help="run folder (default: runs/<suite>-<time>)")
    er.add_argument("--fail-under", action="append", default=[], metavar="METRIC=MIN",
                    help="exit 1 when a metric's mean is below MIN (for latency_ms/tokens: p95 above MIN)")
    er.add_argument("--junit", metavar="FILE", help="write the gate as JUnit XML")
    er.add_argument("--json", action="store_true", help="print the run summary as JSON (exit code as without)")
    er.set_defaults(func=cmd_eval_run)
    eb = esub.add_parser("backtest", parents=[common], help="replay your resolved tickets: hold out the newest")
    eb.add_argument("--tickets", required=True, help="resolved tickets (JSONL or a Zendesk export)")
    eb.add_argument("--kb", action="append", default=[], help="knowledge base to index too (repeat)")
    held = eb.add_mutually_exclusive_group()
    held.add_argument("--holdout", type=int, help="hold out the N most recent tickets")
    held.add_argument("--split", type=float, help="hold out this share (default 0.2)")
    eb.add_argument("--brand")
    eb.add_argument("--out", help="run folder (default: runs/backtest-<time>)")
    eb.add_argument("--fail-under", action="append", default=[], metavar="METRIC=MIN")
    eb.add_argument("--junit", metavar="FILE")
    eb.add_argument("--json", action="store_true", help="print the run summary as JSON (exit code as without)")
    eb.set_defaults(func=cmd_eval_backtest)
    ei = esub.add_parser("import", help="convert public data shapes to tickets, articles or cases (JSONL)")
    ei.add_argument("format", choices=["tweetsumm", "banking77", "csv", "jsonl"])
    ei.add_argument("file")
    ei.add_argument("--as", dest="as_", choices=["tickets", "cases", "articles"], required=True)
    ei.add_argument("--out", required=True, help="JSONL file to write")
    ei.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                    help="id, text, reply, action, brand, language, title, body, source (repeat)")
    ei.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE", help="keep matching rows only")
    ei.add_argument("--delimiter", help="CSV delimiter (default: comma; tab for .tsv/.txt)")
    ei.add_argument("--no-header", action="store_true", help="CSV without a header: columns are 0, 1, 2...")
    ei.add_argument("--part", choices=["train", "test"], help="one side of a split by record id (never overlapping)")
    ei.add_argument("--test-share", type=float, default=0.1, help="share of ids on the test side (default 0.1)")
    ei.add_argument("--limit", type=int)
    ei.add_argument("--skip", type=int, default=0)
    ei.add_argument("--actions-config", metavar="FILE",
                    help="also write a config whose action catalog is every action seen (e.g. Banking77 intents)")
    ei.set_defaults(func=cmd_eval_import)

    ef = esub.add_parser("feedback", parents=[common], help="acceptance, edits and rejection reasons from agents")
    ef.add_argument("--brand")
    ef.add_argument("--html", metavar="FILE", help="also write an HTML report with charts")
    ef.add_argument("--json", action="store_true")
    ef.set_defaults(func=cmd_eval_feedback)

    ex = esub.add_parser("export-feedback", parents=[common],
                         help="suggestions agents sent as is, as graded evaluation cases (JSONL)")
    ex.add_argument("--out", required=True, help="JSONL file of cases to write")
    ex.add_argument("--brand")
    ex.add_argument("--outcome", action="append", choices=["accepted", "edited", "rejected"],
                    help="outcomes to export (repeat; default accepted = grade A; edited: B under 20%% of words "
                         "changed, else C; rejected: C for tone, else D)")
    ex.set_defaults(func=cmd_eval_export_feedback)

    ec = esub.add_parser("compare", help="per-metric deltas with significance, and the cases that got worse")
    ec.add_argument("run_a")
    ec.add_argument("run_b")
    ec.add_argument("--fail-under", action="append", default=[], metavar="METRIC=MIN",
                    help="exit 1 when run B's mean for METRIC is below MIN")
    ec.add_argument("--fail-on-regression", action="store_true",
                    help="exit 1 when any quality metric got significantly worse")
    ec.add_argument("--junit", metavar="FILE")
    ec.add_argument("--json", action="store_true")
    ec.set_defaults(func=cmd_eval_compare)

    pk = sub.add_parser("slack", parents=[common], help="run the Slack app (HTTP at /slack/events, or Socket Mode)")
    pk.add_argument("--socket", action="store_true", help="Socket Mode: no public URL, needs SLACK_APP_TOKEN")
    pk.add_argument("--host", default="127.0.0.1", help="HTTP mode: interface to listen on (default 127.0.0.1)")
    pk.add_argument("--port", type=int, default=3000, help="HTTP mode: port (default 3000)")
    pk.set_defaults(func=cmd_slack)

    pd = sub.add_parser("demo", parents=[common], help="index the bundled demo brand and suggest a reply")
    pd.add_argument("--message", help="the customer message to answer")
    pd.add_argument("--json", action="store_true")
    pd.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        parser.error("--k must be at least 1")
    try:
        return int(args.func(args))
    except CopilotError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # settings from the environment
        field = _loc(exc)
        print(f"error [invalid_config]: setting {field} (COPILOT_{field.upper()}): {exc.errors()[0]['msg']}",
              file=sys.stderr)
        return 2
    except (UnicodeError, RecursionError) as exc:  # input no loader anticipated: still an input error
        print(f"error [invalid_input]: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder given on the command line cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error [io_error]: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
