"""The collector: Kafka (or the local spool) -> ClickHouse, at least once in, exactly once counted."""
