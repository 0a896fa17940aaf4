"""The check stage, run by the application layer on every draft and every rewrite."""

from __future__ import annotations

from copilot.checks.grounding import Grounding, GroundingChecker, Judge
from copilot.checks.injection import clean_sources
from copilot.checks.stage import CheckContext, Checked, CheckStage, DraftRejected, SourceText

__all__ = ["CheckContext", "CheckStage", "Checked", "DraftRejected", "Grounding", "GroundingChecker", "Judge",
           "SourceText", "clean_sources"]
