"""A local stand-in for the Slack Web API (as slack-bolt's own suite does) and signed requests.

The server listens on a free loopback port, answers the methods the app calls with Slack's
documented shapes, records every call (method, arguments, time) and can fail a method on demand.
Response URLs (slash commands, ephemeral buttons) point at it too.
"""

from __future__ import annotations

import hashlib
import hmac
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

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T1"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class MockSlack:
    base_url: str
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    # What conversations.info says per channel (e.g. {"is_ext_shared": True}), its members, users
    # (id -> users.info "user"; unknown ids are home-team people) and user groups' members.
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: int = 1000

    def next_ts(self) -> str:
        with self.lock:
            self._ts += 1
            return f"1700000000.{self._ts:06d}"

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, n: int = 1, timeout: float = 20.0, where: Any = None) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.of(method) if where is None or where(c)]
            if len(found) >= n:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {n} call(s) to {method}; got {[c.method for c in self.calls]}")

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}response/{name}"


def _handler(mock: MockSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                args = json.loads(raw or "{}")
            else:
                args = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                for k in ("blocks", "view"):
                    if isinstance(args.get(k), str):
                        args[k] = json.loads(args[k])
            method = self.path.strip("/").removeprefix("api/")
            call = Call(method, args, time.monotonic())
            with mock.lock:
                mock.calls.append(call)
            if method.startswith("response/"):
                return self._send({"ok": True}, raw=b"ok")
            if method in mock.fail:
                return self._send({"ok": False, "error": mock.fail[method]})
            body: dict[str, Any] = {"ok": True}
            if method == "auth.test":
                body.update(user_id=BOT_USER, bot_id=BOT_ID, team_id=TEAM, user="copilot", team="Acme",
                            url="https://acme.slack.com/")
            elif method in {"chat.postMessage", "chat.update"}:
                body.update(channel=args.get("channel"), ts=args.get("ts") or mock.next_ts(),
                            message={"text": args.get("text")})
            elif method == "chat.postEphemeral":
                body.update(message_ts=mock.next_ts())
            elif method == "conversations.info":
                ch = args.get("channel", "")
                body.update(channel={"id": ch, "is_shared": False, "is_ext_shared": False, **mock.channels.get(ch, {})})
            elif method == "conversations.members":
                body.update(members=mock.members.get(args.get("channel", ""), []))
            elif method == "users.info":
                uid = args.get("user", "")
                body.update(user=mock.users.get(uid, {"id": uid, "team_id": TEAM, "is_bot": uid == BOT_USER,
                                                      "profile": {"display_name": f"name-{uid}",
                                                                  "image_72": f"https://avatars.example/{uid}.png"}}))
            elif method == "usergroups.users.list":
                body.update(users=mock.groups.get(args.get("usergroup", ""), []))
            elif method in {"views.open", "views.publish"}:
                body.update(view={"id": "V1", **(args.get("view") or {})})
            call.result = body
            self._send(body)

        def _send(self, body: dict[str, Any], raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def mock_slack() -> Iterator[MockSlack]:
    port = free_port()
    mock = MockSlack(base_url=f"http://127.0.0.1:{port}/api/")
    with http_server(port, _handler(mock)):
        yield mock


def signed(secret: str, body: str, *, timestamp: int | None = None, retry: int | None = None,
           content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": sig}
    if retry is not None:
        headers.update({"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"})
    return headers


def event_body(event: dict[str, Any], event_id: str = "Ev1") -> str:
    return json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})


def form(payload: dict[str, Any]) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def command_body(text: str, response_url: str, channel: str = "C1", user: str = "UAGENT") -> str:
    return urllib.parse.urlencode({"command": "/copilot", "text": text, "channel_id": channel, "user_id": user,
                                   "team_id": TEAM, "response_url": response_url, "trigger_id": "trig1",
                                   "token": "x", "api_app_id": "A1"})
