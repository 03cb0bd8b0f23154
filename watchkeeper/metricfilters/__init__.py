"""CloudWatch Logs metric filters: definitions (store), per-minute evaluation (evaluate) and the
runner that turns matching log events into metric datapoints. See docs/logs.md."""
