"""Composite alarms: the AlarmRule language, its evaluation, cycle detection, and actions suppression.

Grammar (keywords in capitals, as AWS writes them):

    rule    := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | atom
    atom    := "TRUE" | "FALSE" | "(" rule ")" | STATE "(" name ")"
    STATE   := "ALARM" | "OK" | "INSUFFICIENT_DATA"
    name    := "quoted \\"name\\"" | unquoted text up to ")" | an alarm ARN (either form)

Everything here is pure: the caller supplies the children's states and the clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from alarms.evaluate import AlarmState, Evaluation
from alarms.model import PutCompositeAlarm, StateValue, load_composite_alarm
from alarms.reason import iso_time
from watchkeeper.errors import ConfigError, Problem

MAX_CHILDREN = 100
STATE_FUNCTIONS: tuple[StateValue, ...] = ("ALARM", "OK", "INSUFFICIENT_DATA")
ARN_MARKER = ":alarm:"


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


@dataclass(frozen=True, slots=True)
class Ref:
    """STATE(name): true while the named alarm is in that state."""

    state: StateValue
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node = Const | Ref | Not | And | Or


@dataclass(frozen=True, slots=True)
class ChildState:
    """What the rule reads of a child alarm: its state, since when, and its ARN."""

    value: StateValue
    timestamp: float
    arn: str


def alarm_name_of(reference: str) -> str:
    """An alarm name from a name or an ARN (arn:aws:cloudwatch:region:account:alarm:NAME)."""
    if reference.startswith("arn:") and ARN_MARKER in reference:
        return reference.split(ARN_MARKER, 1)[1]
    return reference


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.pos = 0
        self.source = source

    def fail(self, expected: str, at: int | None = None) -> ConfigError:
        where = self.pos if at is None else at
        found = repr(self.text[where:where + 20]) if where < len(self.text) else "end of rule"
        return ConfigError([Problem(self.source, "AlarmRule", f"column {where + 1}: found {found}; expected {expected}")])

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def word(self) -> str:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        return self.text[start:self.pos]

    def peek_word(self) -> str:
        saved = self.pos
        found = self.word()
        self.pos = saved
        return found

    def expect(self, char: str) -> None:
        self.skip_space()
        if not self.text.startswith(char, self.pos):
            raise self.fail(repr(char))
        self.pos += 1

    def parse(self) -> Node:
        node = self.parse_or()
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("AND, OR or the end of the rule")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek_word() == "OR":
            self.word()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.peek_word() == "AND":
            self.word()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Node:
        if self.peek_word() == "NOT":
            self.word()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        self.skip_space()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            node = self.parse_or()
            self.expect(")")
            return node
        start = self.pos
        keyword = self.word()
        if keyword in ("TRUE", "FALSE"):
            return Const(keyword == "TRUE")
        if keyword in STATE_FUNCTIONS:
            self.expect("(")
            name = self.parse_name()
            self.expect(")")
            return Ref(keyword, alarm_name_of(name))
        raise self.fail("ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '('", start)

    def parse_name(self) -> str:
        self.skip_space()
        start = self.pos
        if self.text.startswith('"', self.pos):
            return self.parse_quoted()
        end = self.text.find(")", self.pos)
        if end < 0:
            raise self.fail("an alarm name followed by ')'")
        name = self.text[self.pos:end].strip()
        if not name or "(" in name or '"' in name:
            raise self.fail("an alarm name (quote it if it holds parentheses or quotes)", start)
        self.pos = start + len(self.text[start:end].rstrip())
        return name

    def parse_quoted(self) -> str:
        out = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
            elif char == '"':
                self.pos += 1
                if not out:
                    raise self.fail("a non-empty alarm name", self.pos - 2)
                return "".join(out)
            else:
                out.append(char)
                self.pos += 1
        raise self.fail('a closing \'"\'')


def parse_rule(text: str, source: str = "AlarmRule") -> Node:
    """Parse an AlarmRule; ConfigError points at the column of the first problem."""
    node = _Parser(text, source).parse()
    children = referenced(node)
    if len(children) > MAX_CHILDREN:
        raise ConfigError([Problem(source, "AlarmRule",
                                   f"found {len(children)} alarms; allowed at most {MAX_CHILDREN}")])
    return node


def load_composite(data: object, source: str) -> tuple[PutCompositeAlarm, Node]:
    """Validate a PutCompositeAlarm request and parse its rule; errors name the alarm."""
    alarm = load_composite_alarm(data, source)
    rule = parse_rule(alarm.AlarmRule, f"{source} (alarm {alarm.AlarmName})")
    if alarm.AlarmName in referenced(rule):
        raise ConfigError([Problem(f"{source} (alarm {alarm.AlarmName})", "AlarmRule",
                                   "found the alarm itself; a composite alarm may not refer to itself")])
    return alarm, rule


def referenced(node: Node) -> set[str]:
    """Every alarm name the rule reads."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Not):
        return referenced(node.operand)
    if isinstance(node, And | Or):
        return set().union(*(referenced(o) for o in node.operands))
    return set()


