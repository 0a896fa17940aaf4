"""A team's deployment as real processes: two `copilot serve` replicas and a `copilot worker` on one
PostgreSQL and one `chroma run` server, against a fake Zendesk. Duplicate deliveries sent to both
replicas at once run once; a worker killed with SIGKILL mid-job loses nothing and posts nothing
twice; an ingest while 20 clients ask for suggestions costs no request; a locked database never
delays /healthz."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ARTICLES, TICKETS, write_jsonl
from tests.helpdesk_fake import FakeHelpdesk, fake_helpdesk
from tests.team import (
    Callbacks,
    Team,
    api,
    callback_receiver,
    generic_delivery,
    post_everywhere,
    wait_for,
    zendesk_delivery,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeHelpdesk]:
    with fake_helpdesk() as f:
        f.any_ticket = True
        yield f


@pytest.fixture
def callbacks() -> Iterator[Callbacks]:
    with callback_receiver() as cb:
        yield cb


@pytest.fixture
def team(tmp_path: Path, pg_url: str, chroma_server: int, fake: FakeHelpdesk) -> Iterator[Team]:
    t = Team.create(tmp_path / "team", feedback_url=pg_url, chroma_port=chroma_server, helpdesk_url=fake.base_url,
                    COPILOT_COLLECTION=f"c{time.monotonic_ns() % 10**9}")  # a fresh index per test
    try:
        yield t
    finally:
        t.stop()


def notes_by_ticket(fake: FakeHelpdesk) -> dict[str, int]:
    with fake.lock:
        out: dict[str, int] = {}
        for _, tid, _ in fake.notes:
            out[tid] = out.get(tid, 0) + 1
        return out


def outbox_rows(url: str) -> list[Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = list(conn.execute(text("SELECT id, kind, status, attempts, result FROM outbox ORDER BY id")))
    engine.dispose()
    return rows


def test_duplicate_deliveries_to_both_replicas_run_exactly_once(team: Team, fake: FakeHelpdesk, callbacks: Callbacks,
                                                                 pg_url: str) -> None:
    replicas = [team.serve("r1"), team.serve("r2")]  # each with its own worker threads
    worker = team.worker("w1")
    team.wait_ready(*replicas, worker)
    tickets = [str(5000 + i) for i in range(24)]  # (fake Freshdesk ids start with 2)
    codes: list[list[int]] = []
    threads = []
    for i, tid in enumerate(tickets):
        body, headers = zendesk_delivery(tid, f"inv-{i}")
        threads.append(threading.Thread(target=lambda b=body, h=headers: codes.append(
            post_everywhere(replicas, "/webhooks/zendesk", b, h))))
    for i in range(12):
        body, headers = generic_delivery(f"G{i}", f"gen-{i}", callbacks.url)
        threads.append(threading.Thread(target=lambda b=body, h=headers: codes.append(
            post_everywhere(replicas, "/webhooks/generic", b, h))))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Four copies of each delivery (two per replica, at once): one accepted, three duplicates.
    assert all(sorted(c) == [200, 200, 200, 202] for c in codes), codes
    wait_for(lambda: len(notes_by_ticket(fake)) == len(tickets) and len(callbacks.by_key()) == 12, 120,
             "every job to run")
    time.sleep(2)  # a second execution would have shown by now (workers poll every 0.2 s)
    assert set(notes_by_ticket(fake).values()) == {1}
    assert len(callbacks.posts) == 12 and set(callbacks.by_key().values()) == {1}
    rows = outbox_rows(pg_url)
    assert len(rows) == 36 and {r.status for r in rows} == {"done"} and {r.attempts for r in rows} == {1}
    workers = {r.result.get("suggestion_id") is not None for r in rows}
    assert workers == {True}
    metrics = httpx.get(f"{replicas[0].url}/metrics").text
    assert 'copilot_outbox_jobs{status="done"} 36.0' in metrics and "copilot_outbox_oldest_waiting_seconds 0.0" in metrics


def test_a_worker_killed_mid_job_loses_nothing_and_posts_once(team: Team, fake: FakeHelpdesk, pg_url: str) -> None:
    replica = team.serve("r1", worker=False)
    first = team.worker("w1")
    team.wait_ready(replica, first)
    # 1. Killed after the note reached Zendesk, before the job was recorded done.
    fake.note_delay_s = 30
    body, headers = zendesk_delivery("3001", "kill-1")
    assert httpx.post(f"{replica.url}/webhooks/zendesk", content=body, headers=headers).status_code == 202
    wait_for(lambda: "3001" in notes_by_ticket(fake), 60, "the first run to post its note")
    first.kill9()
    fake.note_delay_s = 0
    # 2. Killed while reading the ticket, before posting anything.
    fake.delay_s = 30
    second = team.worker("w2")
    team.wait_ready(second)
    body, headers = zendesk_delivery("3002", "kill-2")
    assert httpx.post(f"{replica.url}/webhooks/zendesk", content=body, headers=headers).status_code == 202
    wait_for(lambda: any("/3002" in path for _, path, _ in list(fake.requests)), 60, "the second job to start")
    second.kill9()
    fake.delay_s = 0
    third = team.worker("w3")
    team.wait_ready(third)
    # Both jobs are claimed again once their lease (8 s here) has expired.
    wait_for(lambda: {r.status for r in outbox_rows(pg_url)} == {"done"}, 60, "both jobs to finish")
    assert notes_by_ticket(fake) == {"3001": 1, "3002": 1}
    rows = {r.id: r for r in outbox_rows(pg_url)}
    # Run again after each kill (the second worker may have taken the first job too, before its own kill).
    assert rows[1].attempts >= 2 and rows[1].result["found"] is True  # found its own note, did not post again
    assert rows[2].attempts >= 2 and rows[2].result["note_id"]


def test_an_ingest_while_20_clients_ask_for_suggestions_costs_no_request(team: Team, tmp_path: Path,
                                                                          pg_url: str) -> None:
    kb, tickets = write_jsonl(tmp_path / "kb.jsonl", ARTICLES), write_jsonl(tmp_path / "t.jsonl", TICKETS)
    assert team.run(["ingest", "--kb", str(kb), "--tickets", str(tickets)]).returncode == 0
    replicas = [team.serve("r1"), team.serve("r2")]
    team.wait_ready(*replicas)
    more = write_jsonl(tmp_path / "more.jsonl", [
        {"id": f"extra-{i}", "brand": "acme", "title": f"Policy {i}",
         "body": f"Store credit option {i}: we refund within {i % 9 + 1} business days to the original card."}
        for i in range(400)])
    ingest = team.popen(["ingest", "--kb", str(more)])
    statuses: list[int] = []
    acknowledged: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with api(replicas[n % 2].url) as c:
            while ingest.poll() is None or len(statuses) < 40:
                try:
                    r = c.post("/v1/suggestions", json={"brand": "acme", "messages": [
                        {"author": "customer", "body": f"Where is my refund? ({n})"}]})
                    codes = [r.status_code]
                    if r.status_code == 200:
                        f = c.post(f"/v1/suggestions/{r.json()['id']}/feedback", json={"outcome": "accepted"})
                        codes.append(f.status_code)
                        if f.status_code == 200:
                            with lock:
                                acknowledged.append(r.json()["id"])
                except httpx.HTTPError:
                    codes = [0]
                with lock:
                    statuses.extend(codes)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, err = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, err
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        kept = {r[0] for r in conn.execute(text("SELECT suggestion_id FROM feedback"))}
    engine.dispose()
    assert set(acknowledged) <= kept  # no acknowledged feedback lost
    with api(replicas[1].url) as c:  # the new sources are there for the other replica too
        hits = c.get("/v1/search", params={"q": "store credit option 7", "brand": "acme"}).json()
    assert any(h["source_id"].startswith("article:extra-") for h in hits)


def test_the_embedded_index_refuses_a_second_writer_and_the_service_keeps_serving(tmp_path: Path,
                                                                                   fake: FakeHelpdesk) -> None:
    team = Team.create(tmp_path / "solo", feedback_url=f"sqlite:///{tmp_path / 'f.db'}", chroma_port=None,
                       helpdesk_url=fake.base_url)
    data = tmp_path / "data"
    kb = write_jsonl(tmp_path / "kb.jsonl", ARTICLES)
    try:
        assert team.run(["ingest", "--kb", str(kb)], data_dir=data).returncode == 0
        replica = team.serve("solo", data_dir=data)
        team.wait_ready(replica)
        refused = team.run(["ingest", "--kb", str(kb)], data_dir=data)
        assert refused.returncode == 2 and "store_in_use" in refused.stderr and "copilot serve" in refused.stderr
        assert "COPILOT_CHROMA_HOST" in refused.stderr
        worker = team.run(["worker"], data_dir=data, timeout=120)  # a second process would write too
        assert worker.returncode == 2 and "store_in_use" in worker.stderr
        with api(replica.url) as c:
            r = c.post("/v1/suggestions", json={"brand": "acme", "messages": [
                {"author": "customer", "body": "When will I get my refund?"}]})
            assert r.status_code == 200 and r.json()["citations"]
            # Through the service, tickets are ingested by the process that owns the index.
            assert c.post("/v1/tickets", json={"tickets": TICKETS[:2]}).status_code == 200
    finally:
        team.stop()


def test_healthz_stays_fast_while_webhooks_wait_on_a_locked_database(team: Team, pg_url: str) -> None:
    replica = team.serve("r1", worker=False)
    team.wait_ready(replica)
    engine = create_engine(pg_url)
    conn = engine.connect()
    tx = conn.begin()
    conn.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))  # every webhook now waits on the lock
    codes: list[int] = []
    senders = []
    for i in range(50):  # more than the 40 threads of the pool: a handler needing a thread would wait too
        body, headers = zendesk_delivery(str(4000 + i), f"lock-{i}")
        senders.append(threading.Thread(target=lambda b=body, h=headers: codes.append(
            httpx.post(f"{replica.url}/webhooks/zendesk", content=b, headers=h, timeout=60).status_code)))
    for t in senders:
        t.start()
    latencies = []
    with httpx.Client(base_url=replica.url) as c:
        time.sleep(2)  # the burst is in: the webhooks now wait on the lock, holding every thread of the pool
        for _ in range(150):
            t0 = time.perf_counter()
            assert c.get("/healthz").status_code == 200
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
        ready = c.get("/readyz", timeout=10)
    waiting = len(codes)
    tx.rollback()
    conn.close()
    engine.dispose()
    for t in senders:
        t.join()
    assert waiting == 0  # the webhooks really were stuck on the lock while /healthz was measured
    p99 = statistics.quantiles(latencies, n=100)[98]
    # The defect was seconds (the event loop waiting on the database); the 50 ms goal is measured by
    # bench/team.py on a quiet machine. Here, on shared CI cores, a bound that scheduling noise cannot trip.
    assert p99 <= 250, f"/healthz p99 {p99:.1f} ms: {sorted(latencies)[-10:]} {latencies[:10]}"
    assert ready.status_code in {200, 503}  # answers within its own timeout, whatever the database does
    assert sorted(set(codes)) == [202]
