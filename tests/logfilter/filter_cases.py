"""The documentation's own example events and patterns, as one table.

Events come from the AWS CloudWatch Logs user guide pages on filter pattern syntax
(unstructured terms, regex, JSON and space-delimited examples), plus a few added to pin
down what the guide leaves implicit (token boundaries, type rules). Every case lists
the keys of the events it must match; all other events must not match.
"""

from __future__ import annotations

import json

EVENTS: dict[str, str] = {
    # Unstructured (guide: "Using filter patterns to match terms in unstructured log events")
    "e400": "[ERROR 400] BAD REQUEST",
    "e401": "[ERROR 401] UNAUTHORIZED REQUEST",
    "e419": "[ERROR 419] MISSING ARGUMENTS",
    "e420": "[ERROR 420] INVALID ARGUMENTS",
    "e500": "[ERROR 500] INTERNAL SERVER ERROR",
    "s200": "[SUCCESS 200] AUTHORIZED REQUEST",
    "w100": "[WARNING 100] request took 1534 ms; Error count: 3, failed_jobs=0",
    "ip": "connection from 10.0.12.7 refused\nretrying",
    # JSON (guide: "Using filter patterns to match terms in JSON log events")
    "cloudtrail": json.dumps({
        "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None, "ThisFlag": True, "bandwidth": 76, "latency": 49.5,
    }),
    "compound": json.dumps({
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1], [2, 3], [4, 5]],
    }),
    "typed": '{"eventType": "UpdateTrailLogging", "ThisFlag": false, "bandwidth": "76", '
             '"sourceIPAddress": "123.123.5.5", "code": 404, "code": 500}',
    "not_object": '["UpdateTrail", 1]',
    # Space-delimited (guide: "Using filter patterns to match terms in space-delimited log events")
    "access404": '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    "access500": '10.1.1.9 - - [10/Oct/2000:13:26:01 -0700] "POST /login HTTP/1.1" 500 -',
    "access410": '192.168.0.3 - alice [10/Oct/2000:13:27:44 -0700] "GET /old.html HTTP/1.1" 410 233',
}

UNSTRUCTURED = {"e400", "e401", "e419", "e420", "e500", "s200", "w100", "ip"}
ERRORS = {"e400", "e401", "e419", "e420", "e500"}
JSON_EVENTS = {"cloudtrail", "compound", "typed", "not_object"}
ACCESS = {"access404", "access500", "access410"}

