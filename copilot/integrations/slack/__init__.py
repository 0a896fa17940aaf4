"""Slack: suggestions where agents already work (slack-bolt)."""

from __future__ import annotations

from copilot.integrations.slack.app import SlackCopilot, asgi_routes, build_app, http_app, serve

__all__ = ["SlackCopilot", "asgi_routes", "build_app", "http_app", "serve"]
