"""Grafana dashboards as code over Watchkeeper's tables."""
