"""Application metrics (Prometheus): what every channel drafted, sent and rejected, counted in one place."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["AppMetrics"]


class AppMetrics:
    """One registry per Copilot, so several in one process (tests, workers) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.suggestions = Counter("copilot_suggestions_total", "Suggestions drafted", ["brand", "drafter"],
                                   registry=self.registry)
        self.fallbacks = Counter("copilot_llm_fallbacks_total", "LLM drafts answered by the embedded drafter",
                                 ["brand"], registry=self.registry)
        self.feedback = Counter("copilot_feedback_total", "Feedback outcomes recorded", ["brand", "outcome"],
                                registry=self.registry)
        self.conflicts = Counter("copilot_feedback_conflicts_total", "Second outcomes refused for one suggestion",
                                 ["brand"], registry=self.registry)
        # The job worker of this process (the outbox's own gauges come from the database).
        self.jobs = Counter("copilot_worker_jobs_total", "Job runs by this process's worker, by how they ended "
                            "(done, retry, failed, lost_lease)", ["kind", "outcome"], registry=self.registry)
        self.job_seconds = Histogram("copilot_worker_job_seconds", "Time a job run took", ["kind"],
                                     buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=self.registry)
