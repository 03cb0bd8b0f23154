"""Watchkeeper: a self-hosted CloudWatch + CloudTrail.

The shared kernel: configuration, the event model and wire format, transports,
storage and schema, the HTTP API and the CLI. Agent, collector, alarms, audit and
dashboards build on it.
"""

__version__ = "0.1.0"
