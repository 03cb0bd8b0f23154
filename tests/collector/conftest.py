"""Fixtures of the collector tests live in collector_support.py, beside their helpers."""

from collector_support import start_collector, topics

__all__ = ["start_collector", "topics"]
