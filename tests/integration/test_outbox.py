"""The outbox on a real PostgreSQL and on SQLite: every job claimed by one worker at a time, however
many compete; leases that expire back to the queue; a delivery recorded only with its job; pruning."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from copilot.feedback import FeedbackStore
from copilot.jobs import MAX_ATTEMPTS, Job, JobRun, Outbox
from copilot.telemetry import AppMetrics

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return str(request.getfixturevalue("pg_url"))


def later(**kw: float) -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + timedelta(**kw)


def outbox(url: str, handlers: dict[str, Any] | None = None, **kw: Any) -> Outbox:
    # Each Outbox has its own engine, like a process of its own.
    return Outbox(FeedbackStore(url), handlers if handlers is not None else {"k": lambda run: None}, **kw)


def test_competing_workers_run_every_job_exactly_once(url: str) -> None:
    ran: list[int] = []
    lock = threading.Lock()

    def handler(run: JobRun) -> dict[str, Any]:
        with lock:
            ran.append(run.payload["n"])
        return {"by": threading.current_thread().name}

    boxes = [outbox(url, {"k": handler}) for _ in range(6)]
    for n in range(150):
        boxes[n % 6].put("k", {"n": n})
    threads = [threading.Thread(target=b.run_due, name=f"w{i}") for i, b in enumerate(boxes) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ran) == list(range(150))  # none twice, none lost
    jobs = boxes[0].jobs()
    assert {j.status for j in jobs} == {"done"} and {j.attempts for j in jobs} == {1}
    assert len({j.result["by"] for j in jobs if j.result}) > 1  # the work was really shared


def test_a_lease_expires_back_to_the_queue_and_the_old_owner_cannot_finish(url: str) -> None:
    a, b = outbox(url, lease_s=60), outbox(url, lease_s=60)
    a.put("k", {})
    [run] = a.claim()
    assert run.attempt == 1 and b.claim() == []  # leased: nobody else takes it
    assert b.claim(now=later(seconds=30)) == []
    [again] = b.claim(now=later(seconds=61))  # a's worker "died": the lease expired
    assert again.id == run.id and again.attempt == 2 and again.key == run.key  # same key: idempotent calls
    assert a.execute(run) is False  # a was only slow: its end is not recorded over b's run
    [job] = a.jobs()
    assert job.status == "running" and job.claim == again.token
    assert b.execute(again) is True and a.jobs()[0].status == "done"


def test_the_heartbeat_keeps_a_long_job_leased(url: str) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(run: JobRun) -> None:
        started.set()
        release.wait(10)

    a, b = outbox(url, {"k": slow}, lease_s=1.5), outbox(url, lease_s=1.5)
    a.put("k", {})
    a.start(threads=1, poll_s=0.05)
    try:
        assert started.wait(10)
        for _ in range(8):  # 4 s: well past the 1.5 s lease, renewed every 0.5 s
            assert b.claim() == []
            release.wait(0.5)
        release.set()
    finally:
        a.stop()
    assert [j.status for j in a.jobs()] == ["done"]


def test_a_job_whose_worker_dies_every_time_ends_failed(url: str) -> None:
    box = outbox(url, lease_s=1)
    box.put("k", {})
    for i in range(MAX_ATTEMPTS):
        assert len(box.claim(now=later(seconds=2 * i))) == 1  # claimed, never finished
    assert box.claim(now=later(seconds=2 * MAX_ATTEMPTS)) == []
    [job] = box.jobs()
    assert job.status == "failed" and "lease expired" in (job.last_error or "")
    assert box.retry() == 1 and box.jobs()[0].status == "pending"


def test_a_delivery_is_recorded_with_its_job_or_not_at_all(url: str) -> None:
    box = outbox(url)
    first = box.put("k", {"x": 1}, delivery="webhook:generic:d1")
    assert first is not None and box.put("k", {"x": 1}, delivery="webhook:generic:d1") is None
    with pytest.raises(StatementError):  # the job cannot be stored: the delivery must not be recorded either
        box.put("k", {"x": object()}, delivery="webhook:generic:d2")
    assert box.put("k", {"x": 2}, delivery="webhook:generic:d2") is not None  # so its retry gets queued
    assert len(box.jobs()) == 2


def test_old_done_jobs_and_delivery_ids_are_pruned_failed_jobs_and_outcomes_kept(url: str) -> None:
    box = outbox(url, job_retention_days=7, event_retention_days=30)
    for n in range(3):
        box.put("k", {"n": n}, delivery=f"webhook:zendesk:{n}")
    box.run_due()
    store = box.store
    store.first_time("outcome:s1")
    store.first_time("slack:event:E1")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET finished_at = :t WHERE id = 1"), {"t": later(days=-8)})
        conn.execute(text("UPDATE outbox SET status = 'failed', finished_at = :t WHERE id = 2"), {"t": later(days=-8)})
        conn.execute(text("UPDATE events SET created_at = :t"), {"t": datetime.now(UTC) - timedelta(days=31)})
    assert box.prune() == (1, 4)  # job 1; the three webhook ids and the Slack one
    assert [j.id for j in box.jobs()] == [2, 3]
    assert not store.first_time("outcome:s1")  # one outcome per suggestion, for good
    assert store.first_time("webhook:zendesk:0")  # forgotten: helpdesks stopped retrying long ago


def test_outbox_metrics_come_from_the_database(url: str) -> None:
    metrics = AppMetrics()
    box = outbox(url, {"k": lambda run: None, "bad": lambda run: 1 / 0}, metrics=metrics)
    registry = CollectorRegistry()
    registry.register(box.collector())
    box.put("k", {})
    box.put("bad", {})
    box.put("k", {})
    [run] = box.claim()
    box.execute(run)
    [bad] = box.claim()
    box.execute(bad)
    text_ = generate_latest(registry).decode()
    assert 'copilot_outbox_jobs{status="done"} 1.0' in text_
    assert 'copilot_outbox_jobs{status="pending"} 2.0' in text_ and "copilot_outbox_retrying 1.0" in text_
    assert "copilot_outbox_up 1.0" in text_ and "copilot_outbox_oldest_waiting_seconds" in text_
    worker = generate_latest(metrics.registry).decode()
    assert 'copilot_worker_jobs_total{kind="bad",outcome="retry"} 1.0' in worker


def test_an_older_outbox_table_gets_the_new_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = FeedbackStore(url)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE outbox"))
        conn.execute(text("CREATE TABLE outbox (id INTEGER PRIMARY KEY, kind VARCHAR(32), payload JSON, "
                          "status VARCHAR(16), attempts INTEGER, next_at DATETIME, last_error TEXT, created_at DATETIME)"))
        conn.execute(text("INSERT INTO outbox VALUES (1, 'k', '{}', 'pending', 0, '2020-01-01 00:00:00', NULL, "
                          "'2020-01-01 00:00:00')"))
    box = outbox(url)
    assert box.run_due() == 1 and box.jobs()[0].status == "done"
    assert isinstance(box.jobs()[0], Job)


CLAIMER = """
import json, sys, time
from copilot.feedback import FeedbackStore
from copilot.jobs import Outbox
box = Outbox(FeedbackStore(sys.argv[1]), {"k": lambda run: time.sleep(0.005)})  # work that takes a little time
print("ready", flush=True)
sys.stdin.readline()  # start together, once every process has imported and opened the database
mine = []
while runs := box.claim(3):
    for run in runs:
        mine.append(run.payload["n"])
        box.execute(run)
print(json.dumps(mine))
"""


def test_processes_sharing_one_sqlite_file_never_claim_the_same_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    box = outbox(url)
    for n in range(90):
        box.put("k", {"n": n})
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outs = [json.loads(out) for out in _together(procs)]
    taken = Counter(n for out in outs for n in out)
    assert sorted(taken) == list(range(90)) and set(taken.values()) == {1}
    assert all(outs)  # each process got some: they really competed
    assert {j.status for j in box.jobs()} == {"done"}


def _together(procs: list[subprocess.Popen[str]]) -> list[str]:
    for p in procs:  # a slow start must not let the others take every job before it begins
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    return [p.communicate(timeout=120)[0] for p in procs]
