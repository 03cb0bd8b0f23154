"""Pushdown to both ClickHouse engines gives exactly the in-process result.

The documented examples, then random events from a small alphabet against random
patterns of every form: SQL condition (plus the in-process post-filter when the
condition is only a prefilter) must select the same events as the matcher alone.
"""

from __future__ import annotations

import json
import random

from filter_cases import CASES, EVENTS

from watchkeeper.logfilter import compile_pattern, to_sql
from watchkeeper.logfilter.syntax import DelimitedPattern, JsonPattern
from watchkeeper.storage.engine import Engine

TABLE = "filter_events"


def load(engine: Engine, events: dict[str, str]) -> None:
    engine.command(f"CREATE TABLE {TABLE} (key String, message String) ENGINE = MergeTree ORDER BY key")
    engine.insert(TABLE, {"key": list(events), "message": list(events.values())})


def pushed_down(engine: Engine, pattern: str) -> set[str]:
    compiled = compile_pattern(pattern)
    pushdown = to_sql(compiled.tree, engine.capabilities)
    rows = engine.query(f"SELECT key, message FROM {TABLE} WHERE {pushdown.condition}")
    return {key for key, message in rows if pushdown.exact or compiled.matches(message)}


def test_documented_examples_match_the_same_on_the_engine(engine: Engine) -> None:
    load(engine, EVENTS)
    wrong = {pattern: (pushed_down(engine, pattern), expected) for pattern, expected in CASES
             if pushed_down(engine, pattern) != expected}
    assert wrong == {}


def test_pushdown_is_exact_where_the_engine_can_say_everything(engine: Engine) -> None:
    for pattern, _ in CASES:
        tree = compile_pattern(pattern).tree
        exact = to_sql(tree, engine.capabilities).exact
        if isinstance(tree, DelimitedPattern):
            assert not exact, pattern
        elif isinstance(tree, JsonPattern):
            assert exact == engine.capabilities.json_extract, pattern
        else:
            assert exact, pattern


# ---- random events and patterns ------------------------------------------------------------

WORDS = ["ERROR", "err", "a_b", "x1", "42", "4.5", "-7", "GET", "é"]
GLUE = [" ", " ", "  ", "-", ":", "[", "]", '"', "\n", "_", ".", "\t", "=", "/"]
KEYS = ["a", "b", "c d", "é"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(GLUE) for _ in range(rng.randint(1, 6))).strip(" ")


def random_json_value(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randint(0, 7 if depth < 2 else 5)
    if choice == 6:
        return [random_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if choice == 7:
        return {rng.choice(KEYS): random_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return [rng.choice(WORDS), rng.randint(-5, 50), rng.choice([4.5, 42.0, -7.0, 1e-3]), True, False,
            None][choice]


def random_event(rng: random.Random) -> str:
    kind = rng.randint(0, 3)
    if kind == 0:
        document = {rng.choice(KEYS): random_json_value(rng) for _ in range(rng.randint(1, 4))}
        text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
        return text.replace('"a": ', '"a": 1, "a": ', 1) if rng.random() < 0.2 else text
    if kind == 1:
        return " ".join(rng.choice(['"GET /x y"', "[10/Oct 1]", "-", "42", "ERROR", "4.5", "x1"])
                        for _ in range(rng.randint(1, 5)))
    return random_text(rng)


def random_value(rng: random.Random) -> str:
    return rng.choice(["42", "4.5", "-7", "+42", "1e-3", "ERROR", "E*", "*1", "4*", "-*", "E*R", '"*R*"', '"a_b"',
                       '"GET /x y"', "*", '"*"', "%^E%", "%\\d$%", '""'])


def random_selector(rng: random.Random) -> str:
    return "$" + "".join(rng.choice([".a", ".b", ".c", "[0]", "[1]"]) for _ in range(rng.randint(1, 2)))


def random_json_condition(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 2 and roll < 0.3:
        joiner = rng.choice([" && ", " || "])
        return "(" + joiner.join(random_json_condition(rng, depth + 1) for _ in range(2)) + ")"
    selector = random_selector(rng)
    if roll < 0.45:
        return f"{selector} {rng.choice(['IS NULL', 'IS TRUE', 'IS FALSE', 'NOT EXISTS'])}"
    if roll < 0.65:
        return f"{selector} {rng.choice(['<', '<=', '>', '>='])} {rng.choice(['42', '4.5', '-7', '0'])}"
    return f"{selector} {rng.choice(['=', '!='])} {random_value(rng)}"


def random_pattern(rng: random.Random) -> str:
    kind = rng.randint(0, 3)
    if kind == 0:
        terms = [rng.choice(["", "", "?", "-"]) + rng.choice(
            ["ERROR", "err", "a_b", "x1", "42", "GET", '"4.5"', '"-7"', '"[ERROR"', '"a_b:"', '"é"', '"x1 ERROR"'])
            for _ in range(rng.randint(1, 3))]
        return " ".join(terms)
    if kind == 1:
        return "%" + rng.choice(["ERROR", "^ERROR", "err$", "\\d\\.\\d", "a_b|x1", "[^a-z ]r", "G.T", "\\s\\S",
                                 "E{1}R+", "x1 ERROR"]) + "%"
    if kind == 2:
        return "{ " + random_json_condition(rng) + " }"
    fields = [rng.choice(["...", "f", "f = " + random_value(rng).replace('""', "-"),
                          "f > 4", "f = 42 || f = ERROR", "f != 42 && f != -"]) for _ in range(rng.randint(1, 4))]
    return "[" + ", ".join(field.replace("f", f"f{index}", 2) for index, field in enumerate(fields)) + "]"


def test_random_patterns_agree_between_sql_and_in_process(engine: Engine) -> None:
    rng = random.Random(20240611)
    events = {f"r{index:04d}": random_event(rng) for index in range(400)}
    load(engine, events)
    disagreements: dict[str, tuple[set[str], set[str]]] = {}
    for _ in range(250):
        pattern = random_pattern(rng)
        compiled = compile_pattern(pattern)
        expected = {key for key, message in events.items() if compiled.matches(message)}
        found = pushed_down(engine, pattern)
        if found != expected:
            disagreements[pattern] = (found - expected, expected - found)
    assert disagreements == {}
