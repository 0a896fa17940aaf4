"""The service as ``copilot serve`` runs it: the HTTP API, the sidebar and the webhooks, with Slack
mounted beside them when it is configured, all on one Copilot (one composition root)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from copilot.integrations.http.app import create_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from copilot.service import Copilot

__all__ = ["build_service"]

log = logging.getLogger("copilot.serve")


def build_service(copilot: Copilot) -> FastAPI:
    routes = []
    s = copilot.settings
    if s.slack_bot_token and s.slack_signing_secret:
        from copilot.integrations.slack import asgi_routes, build_app

        routes = asgi_routes(build_app(copilot))
    return create_app(copilot, routes=routes)
