"""Ingest's events-per-second counters live in ``alerts.pipeline_stats`` (the dashboard reads them
there: nothing may import ``ingest``); this name stays for ingest's own imports."""

from alerts.pipeline_stats import eps_rates, eps_record

__all__ = ["eps_rates", "eps_record"]
