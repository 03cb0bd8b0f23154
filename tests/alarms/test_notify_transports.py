"""Each action transport against a real local receiver: SMTP (aiosmtpd, with login), Slack's format,
exec: with WK_ALARM_* and stdin, and a receiver that times out being retried without delaying others."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.alarms.smtp_support import Mailbox, authenticate, free_port
from tests.alarms.service_support import NEWEST_PERIOD, metric_alarm, receiver, running, settings
from watchkeeper.config.settings import SmtpSettings
from watchkeeper.storage.engine import Engine


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    port, mailbox = free_port(), Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    yield mailbox, port
    controller.stop()


def test_mail_through_smtp_with_login(engine: Engine, smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, username="alerts", password="pw",
                        from_address="wk@example.test")
    with running(engine, settings(smtp=smtp)) as wk:
        wk.call("PutMetricAlarm", metric_alarm("mail-me", "cpu", ["mailto:oncall@example.test"]))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        [envelope] = mailbox.envelopes
        assert envelope.mail_from == "wk@example.test" and envelope.rcpt_tos == ["oncall@example.test"]
        text = envelope.content.decode() if isinstance(envelope.content, bytes) else str(envelope.content)
        assert 'Subject: ALARM: "mail-me" in local' in text
        assert "has entered the ALARM state" in text
        [action] = wk.history("mail-me", "Action")
        assert action["HistorySummary"] == "Successfully executed action mailto:oncall@example.test"


def test_smtp_login_refused_is_a_failed_action(engine: Engine, smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, username="alerts", password="wrong")
    with running(engine, settings(smtp=smtp, retries=0)) as wk:
        wk.call("PutMetricAlarm", metric_alarm("mail-bad", "cpu", ["mailto:oncall@example.test"]))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        assert mailbox.envelopes == []
        [action] = wk.history("mail-bad", "Action")
        assert action["HistorySummary"].startswith("Failed to execute action mailto:oncall@example.test. "
                                                   "Received error: \"SMTP 127.0.0.1")
        assert action["HistorySummary"].endswith("(attempt 1 of 1, giving up)")


def test_slack_webhook_format(engine: Engine) -> None:
    with receiver() as hook, running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("slack-me", "cpu", [f"slack+{hook.url}/services/T/B/X"],
                                               AlarmDescription="CPU too high"))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        [request] = hook.wait_for(lambda r: len(r) == 1)
        assert request.path == "/services/T/B/X" and "X-Watchkeeper-Signature" not in request.headers
        payload = request.json()
        assert payload["text"] == "ALARM: slack-me"
        [attachment] = payload["attachments"]
        assert attachment["color"] == "#d00000"
        assert "*Description:* CPU too high" in attachment["blocks"][1]["text"]["text"]


def test_exec_action_gets_environment_and_stdin(engine: Engine, tmp_path: Path) -> None:
    script = tmp_path / "hook.py"
    out = tmp_path / "out.json"
    script.write_text("import json, os, sys\n"
                      f"json.dump({{'env': {{k: v for k, v in os.environ.items() if k.startswith('WK_ALARM_')}},"
                      f" 'stdin': json.load(sys.stdin), 'argv': sys.argv[1:]}}, open({str(out)!r}, 'w'))\n")
    with running(engine) as wk:
        wk.call("PutMetricAlarm", metric_alarm("exec-me", "cpu", [f"exec:{sys.executable} {script} 'two words'"]))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
    ran = json.loads(out.read_text())
    assert ran["argv"] == ["two words"]
    assert ran["env"]["WK_ALARM_NAME"] == "exec-me" and ran["env"]["WK_ALARM_NEW_STATE"] == "ALARM"
    assert ran["env"]["WK_ALARM_OLD_STATE"] == "INSUFFICIENT_DATA"
    assert ran["stdin"]["AlarmName"] == "exec-me" and ran["stdin"]["NewStateValue"] == "ALARM"


def test_exec_failure_is_retried_then_given_up(engine: Engine) -> None:
    with running(engine, settings(retries=2)) as wk:
        wk.call("PutMetricAlarm", metric_alarm("exec-fails", "cpu", [f"exec:{sys.executable} -c 'exit(3)'"]))
        wk.put_values("cpu", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        summaries = [a["HistorySummary"] for a in wk.history("exec-fails", "Action")]
        assert [s.rsplit("(", 1)[1] for s in summaries] == [
            "attempt 1 of 3, retrying in 0.05 s)", "attempt 2 of 3, retrying in 0.1 s)", "attempt 3 of 3, giving up)"]
        assert all("exited with 3" in s for s in summaries)


def test_receiver_that_times_out_does_not_delay_other_alarms(engine: Engine) -> None:
    # The slow path answers after 3 s; attempts time out after 0.5 s, so each of its attempts fails.
    with receiver(slow_paths=("/slow",), slow_s=3.0) as hook, \
            running(engine, settings(attempt_timeout_s=0.5, retries=1)) as wk:
        wk.call("PutMetricAlarm", metric_alarm("a-slow", "slow", [f"{hook.url}/slow"]))
        wk.call("PutMetricAlarm", metric_alarm("b-fast", "fast", [f"{hook.url}/fast"]))
        wk.put_values("slow", {NEWEST_PERIOD + 1: 99.0})
        wk.put_values("fast", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        hook.wait_for(lambda r: any(x.path == "/fast" for x in r))
        # The fast alarm's notification arrived while the slow one had not even failed its first attempt.
        assert wk.history("a-slow", "Action") == []
        wk.wait_idle()
        slow = [a["HistorySummary"] for a in wk.history("a-slow", "Action")]
        assert len(slow) == 2 and "(attempt 1 of 2, retrying" in slow[0] and "(attempt 2 of 2, giving up)" in slow[1]
        assert hook.events.count("slow-start /slow") == 2
        assert [a["HistorySummary"] for a in wk.history("b-fast", "Action")] == [
            f"Successfully executed action {hook.url}/fast"]


def test_queue_overflow_is_counted_and_recorded(engine: Engine) -> None:
    # One worker held by a slow receiver and one queue place: of three notifications, at least one overflows.
    with receiver(slow_paths=("/q0", "/q1", "/q2"), slow_s=1.0) as hook, \
            running(engine, settings(queue_size=1, workers=1, retries=0)) as wk:
        for index in range(3):
            wk.call("PutMetricAlarm", metric_alarm(f"q{index}", "q", [f"{hook.url}/q{index}"]))
        wk.put_values("q", {NEWEST_PERIOD + 1: 99.0})
        wk.service.scheduler.run_cycle()
        wk.wait_idle()
        outcomes = [a["HistorySummary"] for i in range(3) for a in wk.history(f"q{i}", "Action")]
        dropped = [o for o in outcomes if o.endswith('Received error: "notification queue full" (attempt 1 of 1, '
                                                      'giving up)')]
        assert len(outcomes) == 3 and wk.service.dispatcher.overflowed == len(dropped) >= 1
        assert len(hook.requests) == 3 - len(dropped)
