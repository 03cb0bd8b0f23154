"""http(s):// actions (CloudWatch's JSON, HMAC-signed when a secret is configured) and Slack incoming webhooks.

Signing: with a secret, the request carries
    X-Watchkeeper-Timestamp: <unix seconds>
    X-Watchkeeper-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
The timestamp is inside the signed string, so a receiver that rejects old
timestamps also rejects a replayed request; it must compare the signature with
a constant-time comparison (hmac.compare_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from urllib.parse import urlparse

import httpx

from alarms.notify.message import AlarmMessage
from watchkeeper.config.settings import AlarmsSettings
from watchkeeper.errors import DeliveryError

SIGNATURE_HEADER = "X-Watchkeeper-Signature"
TIMESTAMP_HEADER = "X-Watchkeeper-Timestamp"
SLACK_PREFIX = "slack+"
SLACK_HOST = "hooks.slack.com"
SLACK_COLORS = {"ALARM": "#d00000", "OK": "#2eb886", "INSUFFICIENT_DATA": "#daa038"}
SLACK_EMOJI = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def is_slack(uri: str) -> bool:
    return uri.startswith(SLACK_PREFIX) or urlparse(uri).hostname == SLACK_HOST


def slack_payload(message: AlarmMessage) -> dict[str, object]:
    """Slack's incoming-webhook format: a text fallback and an attachment coloured by the new state."""
    body = message.body
    headline = f"{SLACK_EMOJI[message.new_state]} *{message.new_state}*: {message.alarm_name}"
    fields = [f"*State:* {message.old_state} -> {message.new_state}", f"*Reason:* {message.reason}",
              f"*Region:* {body['Region']}", f"*Changed:* {body['StateChangeTime']}"]
    if body.get("AlarmDescription"):
        fields.insert(0, f"*Description:* {body['AlarmDescription']}")
    return {
        "text": f"{message.new_state}: {message.alarm_name}",
        "attachments": [{
            "color": SLACK_COLORS[message.new_state],
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(fields)}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": str(body["AlarmArn"])}]},
            ],
        }],
    }


_per_thread = threading.local()


def _client() -> httpx.Client:
    """This delivery thread's client: kept, because a new one builds a TLS context (~47 ms of CPU here, so a
    burst of 2,400 notifications held the interpreter for two minutes) and reopens every connection."""
    client: httpx.Client | None = getattr(_per_thread, "client", None)
    if client is None:
        client = _per_thread.client = httpx.Client()
    return client


def _post(url: str, content: bytes, headers: dict[str, str], timeout: float) -> str:
    try:
        response = _client().post(url, content=content, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise DeliveryError(f"no answer from {url} within {timeout} s") from None
    except httpx.HTTPError as error:
        raise DeliveryError(f"cannot reach {url}: {error or type(error).__name__}") from None
    if response.is_error:
        raise DeliveryError(f"{url} answered HTTP {response.status_code}: {response.text[:200]!r}")
    return f"HTTP {response.status_code}"


def post_webhook(uri: str, message: AlarmMessage, settings: AlarmsSettings, timeout: float) -> str:
    """POST the notification (Slack's format for Slack URLs); the outcome, or DeliveryError."""
    if is_slack(uri):
        url = uri.removeprefix(SLACK_PREFIX)
        return _post(url, json.dumps(slack_payload(message)).encode(), {"Content-Type": "application/json"}, timeout)
    content = message.json_bytes()
    headers = {"Content-Type": "application/json"}
    secret = settings.secrets.get(uri, settings.default_secret)
    if secret:
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, content)
    return _post(uri, content, headers, timeout)
