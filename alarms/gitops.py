"""GitOps: a directory of *.json files, each a PutMetricAlarm or PutCompositeAlarm body (composite when it
has AlarmRule). Every file is validated before anything is applied, and every problem of every file is
reported at once, naming the file, the alarm and the field. Applying is idempotent: an alarm whose
definition is unchanged leaves no ConfigurationUpdate (AlarmService.apply).
"""

from __future__ import annotations

import json
from pathlib import Path

from alarms.service import AlarmModel, load_definition
from watchkeeper.errors import ConfigError, Problem


def load_directory(directory: Path) -> list[AlarmModel]:
    if not directory.is_dir():
        raise ConfigError([Problem(str(directory), "", "not a directory; allowed a directory of *.json alarm files")])
    problems: list[Problem] = []
    alarms: list[AlarmModel] = []
    defined_in: dict[str, Path] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            problems.append(Problem(str(path), "", f"cannot be read: {error.strerror}"))
            continue
        except json.JSONDecodeError as error:
            problems.append(Problem(str(path), "", f"not valid JSON: {error}"))
            continue
        try:
            alarm = load_definition(data, str(path))
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if alarm.AlarmName in defined_in:
            problems.append(Problem(f"{path} (alarm {alarm.AlarmName})", "AlarmName",
                                    f"found {alarm.AlarmName!r} again; already defined in {defined_in[alarm.AlarmName]}"))
            continue
        defined_in[alarm.AlarmName] = path
        alarms.append(alarm)
    if problems:
        raise ConfigError(problems)
    return alarms
