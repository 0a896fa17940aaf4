"""The evaluation harness: suites, backtests, metrics, reports, comparisons and gates."""
