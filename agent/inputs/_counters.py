"""Per-interval deltas of cumulative counters, robust to wraps and resets.

The first reading of a series only primes it. A counter that went backwards has
wrapped (32-bit kernel counters) or been reset (reboot, driver reload, device
re-attach); either way the true increase is unknowable, so the series re-primes
instead of shipping a negative or huge value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

Reading = Mapping[str, float]


class CounterDeltas:
    """Remembers the previous reading of every series and turns new readings into deltas."""

    def __init__(self, reset_fields: Collection[str] | None = None) -> None:
        # Only a decrease of these fields means a reset; others are clamped at 0 (the kernel's
        # per-CPU iowait, for one, is documented to go backwards a little without any reset).
        self._reset_fields = reset_fields
        self._previous: dict[str, dict[str, float]] = {}

    def deltas(self, readings: Mapping[str, Reading]) -> dict[str, dict[str, float]]:
        """Deltas of the series that were primed and did not go backwards; the rest (re)prime.

        Series absent from `readings` are forgotten, so a device that comes back primes again.
        """
        out = {}
        for key, current in readings.items():
            previous = self._previous.get(key)
            if previous is not None and not self._went_backwards(previous, current):
                out[key] = {name: max(0.0, value - previous.get(name, value)) for name, value in current.items()}
        self._previous = {key: dict(current) for key, current in readings.items()}
        return out

    def _went_backwards(self, previous: Reading, current: Reading) -> bool:
        names = current.keys() if self._reset_fields is None else self._reset_fields
        return any(current[name] < previous.get(name, current[name]) for name in names)

    def reset(self) -> None:
        self._previous = {}
