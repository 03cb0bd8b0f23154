"""The alarm CLI against the real API server: flag and --cli-input-json forms, filters, GitOps apply with its
errors and exit codes, set-alarm-state, silences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from tests.alarms.service_support import BASE, Running, metric_alarm, running
from watchkeeper.cli.main import cli
from watchkeeper.storage.engine import Engine


def wk_cli(wk: Running, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--endpoint", str(wk.api.base_url), *args])


def answer(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if result.output.strip() else {}


def test_put_describe_set_state_and_history(engine: Engine, tmp_path: Path) -> None:
    request = tmp_path / "a.json"
    request.write_text(json.dumps(metric_alarm("from-file", "cpu", [])))
    with running(engine) as wk:
        answer(wk_cli(wk, "alarms", "put-metric-alarm", "--cli-input-json", f"file://{request}",
                      "--threshold", "75"))
        answer(wk_cli(wk, "alarms", "put-metric-alarm", "--alarm-name", "from-flags", "--metric-name", "mem",
                      "--namespace", "App", "--statistic", "Maximum", "--period", "60", "--threshold", "90",
                      "--comparison-operator", "GreaterThanOrEqualToThreshold", "--evaluation-periods", "3",
                      "--datapoints-to-alarm", "2", "--treat-missing-data", "breaching",
                      "--dimensions", "Name=host,Value=web-1", "--alarm-actions", "exec:/bin/true",
                      "mailto:ops@example.test"))
        described = answer(wk_cli(wk, "alarms", "describe-alarms"))["MetricAlarms"]
        by_name = {a["AlarmName"]: a for a in described}
        assert by_name["from-file"]["Threshold"] == 75.0
        flags = by_name["from-flags"]
        assert (flags["DatapointsToAlarm"], flags["TreatMissingData"], flags["AlarmActions"]) == (
            2, "breaching", ["exec:/bin/true", "mailto:ops@example.test"])
        assert flags["Dimensions"] == [{"Name": "host", "Value": "web-1"}]
        wk.clock.now += 1
        answer(wk_cli(wk, "alarms", "disable-alarm-actions", "--alarm-names", "from-flags"))
        answer(wk_cli(wk, "alarms", "set-alarm-state", "--alarm-name", "from-flags", "--state-value", "ALARM",
                      "--state-reason", "drill"))
        alarmed = answer(wk_cli(wk, "alarms", "describe-alarms", "--state-value", "ALARM"))["MetricAlarms"]
        assert [a["AlarmName"] for a in alarmed] == ["from-flags"]
        items = answer(wk_cli(wk, "alarms", "describe-alarm-history", "--alarm-name", "from-flags",
                              "--history-item-type", "StateUpdate"))["AlarmHistoryItems"]
        assert [i["HistorySummary"] for i in items] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
        # Actions disabled: the transition sends nothing and records nothing.
        assert wk.history("from-flags", "Action") == []
        answer(wk_cli(wk, "alarms", "delete-alarms", "--alarm-names", "from-file", "from-flags"))
        assert answer(wk_cli(wk, "alarms", "describe-alarms"))["MetricAlarms"] == []
        missing = wk_cli(wk, "alarms", "delete-alarms", "--alarm-names", "nope")
        assert missing.exit_code == 2 and "ResourceNotFound" in missing.output


def test_invalid_alarm_is_refused_with_every_problem(engine: Engine) -> None:
    with running(engine) as wk:
        result = wk_cli(wk, "alarms", "put-metric-alarm", "--alarm-name", "bad", "--metric-name", "cpu",
                        "--namespace", "App", "--statistic", "Average", "--period", "45", "--threshold", "1",
                        "--comparison-operator", "Bigger", "--evaluation-periods", "1",
                        "--alarm-actions", "gopher://x")
        assert result.exit_code == 2
        for field in ("Period", "ComparisonOperator", "AlarmActions[0]"):
            assert field in result.output, result.output


def test_apply_directory_then_again_unchanged(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "cpu.json").write_text(json.dumps(metric_alarm("cpu", "cpu", [])))
    with running(engine) as wk:
        first = answer(wk_cli(wk, "alarms", "apply", str(tmp_path)))
        assert first == {"Created": ["cpu"], "Updated": [], "Unchanged": []}
        assert answer(wk_cli(wk, "alarms", "apply", str(tmp_path)))["Unchanged"] == ["cpu"]
        (tmp_path / "cpu.json").write_text(json.dumps(metric_alarm("cpu", "cpu", [], Threshold=60.0)))
        assert answer(wk_cli(wk, "alarms", "apply", str(tmp_path)))["Updated"] == ["cpu"]
        (tmp_path / "broken.json").write_text(json.dumps({"AlarmName": "broken", "EvaluationPeriods": 0}))
        refused = wk_cli(wk, "alarms", "apply", str(tmp_path))
        assert refused.exit_code == 2
        assert f"error: {tmp_path / 'broken.json'} (alarm broken): EvaluationPeriods" in refused.output


def test_silences_through_the_cli(engine: Engine) -> None:
    with running(engine) as wk:
        created = answer(wk_cli(wk, "alarms", "create-silence", "--matcher-type", "regex", "--matcher-value",
                                "db-[0-9]+", "--ends-at", str(BASE + 3600), "--comment", "upgrade",
                                "--created-by", "me"))
        [active] = answer(wk_cli(wk, "alarms", "list-silences", "--status", "active"))["Silences"]
        assert (active["SilenceId"], active["Matcher"], active["CreatedBy"]) == (
            created["SilenceId"], {"Type": "regex", "Value": "db-[0-9]+"}, "me")
        answer(wk_cli(wk, "alarms", "expire-silence", "--silence-id", created["SilenceId"]))
        [expired] = answer(wk_cli(wk, "alarms", "list-silences", "--status", "expired"))["Silences"]
        assert expired["SilenceId"] == created["SilenceId"]
        past = wk_cli(wk, "alarms", "create-silence", "--matcher-value", "x", "--ends-at", str(BASE),
                      "--comment", "c")
        assert past.exit_code == 2 and "EndsAt" in past.output
        bad_regex = wk_cli(wk, "alarms", "create-silence", "--matcher-type", "regex", "--matcher-value", "(",
                           "--ends-at", str(BASE + 3600), "--comment", "c")
        assert bad_regex.exit_code == 2 and "not a regular expression" in bad_regex.output
