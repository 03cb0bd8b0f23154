"""Audit sources on each server: file integrity monitoring and host change feeds (docs/audit-sources.md)."""

from agent.audit.agent import AuditAgent

__all__ = ["AuditAgent"]
