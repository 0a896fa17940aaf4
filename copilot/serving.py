"""The service as ``copilot serve`` runs it: the HTTP API, the sidebar and the webhooks, with Slack
mounted beside them when it is configured, all on one Copilot (one composition root).

Slack is optional for the rest: when it cannot be reached at start (the Bolt app checks its token
with ``auth.test``), the API and webhooks serve anyway, ``/readyz`` names Slack as failing, Slack's
requests get 503 (Slack retries them), and the app is built again in the background until it works.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from copilot.integrations.http.app import create_app

if TYPE_CHECKING:
    from fastapi import FastAPI
    from slack_sdk import WebClient

    from copilot.service import Copilot

__all__ = ["SlackMount", "build_service"]

log = logging.getLogger("copilot.serve")


class SlackMount:
    """Slack's route, served once the Slack app could be built."""

    def __init__(self, copilot: Copilot, *, client: WebClient | None = None, retry_s: float = 30.0) -> None:
        self.copilot, self.client, self.retry_s = copilot, client, retry_s
        self._endpoint: Any = None
        self._error = "starting"
        self._stop = threading.Event()

    def start(self) -> None:
        if not self._try() and not self._stop.is_set():
            threading.Thread(target=self._retry, name="copilot-slack-retry", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def status(self) -> str:
        return "ok" if self._endpoint is not None else f"failing: {self._error}"

    def _try(self) -> bool:
        from copilot.integrations.slack import asgi_routes, build_app

        try:
            self._endpoint = asgi_routes(build_app(self.copilot, client=self.client))[0].endpoint
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning("Slack is not ready (%s); the rest of the service runs, and Slack is tried again every "
                        "%.0fs", self._error, self.retry_s)
            return False
        log.info("Slack is ready")
        return True

    def _retry(self) -> None:
        while not self._stop.wait(self.retry_s):
            if self._try():
                return

    def routes(self) -> list[Any]:
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def events(req: Any) -> Any:
            if self._endpoint is None:
                return JSONResponse({"error": {"code": "unavailable", "message": f"Slack is not ready: {self._error}",
                                               "hint": "Slack retries this delivery; /readyz shows the cause"}},
                                    status_code=503, headers={"Retry-After": str(int(self.retry_s))})
            return await self._endpoint(req)

        return [Route("/slack/events", events, methods=["POST"])]


def build_service(copilot: Copilot, *, slack_client: WebClient | None = None) -> FastAPI:
    s = copilot.settings
    if not (s.slack_bot_token and s.slack_signing_secret):
        return create_app(copilot)
    slack = SlackMount(copilot, client=slack_client)
    slack.start()
    app = create_app(copilot, routes=slack.routes(), optional={"slack": slack.status})
    app.state.slack = slack
    return app
