"""A team's deployment on one machine, as real processes: `copilot serve` replicas and `copilot worker`s
sharing a PostgreSQL and a `chroma run` server, a fake Zendesk, and a receiver for generic callbacks.
Used by the process tests (tests/integration/test_team.py) and bench/team.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from copilot.integrations.http.auth import hash_token
from copilot.integrations.http.webhooks import generic_signature, zendesk_signature
from tests.servers import free_port, http_server

TOKEN = "team-token"
ZD_SECRET, GENERIC_SECRET = "zd-secret", "gen-secret"
CONFIG = f"""
default_brand: acme
brands:
  acme: {{name: Acme}}
helpdesk:
  brand: acme
  internal_note_on_new_ticket: true
  learn_from_solved: true
api:
  tokens:
    - {{name: team, sha256: {hash_token(TOKEN)}, brands: ['*']}}
"""


@dataclass
class Callbacks:
    """Receives the suggestions POSTed to a generic webhook's callback_url, by Idempotency-Key."""

    port: int
    posts: list[str] = field(default_factory=list)  # Idempotency-Key of each POST
    tickets: list[tuple[str, str]] = field(default_factory=list)  # (ticket id, Idempotency-Key) of each POST
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def by_key(self) -> Counter[str]:
        with self.lock:
            return Counter(self.posts)


@contextmanager
def callback_receiver() -> Iterator[Callbacks]:
    cb = Callbacks(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            key = self.headers.get("Idempotency-Key") or ""
            with cb.lock:
                cb.posts.append(key)
                cb.tickets.append((str(body.get("ticket_id")), key))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(cb.port, Handler):
        yield cb


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Team:
    """Environment shared by every process of the deployment, and the processes started."""

    root: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path, *, feedback_url: str, chroma_port: int | None, helpdesk_url: str,
               embedder: str = "hash", lease_s: float = 8.0, **extra: str) -> Team:
        root.mkdir(parents=True, exist_ok=True)
        config = root / "config.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        env = {**os.environ, "COPILOT_CONFIG": str(config), "COPILOT_FEEDBACK_URL": feedback_url,
               "COPILOT_EMBEDDER": embedder, "COPILOT_ZENDESK_BASE_URL": helpdesk_url,
               "ZENDESK_EMAIL": "agent@acme.example", "ZENDESK_API_TOKEN": "zd-token",
               "ZENDESK_WEBHOOK_SECRET": ZD_SECRET, "COPILOT_WEBHOOK_SECRET": GENERIC_SECRET,
               "COPILOT_JOB_LEASE_S": str(lease_s), "COPILOT_JOB_POLL_S": "0.2", "PYTHONUNBUFFERED": "1", **extra}
        if chroma_port is not None:
            env |= {"COPILOT_CHROMA_HOST": "127.0.0.1", "COPILOT_CHROMA_PORT": str(chroma_port)}
        return cls(root=root, env=env)

    def _start(self, name: str, args: list[str], port: int | None, data_dir: Path | None = None) -> Process:
        log = self.root / f"{name}.log"
        env = {**self.env, "COPILOT_DATA_DIR": str(data_dir or self.root / name)}
        proc = subprocess.Popen([sys.executable, "-m", "copilot.cli", *args], env=env,
                                stdout=log.open("ab"), stderr=subprocess.STDOUT)
        p = Process(name=name, proc=proc, log=log, port=port)
        self.processes.append(p)
        return p

    def serve(self, name: str, *, worker: bool = True, data_dir: Path | None = None, port: int | None = None) -> Process:
        port = port or free_port()
        args = ["serve", "--port", str(port)] + ([] if worker else ["--no-worker"])
        return self._start(name, args, port, data_dir)

    def worker(self, name: str, threads: int = 2) -> Process:
        return self._start(name, ["worker", "--threads", str(threads)], None)

    def run(self, args: list[str], *, data_dir: Path | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "COPILOT_DATA_DIR": str(data_dir or self.root / "cli")}
        return subprocess.run([sys.executable, "-m", "copilot.cli", *args], env=env, capture_output=True, text=True,
                              **kw)

    def popen(self, args: list[str], *, data_dir: Path | None = None) -> subprocess.Popen[str]:
        env = {**self.env, "COPILOT_DATA_DIR": str(data_dir or self.root / "cli")}
        return subprocess.Popen([sys.executable, "-m", "copilot.cli", *args], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def wait_ready(self, *procs: Process, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        for p in procs:
            while True:
                if p.proc.poll() is not None:
                    raise RuntimeError(f"{p.name} exited: {p.log.read_text(errors='replace')[-3000:]}")
                if p.port is None:
                    if "worker running" in p.log.read_text(errors="replace"):
                        break
                else:
                    try:
                        urllib.request.urlopen(f"{p.url}/readyz", timeout=2).read()
                        break
                    except OSError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{p.name} did not start: {p.log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.3)

    def stop(self) -> None:
        for p in self.processes:
            p.stop()


def zendesk_delivery(ticket_id: str, invocation: str, event: str = "ticket_created") -> tuple[bytes, dict[str, str]]:
    """A signed Zendesk webhook delivery (the same bytes and headers on every retry)."""
    body = json.dumps({"event": event, "ticket_id": ticket_id}).encode()
    ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body, {"Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": ts,
                  "X-Zendesk-Webhook-Signature": zendesk_signature(ZD_SECRET, ts, body),
                  "X-Zendesk-Webhook-Invocation-Id": invocation}


def generic_delivery(ticket_id: str, delivery: str, callback_url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": "ticket_created", "callback_url": callback_url, "ticket": {
        "id": ticket_id, "brand": "acme", "messages": [
            {"author": "customer", "body": f"Where is my refund? I returned the chair (order {ticket_id})."}]}}).encode()
    ts = str(int(time.time()))
    return body, {"Content-Type": "application/json", "X-Copilot-Timestamp": ts,
                  "X-Copilot-Signature": generic_signature(GENERIC_SECRET, ts, body), "X-Copilot-Delivery": delivery}


def post_everywhere(replicas: list[Process], path: str, body: bytes, headers: dict[str, str],
                    copies: int = 2) -> list[int]:
    """The same delivery to every replica at once, ``copies`` times each (a helpdesk retrying, a
    load balancer replaying): the status codes."""
    codes: list[int] = []
    lock = threading.Lock()

    def send(url: str) -> None:
        try:
            code = httpx.post(url + path, content=body, headers=headers, timeout=30).status_code
        except httpx.HTTPError:
            code = 0
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=send, args=(r.url,)) for r in replicas for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def api(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


def wait_for(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
