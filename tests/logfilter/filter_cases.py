"""The documentation's own example events and patterns, as one table.

Source: the AWS CloudWatch Logs user guide's source, github.com/awsdocs/amazon-cloudwatch-logs-user-guide,
doc_source/FilterAndPatternSyntax.md (its 2018-2021 versions and the 2022-03-25 rewrite, the last
before the repository was emptied), Counting404Responses.md, ExtractBytesExample.md and
CountOccurrencesExample.md. Cases marked "ours" pin down what the guide leaves open. Every case
lists the keys of the events it must match; every other event must not match.
"""

from __future__ import annotations

import json

EVENTS: dict[str, str] = {
    # FilterAndPatternSyntax.md (2022): "Using filter patterns to match terms in log events"
    "e400": "[ERROR 400] BAD REQUEST",
    "e401": "[ERROR 401] UNAUTHORIZED REQUEST",
    "e419": "[ERROR 419] MISSING ARGUMENTS",
    "e420": "[ERROR 420] INVALID ARGUMENTS",
    "e500": "[ERROR 500] INTERNAL SERVER ERROR",
    # FilterAndPatternSyntax.md (2018-2021): "Matching Terms in Log Events", examples 1-4
    "fatal": "[ERROR] A fatal exception has occurred",
    "exiting": "Exiting with ERRORCODE: -1",
    "caught": "[ERROR] Caught IllegalArgumentException",
    "unhandled": "[ERROR] Unhandled Exception",
    "warn_failed": "[WARN] Failed to process the request",
    "unable": "[ERROR] Unable to continue: Failed to process the request",
    # FilterAndPatternSyntax.md (2020-2021): "OR Pattern Matching", events 1-3; "WARNING" for the 2022 form
    "or1": "ERROR WARN message",
    "or2": "ERROR message",
    "or3": "WARN message",
    "or4": "WARNING message",
    # CountOccurrencesExample.md
    "count1": "This message contains an Error",
    "count2": "This message also contains an Error",
    # ours: regex and substring edges
    "s200": "[SUCCESS 200] AUTHORIZED REQUEST",
    "w100": "[WARNING 100] request took 1534 ms; Error count: 3, failed_jobs=0",
    "ip": "connection from 10.0.12.7 refused\nretrying",
    # FilterAndPatternSyntax.md: "JSON Metric Filter Examples" (2018-2021), and without SomeObject and
    # ThisFlag as in "Publishing dimensions with metrics from JSON log events" (2022)
    "cloudtrail": json.dumps({
        "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None, "ThisFlag": True,
    }),
    "cloudtrail_dims": json.dumps({
        "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    }),
    # FilterAndPatternSyntax.md: "JSON Compound Conditions"
    "compound": json.dumps({
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }),
    # FilterAndPatternSyntax.md (2020-2021): OR in JSON filters, events 1-2
    "foo_bar": '{"foo": "bar"}',
    "foo_baz": '{"foo": "baz"}',
    # FilterAndPatternSyntax.md: "JSON Special Considerations"
    "users_array": '{"users": [1, 2, 3]}',
    # FilterAndPatternSyntax.md: "Publishing Numerical Values Found in Log Entries"
    "latency50": '{"latency": 50, "requestType": "GET"}',
    # ours: the guide's numeric examples come without events; one event meets them all, one none
    "numbers": json.dumps({
        "bandwidth": 76, "latency": 1500, "refreshRate": 60, "responseTime": 5, "errorCode": 400,
        "number": [0.001], "numbers": [0.005], "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}],
    }),
    "numbers_low": json.dumps({
        "bandwidth": 75, "latency": 49.5, "refreshRate": 59, "responseTime": 5.5, "errorCode": 500,
        "number": [1000], "numbers": [10000], "processes": [{"averageRuntime": 1}],
    }),
    # ours: types, duplicate keys, a literal asterisk, not an object
    "typed": '{"eventType": "UpdateTrailLogging", "ThisFlag": false, "bandwidth": "76", '
             '"sourceIPAddress": "123.123.5.5", "code": 404, "code": 500, "name": "Ev*ent"}',
    "not_object": '["UpdateTrail", 1]',
    # FilterAndPatternSyntax.md (2018-2021): "Extract Values from Space-Delimited Log Events"; the
    # extraction example's event is written there with \" (shell quoting), read here as plain quotes
    "access404": '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    "apache1": '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    "apache2": '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    "apache3": '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
    # FilterAndPatternSyntax.md (2022): "Using metric filters to extract values from space-delimited log events"
    "prod404": '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    # Counting404Responses.md
    "frank404": '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326',
    "bob404": '127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326',
    "bob200": '127.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /apache_pb2.gif HTTP/1.0" 200 2326',
    # ExtractBytesExample.md (its six put-log-events lines, duplicates included)
    "bytes1": '127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287',
    "bytes2": '127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] "GET /index.html HTTP/1.1" 404 287',
    "bytes3": '127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /~test/ HTTP/1.1" 200 3',
    "bytes4": '127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /favicon.ico HTTP/1.1" 404 308',
    "bytes5": '127.0.0.1 - - [24/Sep/2013:11:50:51 -0700] "GET /favicon.ico HTTP/1.1" 404 308',
    "bytes6": '127.0.0.1 - - [24/Sep/2013:11:51:34 -0700] "GET /~test/index.html HTTP/1.1" 200 3',
    # ours
    "access500": '10.1.1.9 - - [10/Oct/2000:13:26:01 -0700] "POST /login HTTP/1.1" 500 -',
    "access410": '192.168.0.3 - alice [10/Oct/2000:13:27:44 -0700] "GET /old.html HTTP/1.1" 410 233',
}

ALL = set(EVENTS)
ERRORS = {"e400", "e401", "e419", "e420", "e500"}
# every event holding the text ERROR
ERROR_TEXT = ERRORS | {"fatal", "exiting", "caught", "unhandled", "unable", "or1", "or2"}
JSON_OBJECTS = {"cloudtrail", "cloudtrail_dims", "compound", "foo_bar", "foo_baz", "users_array", "latency50",
                "numbers", "numbers_low", "typed"}
TRAILS = {"cloudtrail", "cloudtrail_dims"}
# the seven-field access log lines, by status
ACCESS_4XX = {"access404", "prod404", "frank404", "bob404", "bytes1", "bytes2", "bytes4", "bytes5", "access410"}
ACCESS_404 = ACCESS_4XX - {"access410"}
ACCESS_200 = {"apache1", "apache3", "bob200", "bytes3", "bytes6"}
ACCESS_5XX = {"apache2", "access500"}
ACCESS = ACCESS_4XX | ACCESS_200 | ACCESS_5XX
HTML_4XX = {"access404", "prod404", "bytes1", "bytes2", "access410"}
LOCALHOST = ACCESS - {"access500", "access410"}

CASES: list[tuple[str, set[str]]] = [
    # ---- match everything: "" (2018-2021), " " (2022)
    ("", ALL),
    ('""', ALL),
    ('" "', ALL),
    # ---- terms (2022): case-sensitive, every term appears
    ("ERROR", ERROR_TEXT),
    ("ERROR ARGUMENTS", {"e419", "e420"}),
    ("?ERROR ?ARGUMENTS", ERROR_TEXT),
    ('"INTERNAL SERVER ERROR"', {"e500"}),
    ("ERROR -ARGUMENTS", ERROR_TEXT - {"e419", "e420"}),
    # ---- terms (2018-2021): a term is found inside a longer word: "ERROR" matches
    # "Exiting with ERRORCODE: -1", "ERROR Exception" matches "[ERROR] Caught IllegalArgumentException"
    ("ERROR -Exiting", ERROR_TEXT - {"exiting"}),
    ('"ERROR" -"Exiting"', ERROR_TEXT - {"exiting"}),
    ("ERROR Exception", {"caught", "unhandled"}),  # "fatal" has "exception": case-sensitive
    ("Failed to process the request", {"warn_failed", "unable"}),
    # ---- OR (2020-2021): ERROR matches 1 and 2, ?ERROR ?WARN 1-3, ERROR WARN 1, ERROR -WARN 2
    ("?ERROR ?WARN", ERROR_TEXT | {"or3", "or4", "warn_failed", "w100"}),
    ("ERROR WARN", {"or1"}),
    ("ERROR -WARN", ERROR_TEXT - {"or1"}),
    # ---- CountOccurrencesExample.md
    ("Error", {"count1", "count2", "w100"}),
    # ---- terms, ours
    ("ERRORCODE", {"exiting"}),
    ("RRORCOD", {"exiting"}),
    ("AUTHORIZED", {"e401", "s200"}),
    ("failed", {"w100"}),
    ("1534", {"w100", "access404", "prod404", "apache1"}),
    ('"ERROR 4"', {"e400", "e401", "e419", "e420"}),
    ('"[ERROR"', ERRORS | {"fatal", "caught", "unhandled", "unable"}),
    ('"10.0.12.7"', {"ip"}),
    ('"Error count: 3"', {"w100"}),
    ("?ARGUMENTS ?SERVER", {"e419", "e420", "e500"}),
    ("-ERROR", ALL - ERROR_TEXT),
    ("REQUEST ?BAD ?AUTHORIZED -SUCCESS", {"e400", "e401"}),
    # ---- regex (ours: the regex page came after this source)
    ("%AUTHORIZED%", {"e401", "s200"}),
    (r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", {"ip", "typed"} | TRAILS | ACCESS),
    ("%[Ee]rror|[Ff]ail%", {"w100", "count1", "count2", "warn_failed", "unable", "numbers", "numbers_low"}),
    ("%^\\[ERROR 4%", {"e400", "e401", "e419", "e420"}),
    ("%ERROR$%", {"e500"}),
    ("%refused.retrying%", {"ip"}),
    (r"%\s\d\d\d\]%", ERRORS | {"s200", "w100"}),
    # ---- JSON Metric Filter Examples
    ('{ $.eventType = "UpdateTrail" }', TRAILS),
    ("{ $.sourceIPAddress != 123.123.* }", TRAILS),
    ('{ $.arrayKey[0] = "value" }', TRAILS),
    ("{ $.objectList[1].id = 2 }", TRAILS),
    ("{ $.SomeObject IS NULL }", {"cloudtrail"}),
    ("{ $.SomeOtherObject NOT EXISTS }", JSON_OBJECTS),
    ("{ $.ThisFlag IS TRUE }", {"cloudtrail"}),
    ("{ $.ThisFlag IS FALSE }", {"typed"}),
    # 2022 dimensions example: a quoted "*" is a wildcard too
    ('{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }', TRAILS),
    # OR in JSON filters (2020-2021)
    ("{$.foo = bar}", {"foo_bar"}),
    ("{$.foo = baz }", {"foo_baz"}),
    ("{$.foo = bar || $.foo = baz }", {"foo_bar", "foo_baz"}),
    # JSON Compound Conditions: 1 and 3 match, 2 and 4 do not (2018-2021 spelling, then 2022's)
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', {"compound"}),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', set()),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
     {"compound"}),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
     set()),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" '
     '&& $.actions[2] = "nonmatch" }', {"compound"}),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") '
     '&& $.actions[2] = "nonmatch" }', set()),
    # JSON Special Considerations: a selector on an array matches neither = nor !=
    ("{$.users = 1}", set()),
    ("{$.users != 1}", set()),
    # Numeric Comparisons (2018-2021) and "metric filters that match numeric values" (2022)
    ("{ $.bandwidth > 75 }", {"numbers"}),
    ("{ $.latency < 50 }", {"numbers_low"}),
    ("{ $.refreshRate >= 60 }", {"numbers"}),
    ("{ $.responseTime <= 5 }", {"numbers"}),
    ("{ $.errorCode = 400}", {"numbers"}),
    ("{ $.errorCode != 500 }", {"numbers"}),
    ("{ $.number[0] = 1e-3 }", {"numbers"}),
    ("{ $.number[0] != 1e+3 }", {"numbers"}),
    ("{ $.latency >= 500 }", {"numbers"}),
    ("{ $.numbers[0] < 10e3 }", {"numbers"}),
    ("{ $.numbers[0] < 10e-3 }", {"numbers"}),
    ("{ $.processes[4].averageRuntime <= 55.5 }", {"numbers"}),
    ("{ $.latency > +1000 }", {"numbers"}),
    # "Publishing Numerical Values": { $.latency = * } matches "latency": 50
    ("{ $.latency = * }", {"latency50", "numbers", "numbers_low"}),
    # ---- JSON, ours
    ("{ $.eventType = UpdateTrail* }", TRAILS | {"typed"}),
    ('{ $.eventType = "*Logging" }', {"typed"}),
    ('{ $.eventType = "Update*Logging" }', set()),  # an inner * is literal ("Ev*ent" only matches Ev*ent)
    ("{ $.name = Ev*ent }", {"typed"}),
    ('{ $.name = "Ev*" }', {"typed"}),
    ('{ $.arrayKey[1] = "another value" }', TRAILS),
    ("{ $.eventType = %Trail$% }", TRAILS),
    ("{ $.eventType != %Trail$% }", {"typed"}),
    ("{ $.bandwidth = 76 }", {"numbers"}),
    ('{ $.bandwidth = "76" }', {"typed"}),
    ("{ $.bandwidth != 76 }", {"typed", "numbers_low"}),
    ("{ $.code = 404 }", {"typed"}),  # ClickHouse keeps the first of duplicate keys; so do we
    ("{ $.code = 4* }", {"typed"}),  # a wildcard matches an integer's digits
    ("{ $.latency = 49* }", set()),  # ... but not a fraction's
    ("{ $.SomeObject != 1 }", set()),  # null is not a value node
    ("{ $.ThisFlag = * }", set()),  # nor is a boolean
    ("{ $.objectList[5] NOT EXISTS && $.objectList[0].name = a }", TRAILS),
    ("{ $.coordinates[1][1] = 5 }", {"compound"}),
    ("{ $.user[0] NOT EXISTS && $.user.id = 1 }", {"compound"}),
    # ---- space-delimited (2022)
    ("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", HTML_4XX),
    ("[..., request =*.html*, status_code = 4*, bytes]", HTML_4XX),
    ("[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]", HTML_4XX),
    ("[ip, server, username, timestamp, request, status_code, bytes > 1000]",
     {"access404", "prod404", "apache1", "apache2", "apache3", "frank404", "bob404", "bob200"}),
    ("[w1=ERROR, w2]", {"or2"}),
    ("[w1=ERROR || W1=WARNING, w2]", {"or2", "or4"}),
    ("[w1!=ERROR && w1!=WARNING, w2]", {"or3", "foo_bar", "foo_baz"}),
    # ---- space-delimited (2020-2021): [w1=ERROR, w2] matches 2, [w1=ERROR || w1=WARN, w2] 2 and 3.
    # The guide also says [w1!=ERROR&&w1!=WARN, w2] "matches ... pattern 1" (ERROR WARN message), which
    # its own definitions rule out (w1 is ERROR there, and it has three fields); we follow the definitions.
    ("[w1=ERROR || w1=WARN, w2]", {"or2", "or3"}),
    ("[w1!=ERROR&&w1!=WARN, w2]", {"or4", "foo_bar", "foo_baz"}),
    # ---- space-delimited (2018-2021)
    ("[ip, user, username, timestamp, request, status_code, bytes]", ACCESS),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]",
     {"access404", "prod404", "apache1", "apache2", "apache3", "frank404", "bob404", "bob200"}),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", ACCESS_200),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", ACCESS_4XX),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", HTML_4XX),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", ACCESS_4XX),
    ("[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]", ACCESS_404),
    # the extraction example: a trailing empty slot is an unnamed seventh field
    ("[..., request=*.html*, status_code=4*,]", HTML_4XX),
    # ---- Counting404Responses.md, ExtractBytesExample.md
    ("[IP, UserInfo, User, Timestamp, RequestInfo, StatusCode=404, Bytes]", ACCESS_404),
    ("[ip, id, user, timestamp, request, status_code=404, size]", ACCESS_404),
    ("[ip, id, user, timestamp, request, status_code, size]", ACCESS),
    # ---- space-delimited, ours
    ("[ip, user, username, timestamp, request, status_code != 404 && status_code != 410, bytes]",
     ACCESS_200 | ACCESS_5XX),
    ('[ip, user, username, timestamp, request = "GET /index.html HTTP/1.0", ...]', {"access404", "prod404"}),
    ("[ip = 127.0.0.1, ...]", LOCALHOST),
    ("[..., status_code = 5*, bytes]", ACCESS_5XX),
    ("[..., bytes = -]", {"access500"}),
    ("[ip, user = -, username = -, ...]", {"access500", "bytes1", "bytes2", "bytes3", "bytes4", "bytes5", "bytes6"}),
    ("[..., timestamp = *13:27*, ...]", {"access410"}),
    ("[..., request = %^POST%, status_code, bytes]", {"access500"}),
    ("[..., request = *apache_pb*.gif, ...]", set()),  # an inner * is literal here too
    # "[...]" and "..." group a field: "[ERROR 400]" is one field, its brackets removed
    ('[w1 = "ERROR 4*", ...]', {"e400", "e401", "e419", "e420"}),
    ("[w1, w2, w3 = ARGUMENTS]", {"e419", "e420"}),
    ("[a, b, c]", {"e400", "e401", "e419", "e420", "s200", "or1", "caught", "unhandled"}),
    ("[a, , c, d]", {"e500", "ip", "exiting", "users_array", "latency50"}),
    ("[whole]", {"not_object"}),
]
