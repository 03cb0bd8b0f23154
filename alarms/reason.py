"""StateReason text and StateReasonData JSON in CloudWatch's formats.

Numbers print as Java's Double.toString does (50.0, 99.5, 1.0E-4) and datapoint
times as MM/dd/yy HH:mm:ss in UTC, because AWS renders them so and users grep
and parse these strings, e.g.:

  Threshold Crossed: 1 out of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater than the
  threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, NamedTuple

OPERATOR_PHRASES = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
MISSING_AS = {"breaching": "Breaching", "notBreaching": "NonBreaching", "missing": "Missing", "ignore": "Ignore"}


class Point(NamedTuple):
    """One evaluated period: a real datapoint (value set) or a filled gap (value None).

    A NamedTuple, as PeriodValue: the evaluator builds one per period of every alarm each cycle."""

    timestamp: int
    value: float | None
    sample_count: float | None
    breaching: bool


def java_double(value: float) -> str:
    """Render a float like Java's Double.toString (what AWS's messages show)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1e7:
        text = repr(float(value))
        return text if "e" not in text else f"{value:.1f}"
    exponent = math.floor(math.log10(magnitude))
    mantissa = repr(round(value / 10**exponent, 14))
    if mantissa.startswith(("10.", "-10.")):
        exponent += 1
        mantissa = repr(round(value / 10**exponent, 14))
    return f"{mantissa}E{exponent}"


def short_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%m/%d/%y %H:%M:%S")


def iso_time(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def threshold_crossed(points: tuple[Point, ...], *, operator: str, threshold: float,
                      new_state: str, old_state: str, minimum: int, treat_missing: str) -> str:
    """The reason of an evaluation that decided OK or ALARM from datapoints (newest first)."""
    wanted = new_state == "ALARM"
    matching = [p for p in points if p.breaching == wanted]
    shown = [p for p in matching if p.value is not None]
    filled = len(matching) - len(shown)
    listed = ", ".join(f"{java_double(p.value)} ({short_time(p.timestamp)})" for p in shown if p.value is not None)
    phrase = OPERATOR_PHRASES[operator] if wanted else "not " + OPERATOR_PHRASES[operator]
    text = f"Threshold Crossed: {len(matching)} out of the last {len(points)} datapoints"
    text += f" [{listed}]" if shown else ""
    if shown:
        text += f" {_was(len(shown))} {phrase} the threshold ({java_double(threshold)})"
    if filled:
        text += (", and" if shown else "") + f" {_plural(filled, 'missing datapoint')} {_was(filled)} treated as " \
                f"[{MISSING_AS[treat_missing]}]"
    return text + f" (minimum {_plural(minimum, 'datapoint')} for {old_state} -> {new_state} transition)."


def insufficient_data(periods: int) -> str:
    return f"Insufficient Data: {_plural(periods, 'datapoint')} {_was(periods)} unknown."


def all_missing(periods: int, treat_missing: str) -> str:
    """Every period of the range is empty and TreatMissingData decided the state."""
    return (f"Threshold Crossed: no datapoints were received for {_plural(periods, 'period')} and "
            f"{_plural(periods, 'missing datapoint')} {_was(periods)} treated as [{MISSING_AS[treat_missing]}].")


def reason_data(*, now: float, start: int, period: int, statistic: str | None, unit: str | None,
                recent: list[float], evaluated: tuple[Point, ...], threshold: float) -> dict[str, Any]:
    """StateReasonData, keys in AWS's order; evaluatedDatapoints newest first."""
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_time(now), "startDate": iso_time(start)}
    if statistic is not None:
        data["statistic"] = statistic
    if unit is not None:
        data["unit"] = unit
    data["period"] = period
    data["recentDatapoints"] = recent
    data["threshold"] = threshold
    data["evaluatedDatapoints"] = [_evaluated(p) for p in evaluated]
    return data


def _evaluated(point: Point) -> dict[str, Any]:
    item: dict[str, Any] = {"timestamp": iso_time(point.timestamp)}
    if point.value is not None:
        item["sampleCount"] = point.sample_count
        item["value"] = point.value
    return item
