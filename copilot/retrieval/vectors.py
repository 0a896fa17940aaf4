"""Embedding vectors as every embedder returns them: float32 rows of unit length."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Vector", "normalise"]

Vector = np.ndarray[Any, np.dtype[np.float32]]


def normalise(m: Vector) -> Vector:
    """Rows scaled to unit length (a zero row stays zero): cosine similarity is then a dot product."""
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vector = (m / norms).astype(np.float32)
    return out