def holds(node: Node, states: Mapping[str, ChildState]) -> bool:
    """The rule's truth; a child with no known state counts as INSUFFICIENT_DATA."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Ref):
        child = states.get(node.name)
        return (child.value if child else "INSUFFICIENT_DATA") == node.state
    if isinstance(node, Not):
        return not holds(node.operand, states)
    if isinstance(node, And):
        return all(holds(o, states) for o in node.operands)
    return any(holds(o, states) for o in node.operands)


def _true_refs(node: Node, states: Mapping[str, ChildState]) -> list[str]:
    """Children whose STATE(name) term currently holds (outside NOT): why the rule is true."""
    if isinstance(node, Ref):
        return [node.name] if holds(node, states) else []
    if isinstance(node, And | Or):
        return [name for o in node.operands for name in _true_refs(o, states)]
    return []


def evaluate_composite(rule_text: str, rule: Node, states: Mapping[str, ChildState], current: AlarmState,
                       now: float) -> Evaluation:
    """ALARM while the rule holds, OK otherwise; StateReasonData lists the triggering children."""
    unknown = sorted(name for name in referenced(rule) if name not in states)
    if unknown:
        text = f"Composite alarm rule refers to alarms that do not exist: {', '.join(unknown)}."
        return Evaluation.stated("INSUFFICIENT_DATA", current.value != "INSUFFICIENT_DATA", text, None)
    result: StateValue = "ALARM" if holds(rule, states) else "OK"
    triggering = list(dict.fromkeys(_true_refs(rule, states))) if result == "ALARM" else []
    parts = [f"{states[name].arn} transitioned to {states[name].value} at {iso_time(states[name].timestamp)}"
             for name in triggering]
    text = f"{'; '.join(parts)}." if parts else f"Rule {rule_text} evaluated to {result == 'ALARM'}."
    data = {"triggeringAlarms": [{"arn": states[name].arn,
                                  "state": {"value": states[name].value,
                                            "timestamp": iso_time(states[name].timestamp)}}
                                 for name in triggering]}
    return Evaluation.stated(result, result != current.value, text, json.dumps(data, separators=(",", ":")))


def find_cycle(rules: Mapping[str, Node]) -> list[str] | None:
    """A cycle among composite alarms (a -> b -> a) as the list of names, or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in visiting:
            return visiting[visiting.index(name):] + [name]
        if name in done or name not in rules:
            return None
        visiting.append(name)
        for child in sorted(referenced(rules[name])):
            cycle = visit(child)
            if cycle:
                return cycle
        visiting.pop()
        done.add(name)
        return None

    for name in sorted(rules):
        cycle = visit(name)
        if cycle:
            return cycle
    return None


def check_no_cycle(rules: Mapping[str, Node], source: str) -> None:
    cycle = find_cycle(rules)
    if cycle:
        raise ConfigError([Problem(f"{source} (alarm {cycle[0]})", "AlarmRule",
                                   f"found a cycle {' -> '.join(cycle)}; composite alarms may not refer back to "
                                   "themselves")])


SuppressedBy = Literal["Alarm", "WaitPeriod", "ExtensionPeriod"]


@dataclass(frozen=True, slots=True)
class SuppressorView:
    """The suppressor alarm as the composite sees it: its state, and when it last left ALARM."""

    value: StateValue
    left_alarm_at: float | None = None


def actions_suppressed_by(suppressor: SuppressorView, composite_alarm_since: float, wait_period: int,
                          extension_period: int, now: float) -> SuppressedBy | None:
    """Whether a composite in ALARM since composite_alarm_since has its actions held, and why.

    Alarm: the suppressor is in ALARM. ExtensionPeriod: it left ALARM less than
    extension_period seconds ago. WaitPeriod: the composite went to ALARM less than
    wait_period seconds ago, so the suppressor still has time to reach ALARM.
    """
    if suppressor.value == "ALARM":
        return "Alarm"
    if suppressor.left_alarm_at is not None and now < suppressor.left_alarm_at + extension_period:
        return "ExtensionPeriod"
    if now < composite_alarm_since + wait_period:
        return "WaitPeriod"
    return None


Release = Literal["wait", "send", "suppress"]


@dataclass(frozen=True, slots=True)
class PendingDecision:
    """What to do now with a composite's ALARM actions deferred by ActionsSuppressorWaitPeriod, and why."""

    release: Release
    why: str


def release_deferred(suppressor_name: str, suppressor: SuppressorView, alarm_since: float, wait_period: int,
                     still_in_that_alarm: bool, now: float) -> PendingDecision:
    """The ActionsSuppressorWaitPeriod rule for actions deferred when the composite went to ALARM at
    alarm_since while the suppressor was not in ALARM.

    The suppressor reaching ALARM within the wait suppresses them (decided as soon as it is seen: it is
    in ALARM, or left ALARM after alarm_since); a composite that left that ALARM state before the wait
    ended has them suppressed too (its ALARM is over); otherwise they are sent once the wait has ended.
    """
    if suppressor.value == "ALARM" or (suppressor.left_alarm_at is not None
                                       and suppressor.left_alarm_at >= alarm_since):
        return PendingDecision("suppress", f"ActionsSuppressor {suppressor_name} (entered ALARM within "
                                           f"ActionsSuppressorWaitPeriod {wait_period} s)")
    if not still_in_that_alarm:
        return PendingDecision("suppress", f"the alarm left ALARM within ActionsSuppressorWaitPeriod "
                                           f"{wait_period} s")
    if now < alarm_since + wait_period:
        return PendingDecision("wait", f"ActionsSuppressor {suppressor_name} (WaitPeriod)")
    return PendingDecision("send", f"ActionsSuppressor {suppressor_name} did not enter ALARM within "
                                   f"ActionsSuppressorWaitPeriod {wait_period} s")
