"""Retrieval: sources in (loaders for the input formats of DESIGN.md), chunks, embeddings, the Chroma
store and hybrid search. The loaders are public; everything else is reached through ``Copilot``."""

from __future__ import annotations

from copilot.retrieval.sources import KB_SUFFIXES, Loaded, LoadIssue, load_kb, load_tickets

__all__ = ["KB_SUFFIXES", "LoadIssue", "Loaded", "load_kb", "load_tickets"]
