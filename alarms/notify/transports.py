"""Which transport serves an action URI, and the check that an alarm's actions are ones we can run."""

from __future__ import annotations

from urllib.parse import urlparse

from alarms.notify.command import PREFIX as EXEC_PREFIX
from alarms.notify.command import argv_of, run_command
from alarms.notify.mail import recipients, send_mail
from alarms.notify.message import AlarmMessage
from alarms.notify.webhook import SLACK_PREFIX, post_webhook
from watchkeeper.config.settings import AlarmsSettings

ALLOWED = "http://..., https://..., slack+https://..., mailto:user@host or exec:/path/to/command args"


def action_problem(uri: str) -> str | None:
    """Why an action URI cannot be delivered, or None when it can."""
    if uri.startswith(EXEC_PREFIX):
        return None if argv_of(uri) else f"found {uri!r}: exec: names no command; allowed {ALLOWED}"
    if uri.startswith("mailto:"):
        return None if recipients(uri) else f"found {uri!r}: mailto: names no recipient; allowed {ALLOWED}"
    parsed = urlparse(uri.removeprefix(SLACK_PREFIX))
    if parsed.scheme in ("http", "https") and parsed.hostname:
        return None
    return f"found {uri!r}; allowed {ALLOWED}"


def deliver(uri: str, message: AlarmMessage, settings: AlarmsSettings) -> str:
    """One attempt, bounded by settings.attempt_timeout_s; the outcome, or DeliveryError."""
    timeout = settings.attempt_timeout_s
    if uri.startswith(EXEC_PREFIX):
        return run_command(uri, message, timeout)
    if uri.startswith("mailto:"):
        return send_mail(uri, message, settings.smtp, timeout)
    return post_webhook(uri, message, settings, timeout)
