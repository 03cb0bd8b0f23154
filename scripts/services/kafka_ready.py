#!/usr/bin/env python3
"""Wait until a Kafka broker really serves clients, not just until its port opens.

scripts/services.sh runs this after launching a broker. A KRaft broker opens its
listener before its metadata is caught up, so "port open" is not enough: we ask
for the topic list and validate a topic creation against the controller (which
creates nothing). If kafka-python is not importable, we fall back to the broker's
own "Kafka Server started" log line plus an open port.

Exit codes: 0 ready, 1 timed out, 2 the broker process died.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time


def process_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (pid 1 here may not reap)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return False
    # Field 3 is the state; the command name in field 2 may contain spaces.
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def port_open(host: str, port: int) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def admin_check(bootstrap: str) -> bool:
    """One round of list topics + validate-only create; True when both answer."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    client = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="watchkeeper-services-ready",
        request_timeout_ms=5000,
    )
    try:
        client.list_topics()
        client.create_topics(
            [NewTopic("__watchkeeper_ready_probe", 1, 1)],
            validate_only=True,
        )
        return True
    finally:
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--log", required=True, help="broker server.log")
    parser.add_argument("--timeout", type=float, default=90.0)
    args = parser.parse_args()

    host, _, port_s = args.bootstrap.rpartition(":")
    port = int(port_s)
    logging.basicConfig(level=logging.CRITICAL)  # kafka-python is noisy while retrying
    try:
        import kafka  # noqa: F401

        have_client = True
    except ImportError:
        have_client = False
        print("kafka_ready: kafka-python not importable; using the log line", file=sys.stderr)

    deadline = time.monotonic() + args.timeout
    last_error = ""
    while time.monotonic() < deadline:
        if not process_alive(args.pid):
            print(f"kafka_ready: broker process {args.pid} exited", file=sys.stderr)
            return 2
        if port_open(host, port):
            if have_client:
                try:
                    if admin_check(args.bootstrap):
                        return 0
                except Exception as exc:  # any client error means "not yet"
                    last_error = f"{type(exc).__name__}: {exc}"
            else:
                try:
                    with open(args.log, encoding="utf-8", errors="replace") as f:
                        if "Kafka Server started" in f.read():
                            return 0
                except OSError:
                    pass
        time.sleep(0.5)
    print(f"kafka_ready: timed out after {args.timeout}s; last error: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
