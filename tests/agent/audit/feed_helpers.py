"""Shared pieces of the feed tests: recorded sample logs and a feed context."""

from __future__ import annotations

from pathlib import Path

from agent.audit.feeds.base import FeedContext

SAMPLES = Path(__file__).parent / "samples"
CONTEXT = FeedContext("web-1", "123456789012")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()
