"""Integrations: Slack, the HTTP service and helpdesks."""
