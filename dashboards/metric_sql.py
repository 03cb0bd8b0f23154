"""SQL for metric panels: the storage tier chosen by the time range, and series joined to their labels.

Tier choice: Grafana cannot pick a table by itself, and ClickHouse has no dynamic
table names, so two hidden query variables, refreshed on every time-range change,
compute the table and its bucket width from $__fromTime/$__toTime, as the CloudWatch
console picks a period: ranges up to 6 hours whose start is still within raw
retention read raw (1-minute) samples; up to 14 days within the 5-minute retention
read metric_samples_5m (a day is 288 points); longer ranges read metric_samples_1h.
A panel never reads more than about 1,000 points per series, so a 90-day view
costs what a 6-hour view costs.
Panels then read `FROM ${metrics_table}` and bucket by greatest($__interval_s,
${metrics_step}). One rule, one place, visible in the dashboard's variables.

Buckets use intDiv on epoch seconds, not $__timeInterval: the plugin expands that
to toStartOfInterval, which ClickHouse 18.16 refuses (storage/capabilities.py).

Each sample once: a sample delivered twice, or a bucket rolled up twice, is two rows
until a merge. Every tier has event_id and version columns (0 in a tier, the rollup
time; storage/migrations/m0101_rollup_versions.py), so `samples` folds them: one row
per (fingerprint, ts, event_id) with the newest version's statistics, the rows FINAL
would keep. The fold reads only the chosen hosts' rows; FINAL on 18.16 merges the whole
fleet's rows of a metric first (CPU by mode over 30 days: 0.41 s with FINAL, 0.05 s
folded). Panels over every host's rows of a metric are the exception: there FINAL's
streaming merge of sorted rows is about 3x cheaper than the fold's hash table on both
engines (docs/benchmarks.md, "Dashboard queries").
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboards.model import VariableSpec
from watchkeeper.config.settings import RetentionSettings
from watchkeeper.storage.sql import in_list, quote

AGENT_NAMESPACE = "CWAgent"
SELF_NAMESPACE = "Watchkeeper"
DAY = 86_400
_RAW_SPAN = 6 * 3600
_FIVE_MINUTE_SPAN = 14 * DAY


def _tier_choice(raw: str, five: str, hour: str, retention: RetentionSettings) -> str:
    return (
        "SELECT multiIf("
        f"span <= {_RAW_SPAN} AND age <= {retention.metrics_days * DAY}, {raw}, "
        f"span <= {_FIVE_MINUTE_SPAN} AND age <= {retention.metrics_5m_days * DAY}, {five}, {hour}) "
        "FROM (SELECT toUInt32($__toTime) - toUInt32($__fromTime) AS span, "
        "toUInt32(now()) - toUInt32($__fromTime) AS age)"
    )


def tier_variables(retention: RetentionSettings | None = None) -> tuple[VariableSpec, VariableSpec]:
    """The hidden metrics_table and metrics_step variables every metric dashboard carries."""
    kept = retention or RetentionSettings()
    table = _tier_choice("'metric_samples'", "'metric_samples_5m'", "'metric_samples_1h'", kept)
    step = _tier_choice("60", "300", "3600", kept)
    return (VariableSpec("metrics_table", "Storage tier", table, hidden=True, refresh_on_time_change=True),
            VariableSpec("metrics_step", "Tier resolution (s)", step, hidden=True, refresh_on_time_change=True))


STEP = "greatest($__interval_s, ${metrics_step})"
BUCKET = f"toDateTime(intDiv(toUInt32(ts), {STEP}) * {STEP})"
# Aggregates over the statistics `samples` gives: c (count), s (sum), hi (max) of each sample.
MEAN = "sum(s) / sum(c)"
RATE = f"sum(s) / {STEP}"  # per-interval counter deltas as a per-second rate
TOTAL = "sum(s)"
LARGEST = "max(hi)"


def samples(conditions: str, whole_fleet: bool = False) -> str:
    """Samples of ${metrics_table} matching conditions, each stored sample once, as (fingerprint,
    metric_name, ts, c, s, hi): count, sum and max of its newest version (metric_name comes along for
    labels; a fingerprint has one). Folded by version, or read FINAL for a panel over every host's rows
    of a metric (whole_fleet), where FINAL is cheaper (module docstring) and keeps the same rows: the last
    inserted, which is the newest version (maintenance.roll_up)."""
    if whole_fleet:
        return ("(SELECT fingerprint, metric_name, ts, count AS c, sum AS s, max AS hi "
                f"FROM ${{metrics_table}} FINAL WHERE {conditions})")
    return ("(SELECT fingerprint, metric_name, ts, argMax(count, version) AS c, argMax(sum, version) AS s, "
            f"argMax(max, version) AS hi FROM ${{metrics_table}} WHERE {conditions} "
            "GROUP BY fingerprint, metric_name, ts, event_id)")


def dimension(name: str) -> str:
    """A series' dimension value ('' when the series has no such dimension)."""
    return f"dim_values[indexOf(dim_names, {quote(name)})]"


HOST = dimension("host")


def join_labels(namespace: str, condition: str, labels: dict[str, str]) -> str:
    """A join clause adding label columns (alias -> SQL over the series row) to rows keyed by fingerprint.

    One row per fingerprint on the right (metric_series may hold a series twice until it merges),
    joined ALL: ANY INNER JOIN would also keep one row per key of the left side on modern servers.
    """
    columns = "".join(f", any({expression}) AS {alias}" for alias, expression in labels.items())
    return (f"ALL INNER JOIN (SELECT fingerprint{columns} FROM metric_series "
            f"WHERE namespace = {quote(namespace)} AND {condition} GROUP BY fingerprint) AS labels USING fingerprint")


def metric_timeseries(metrics: Sequence[str], series: str, value: str = MEAN,
                      labels: dict[str, str] | None = None, condition: str = "1",
                      namespace: str = AGENT_NAMESPACE, host_filter: bool = True, whole_fleet: bool = False) -> str:
    """time, series (a label), value: one line per series label, bucketed to the tier's resolution.

    value aggregates the bucket's statistic sets (see `samples`): MEAN, RATE, TOTAL or LARGEST.
    whole_fleet: the panel reads every host's series of the metrics (see `samples`).
    """
    picked = {"host": HOST, **(labels or {})}
    hosts = "$__conditionalAll(" + HOST + " IN (${host:singlequote}), $host)" if host_filter else "1"
    wanted = f"metric_name IN {in_list(metrics)} AND {hosts} AND {condition}"
    # The fingerprint IN list lets the primary key (namespace, metric_name, fingerprint, ts) skip other
    # hosts' granules; 18.16 does not push the join's keys into the scan by itself.
    rows = samples(
        f"namespace = {quote(namespace)} AND metric_name IN {in_list(metrics)} AND $__timeFilter(ts) "
        f"AND fingerprint IN (SELECT fingerprint FROM metric_series WHERE namespace = {quote(namespace)} "
        f"AND {wanted})", whole_fleet)
    return (f"SELECT {BUCKET} AS time, {series} AS series, {value} AS value "
            f"FROM {rows} AS samples {join_labels(namespace, wanted, picked)} GROUP BY time, series ORDER BY time")


def short_name(prefix: str) -> str:
    """The metric name without its input's prefix (cpu_usage_user -> user)."""
    return f"replaceOne(metric_name, {quote(prefix)}, '')"
