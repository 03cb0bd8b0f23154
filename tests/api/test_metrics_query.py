"""storage/metrics_query: many series in one call (the alarm evaluator's read) and the tier by data age."""

from __future__ import annotations

import time

from watchkeeper.config.settings import RetentionSettings
from watchkeeper.events import MetricDatum
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.metrics import write_metrics
from watchkeeper.storage.metrics_query import SeriesKey, Tier, fetch_statistics, resolution_at, tier_for

DAY = 86_400
BASE = (int(time.time()) // 60 - 10) * 60


def test_fetch_statistics_for_many_series_at_once(engine: Engine) -> None:
    web, db, silent = (SeriesKey("App", "cpu", (("host", h),)) for h in ("web", "db", "silent"))
    items = [MetricDatum.single("App", "cpu", key.dimensions, BASE + offset, value).to_item()
             for key, offset, value in ((web, 0, 1.0), (web, 60, 3.0), (db, 30, 10.0), (db, 40, 20.0))]
    write_metrics(engine, [("batch-1", items)])
    found = fetch_statistics(engine, [web, db, silent], BASE, BASE + 120, 60, percentiles=[50.0])
    assert [(p.timestamp, p.sample_count, p.average) for p in found[web.fingerprint]] == [
        (BASE, 1.0, 1.0), (BASE + 60, 1.0, 3.0)]
    assert [(p.timestamp, p.sample_count, p.minimum, p.maximum, p.percentiles) for p in found[db.fingerprint]] \
        == [(BASE, 2.0, 10.0, 20.0, {50.0: 10.0})]
    assert found[silent.fingerprint] == []


def test_a_batch_delivered_twice_is_counted_once_in_every_statistic(engine: Engine) -> None:
    web = SeriesKey("App", "cpu", (("host", "web"),))
    items = [MetricDatum.single("App", "cpu", web.dimensions, BASE + offset, value).to_item()
             for offset, value in ((0, 1.0), (10, 2.0), (20, 9.0))]
    write_metrics(engine, [("batch-1", items)])
    write_metrics(engine, [("batch-1", items)])  # redelivered: same event ids, not yet merged away
    [point] = fetch_statistics(engine, [web], BASE, BASE + 60, 60, percentiles=[50.0, 90.0])[web.fingerprint]
    assert (point.sample_count, point.sum, point.minimum, point.maximum, point.percentiles) == (
        3.0, 12.0, 1.0, 9.0, {50.0: 2.0, 90.0: 9.0})


def test_tier_and_resolution_follow_the_data_age() -> None:
    now = 1_800_000_000
    retention = RetentionSettings()
    assert (tier_for(now - 3600, now, retention), resolution_at(now - 3600, now, retention)) == (Tier.RAW, 1)
    assert (tier_for(now - DAY, now, retention), resolution_at(now - DAY, now, retention)) == (Tier.RAW, 60)
    assert (tier_for(now - 20 * DAY, now, retention), resolution_at(now - 20 * DAY, now, retention)) == \
        (Tier.FIVE_MINUTES, 300)
    assert (tier_for(now - 100 * DAY, now, retention), resolution_at(now - 100 * DAY, now, retention)) == \
        (Tier.ONE_HOUR, 3600)
    assert tier_for(now - 20 * DAY, now, RetentionSettings(metrics_days=30)) is Tier.RAW
