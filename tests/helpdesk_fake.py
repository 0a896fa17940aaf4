"""A local fake of the Zendesk and Freshdesk REST APIs (their documented shapes, auth and pagination)
that can fail on demand: ``fail`` queues responses (status, headers) served before the real ones,
``delay_s`` makes it slow (timeouts), ``note_delay_s`` holds the answer to a note that was already
stored (a worker killed there has posted it without knowing). Notes become comments of their
ticket, as on the real APIs; with ``any_ticket`` every Zendesk id from 1000 up is an open ticket."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import free_port, http_server

ZD_AUTH = "Basic " + base64.b64encode(b"agent@acme.example/token:zd-token").decode()
FD_AUTH = "Basic " + base64.b64encode(b"fd-key:X").decode()


@dataclass
class FakeHelpdesk:
    base_url: str
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    fail: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay_s: float = 0.0
    note_delay_s: float = 0.0
    any_ticket: bool = False
    notes: list[tuple[str, str, Any]] = field(default_factory=list)  # (helpdesk, ticket id, body)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000

    # Zendesk ticket 101: an open question; 102: solved, with the agent's answer. Comments come in
    # pages of 2 to exercise cursor pagination.
    zendesk: dict[str, Any] = field(default_factory=lambda: {
        "101": {"ticket": {"id": 101, "subject": "Refund", "status": "new", "requester_id": 1, "tags": []},
                "comments": [{"id": 1, "author_id": 1, "public": True,
                              "plain_body": "Where is my refund? I returned the chair two weeks ago."},
                             {"id": 2, "author_id": 2, "public": False, "plain_body": "internal: VIP"},
                             {"id": 3, "author_id": 1, "public": True, "plain_body": "My email is jane@example.com"}]},
        "102": {"ticket": {"id": 102, "subject": "Lamp flickers", "status": "solved", "requester_id": 1, "tags": []},
                "comments": [{"id": 4, "author_id": 1, "public": True, "plain_body": "My desk lamp keeps flickering."},
                             {"id": 5, "author_id": 2, "public": True,
                              "plain_body": "Please tighten the bulb and try the dimmer reset: hold the switch 10 seconds."}]},
    })
    users: list[dict[str, Any]] = field(default_factory=lambda: [
        {"id": 1, "name": "Jane Doe", "role": "end-user"}, {"id": 2, "name": "Sam Agent", "role": "agent"}])
    freshdesk: dict[str, Any] = field(default_factory=lambda: {
        "201": {"id": 201, "subject": "Refund", "status": 2, "description_text":
                "Where is my refund? I returned the chair two weeks ago.", "requester": {"name": "Ann Lee"},
                "tags": [], "conversations": [{"body_text": "Any news?", "incoming": True, "private": False}]},
    })


def _handler(fake: FakeHelpdesk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> Any:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return json.loads(raw) if raw else None

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            body = self._body() if method in {"POST", "PUT"} else None
            with fake.lock:
                fake.requests.append((method, self.path, body))
                failure = fake.fail.pop(0) if fake.fail else None
            if fake.delay_s:
                time.sleep(fake.delay_s)
            if failure:
                return self._send(failure[0], {"error": "injected"}, failure[1])
            url = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(url.query)
            parts = url.path.strip("/").split("/")
            auth = self.headers.get("Authorization")
            if len(parts) > 3 and parts[2] == "tickets" and parts[3].startswith("2"):  # Freshdesk ids: 2xx
                if auth != FD_AUTH:
                    return self._send(401, {"code": "invalid_credentials"})
                if parts[3] not in fake.freshdesk:
                    return self._send(404, {"code": "not_found"})
                return self._freshdesk(method, parts, q, body)
            if auth != ZD_AUTH:
                return self._send(401, {"error": "Couldn't authenticate you"})
            return self._zendesk(method, parts, q, body)

        def _zendesk(self, method: str, parts: list[str], q: dict[str, list[str]], body: Any) -> None:
            tid = parts[3].removesuffix(".json")
            if parts[2] == "incremental":
                tickets = [t["ticket"] for t in fake.zendesk.values()]
                return self._send(200, {"tickets": tickets, "end_of_stream": True, "after_url": None})
            with fake.lock:
                if tid not in fake.zendesk and fake.any_ticket and tid.isdigit() and int(tid) >= 1000:
                    fake.zendesk[tid] = _open_ticket(tid)
            if tid not in fake.zendesk:
                return self._send(404, {"error": "RecordNotFound"})
            t = fake.zendesk[tid]
            if len(parts) == 4 and method == "GET":
                return self._send(200, {"ticket": t["ticket"]})
            if len(parts) == 4 and method == "PUT":
                comment = (body or {}).get("ticket", {}).get("comment") or {}
                with fake.lock:
                    fake.notes.append(("zendesk", tid, body))
                    cid = fake.next_id = fake.next_id + 1
                    t["comments"].append({"id": cid, "author_id": 2, "public": comment.get("public", True),
                                          "plain_body": comment.get("body", "")})
                time.sleep(fake.note_delay_s)
                return self._send(200, {"ticket": t["ticket"], "audit": {"events": [
                    {"id": cid, "type": "Comment", "public": comment.get("public", True)}]}})
            if parts[4] == "comments.json":
                start = int(q.get("page[after]", ["0"])[0])
                page = t["comments"][start:start + 2]
                more = start + 2 < len(t["comments"])
                nxt = f"{fake.base_url}/api/v2/tickets/{tid}/comments.json?include=users&page[size]=2&page[after]={start + 2}"
                return self._send(200, {"comments": page, "users": fake.users, "meta": {"has_more": more},
                                        "links": {"next": nxt if more else None}})
            return self._send(404, {"error": "InvalidEndpoint"})

        def _freshdesk(self, method: str, parts: list[str], q: dict[str, list[str]], body: Any) -> None:
            t = fake.freshdesk[parts[3]]
            if len(parts) == 4:
                return self._send(200, {k: v for k, v in t.items() if k != "conversations"})
            if parts[4] == "conversations":
                page = int(q.get("page", ["1"])[0])
                return self._send(200, t["conversations"] if page == 1 else [])
            if parts[4] in {"notes", "reply"} and method == "POST":
                with fake.lock:
                    fake.notes.append(("freshdesk" if parts[4] == "notes" else "freshdesk-reply", parts[3], body))
                    cid = fake.next_id = fake.next_id + 1
                    t["conversations"].append({"id": cid, "body_text": (body or {}).get("body", ""), "incoming": False,
                                               "private": parts[4] == "notes"})
                time.sleep(fake.note_delay_s)
                return self._send(201, {"id": cid, **(body or {})})
            return self._send(404, {"code": "invalid_path"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_PUT(self) -> None:
            self._route("PUT")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


def _open_ticket(tid: str) -> dict[str, Any]:
    return {"ticket": {"id": int(tid), "subject": "Refund", "status": "new", "requester_id": 1, "tags": []},
            "comments": [{"id": int(tid) * 1000, "author_id": 1, "public": True,
                          "plain_body": f"Where is my refund? I returned the chair two weeks ago (order {tid})."}]}


@contextmanager
def fake_helpdesk() -> Iterator[FakeHelpdesk]:
    port = free_port()
    fake = FakeHelpdesk(base_url=f"http://127.0.0.1:{port}")
    with http_server(port, _handler(fake)):
        yield fake
