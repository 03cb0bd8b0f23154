"""The agent that runs on every server: host metrics, tailed logs and file changes, shipped in batches."""
