"""Shared pieces of the alarm service tests: a fake clock, local receivers, a running API with the service."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from alarms.service import AlarmService
from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.cli.cmd_api import ApiServer
from watchkeeper.config.settings import AlarmsSettings, Settings
from watchkeeper.storage.engine import Engine

SECRET = "s3cret"
# A minute boundary five minutes ago: PutMetricData accepts it and periods are known.
BASE = (int(time.time()) // 60 - 5) * 60
# The newest complete period at the starting clock (BASE + 5 min + 5 s).
NEWEST_PERIOD = BASE + 240


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 recording every POST; `delay` makes chosen paths slow."""

    url: str
    requests: list[Received] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 60) -> list[Received]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: predicate(self.requests), timeout), self.requests
            return list(self.requests)


@contextmanager
def receiver(slow_paths: tuple[str, ...] = (), slow_s: float = 0.0) -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path in slow_paths:
                with state.arrived:
                    state.events.append(f"slow-start {self.path}")
                time.sleep(slow_s)
            with state.arrived:
                state.requests.append(Received(self.path, dict(self.headers), body))
                state.events.append(f"received {self.path}")
                state.arrived.notify_all()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def verify_signature(request: Received, secret: str = SECRET) -> bool:
    timestamp = request.headers["X-Watchkeeper-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + request.body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["X-Watchkeeper-Signature"])


def settings(**alarms: Any) -> Settings:
    defaults: dict[str, Any] = {"default_secret": SECRET, "lease_settle_s": 0.0, "backoff_initial_s": 0.05,
                                "attempt_timeout_s": 5.0}
    defaults.update(alarms)
    return Settings(alarms=AlarmsSettings(**defaults))


@dataclass
class Running:
    api: httpx.Client
    service: AlarmService
    clock: Clock
    services: dict[str, Any]  # the API context's services, where `up` plugs in the audit recorder

    def call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post(f"/v1/cloudwatch/{action}", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def put_values(self, metric: str, values: dict[int, float], host: str = "web-1") -> None:
        self.call("PutMetricData", {"Namespace": "App", "MetricData": [
            {"MetricName": metric, "Dimensions": [{"Name": "host", "Value": host}], "Timestamp": t, "Value": v}
            for t, v in values.items()]})

    def history(self, name: str, item_type: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"AlarmName": name, "ScanBy": "TimestampAscending"}
        if item_type:
            body["HistoryItemType"] = item_type
        items: list[dict[str, Any]] = self.call("DescribeAlarmHistory", body)["AlarmHistoryItems"]
        return items

    def wait_idle(self) -> None:
        deadline = time.monotonic() + 60
        while not self.service.dispatcher.idle():
            assert time.monotonic() < deadline, "notifications still pending"
            time.sleep(0.02)


@contextmanager
def running(engine: Engine, config: Settings | None = None, holder: str = "a",
            clock: Clock | None = None) -> Iterator[Running]:
    config = config or settings()
    clock = clock or Clock(BASE + 60 * 5 + 5)
    ctx = ApiContext(config, engine)
    service = AlarmService(config, engine, ctx.services, clock=clock, holder=holder)
    ctx.services["alarms"] = service
    service.start(evaluate=False)
    try:
        with ApiServer.running(create_app(ctx), "127.0.0.1:0") as server, \
                httpx.Client(base_url=server.url, timeout=60) as client:
            yield Running(client, service, clock, ctx.services)
    finally:
        service.stop()


def metric_alarm(name: str, metric: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "AlarmName": name, "Namespace": "App", "MetricName": metric,
        "Dimensions": [{"Name": "host", "Value": "web-1"}], "Statistic": "Average", "Period": 60,
        "EvaluationPeriods": 1, "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": actions, "OKActions": actions}
    body.update(extra)
    return body