CASES: list[tuple[str, set[str]]] = [
    # the empty pattern
    ("", set(EVENTS)),
    ('""', set(EVENTS)),
    # terms: case-sensitive, whole tokens, ANDed
    ("ERROR", ERRORS),
    ("Error", {"w100"}),
    ("ERROR ARGUMENTS", {"e419", "e420"}),
    ("AUTHORIZED", {"s200"}),
    ("REQUEST", {"e400", "e401", "s200"}),
    ("failed_jobs", {"w100"}),
    ("failed", set()),
    ("1534", {"w100", "access404"}),
    ("frank", {"access404"}),
    # quoted phrases
    ('"INTERNAL SERVER ERROR"', {"e500"}),
    ('"ERROR 4"', set()),
    ('"[ERROR"', ERRORS),
    ('"10.0.12.7"', {"ip"}),
    ('"Error count: 3"', {"w100"}),
    # ? OR, - exclusion
    ("?ARGUMENTS ?SERVER", {"e419", "e420", "e500"}),
    ("ERROR -ARGUMENTS", {"e400", "e401", "e500"}),
    ("-ERROR", set(EVENTS) - ERRORS),
    ("REQUEST ?BAD ?AUTHORIZED -SUCCESS", {"e400"}),
    # regex
    ("%AUTHORIZED%", {"e401", "s200"}),
    (r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%",
     {"ip", "cloudtrail", "typed", "access404", "access500", "access410"}),
    ("%[Ee]rror|[Ff]ail%", {"w100"}),  # ERROR is upper case: neither alternative matches it
    ("%^\\[ERROR 4%", {"e400", "e401", "e419", "e420"}),
    ("%ERROR$%", {"e500"}),
    ("%refused.retrying%", {"ip"}),
    (r"%\s\d\d\d\]%", ERRORS | {"s200", "w100"}),
    # JSON: strings, wildcards, !=
    ('{ $.eventType = "UpdateTrail" }', {"cloudtrail"}),
    ("{ $.eventType = UpdateTrail* }", {"cloudtrail", "typed"}),
    ('{ $.eventType = "*Logging" }', {"typed"}),
    ("{ $.sourceIPAddress != 123.123.* }", {"cloudtrail"}),
    ('{ $.arrayKey[0] = "value" }', {"cloudtrail"}),
    ('{ $.arrayKey[1] = "another value" }', {"cloudtrail"}),
    ("{ $.objectList[1].id = 2 }", {"cloudtrail"}),
    ("{ $.eventType = %Trail$% }", {"cloudtrail"}),
    ("{ $.eventType != %Trail$% }", {"typed"}),
    # JSON: numbers (a number compares with numbers only)
    ("{ $.bandwidth > 75 }", {"cloudtrail"}),
    ("{ $.latency < 50 }", {"cloudtrail"}),
    ("{ $.latency >= 49.5 && $.latency <= 49.5 }", {"cloudtrail"}),
    ("{ $.bandwidth = 76 }", {"cloudtrail"}),
    ('{ $.bandwidth = "76" }', {"typed"}),
    ("{ $.bandwidth != 76 }", {"typed"}),
    ("{ $.code = 404 }", {"typed"}),  # ClickHouse keeps the first of duplicate keys; so do we
    # JSON: IS NULL / TRUE / FALSE, NOT EXISTS
    ("{ $.SomeObject IS NULL }", {"cloudtrail"}),
    ("{ $.ThisFlag IS TRUE }", {"cloudtrail"}),
    ("{ $.ThisFlag IS FALSE }", {"typed"}),
    ("{ $.SomeOtherObject NOT EXISTS }", {"cloudtrail", "compound", "typed"}),
    ("{ $.objectList[5] NOT EXISTS && $.objectList[0].name = a }", {"cloudtrail"}),
    # JSON: && || and parentheses (the guide's compound examples)
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', {"compound"}),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', set()),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" '
     '&& $.actions[2] = "nonmatch" }', {"compound"}),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") '
     '&& $.actions[2] = "nonmatch" }', set()),
    ("{ $.coordinates[2][1] = 5 }", {"compound"}),
    ("{ $.user[0] NOT EXISTS && $.user.id = 1 }", {"compound"}),
    # space-delimited
    ("[ip, user, username, timestamp, request = *.html*, status_code = 4*, bytes]", {"access404", "access410"}),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", {"access404"}),
    ("[ip, user, username, timestamp, request, status_code = 404 || status_code = 410, bytes]",
     {"access404", "access410"}),
    ("[ip, user, username, timestamp, request, status_code != 404 && status_code != 410, bytes]",
     {"access500"}),
    ('[ip, user, username, timestamp, request = "GET /index.html HTTP/1.0", ...]', {"access404"}),
    ("[ip = 127.0.0.1, ...]", {"access404"}),
    ("[..., status_code = 5*, bytes]", {"access500"}),
    ("[..., bytes = -]", {"access500"}),
    ("[ip, user = -, username = -, ...]", {"access500"}),
    ("[..., timestamp = *13:27*, ...]", {"access410"}),
    ("[..., request = %^POST%, status_code, bytes]", {"access500"}),
    # "[...]" and "..." group a field: "[ERROR 400]" is one field, its brackets removed
    ('[w1 = "ERROR 4*", ...]', {"e400", "e401", "e419", "e420"}),
    ("[w1, w2, w3 = ARGUMENTS]", {"e419", "e420"}),
    ("[a, b, c]", {"e400", "e401", "e419", "e420", "s200"}),
    ("[a, b, c, d]", {"e500", "ip"}),
    ("[whole]", {"not_object"}),
]
