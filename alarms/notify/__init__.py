"""Alarm notifications: the message, one transport per action URI scheme, and the delivery queue.

message.py builds CloudWatch's alarm state-change message once per transition;
transports.py picks the transport of an action URI (http(s), Slack, mailto:,
exec:); dispatcher.py delivers apart from evaluation with a bounded queue,
worker threads, per-attempt timeouts and retries with exponential backoff.
"""
