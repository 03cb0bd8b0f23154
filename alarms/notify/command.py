"""exec: actions: run a command (argv split like a shell would, but no shell) with the alarm in WK_ALARM_*
environment variables and the JSON notification on stdin; a non-zero exit or the timeout is a failure."""

from __future__ import annotations

import os
import shlex
import subprocess

from alarms.notify.message import AlarmMessage
from watchkeeper.errors import DeliveryError

PREFIX = "exec:"


def argv_of(uri: str) -> list[str]:
    return shlex.split(uri[len(PREFIX):])


def alarm_environment(message: AlarmMessage) -> dict[str, str]:
    body = message.body
    return {
        "WK_ALARM_NAME": message.alarm_name,
        "WK_ALARM_DESCRIPTION": str(body.get("AlarmDescription") or ""),
        "WK_ALARM_ARN": str(body["AlarmArn"]),
        "WK_ALARM_REGION": str(body["Region"]),
        "WK_ALARM_ACCOUNT_ID": str(body["AWSAccountId"]),
        "WK_ALARM_OLD_STATE": message.old_state,
        "WK_ALARM_NEW_STATE": message.new_state,
        "WK_ALARM_REASON": message.reason,
        "WK_ALARM_STATE_CHANGE_TIME": str(body["StateChangeTime"]),
    }


def run_command(uri: str, message: AlarmMessage, timeout: float) -> str:
    argv = argv_of(uri)
    try:
        done = subprocess.run(argv, input=message.json_bytes(), env={**os.environ, **alarm_environment(message)},
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DeliveryError(f"{argv[0]} did not finish within {timeout} s") from None
    except OSError as error:
        raise DeliveryError(f"cannot run {argv[0]}: {error.strerror}") from None
    if done.returncode != 0:
        raise DeliveryError(f"{argv[0]} exited with {done.returncode}: {done.stderr.decode(errors='replace')[:200]!r}")
    return f"{argv[0]} exited with 0"
