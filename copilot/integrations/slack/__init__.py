"""Slack: suggestions where agents already work (slack-bolt)."""

from __future__ import annotations

from copilot.integrations.slack.app import SlackCopilot, build_app, serve

__all__ = ["SlackCopilot", "build_app", "serve"]
