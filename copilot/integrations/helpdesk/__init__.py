"""Helpdesk clients (Zendesk, Freshdesk), webhooks and the durable job outbox."""
