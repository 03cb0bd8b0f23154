"""`watchkeeper audit ...`: LookupEvents, put-event, validate-logs, list-public-keys, query; like `aws cloudtrail`."""

from __future__ import annotations

from typing import Any

import click

from watchkeeper.cli._client import client_from
from watchkeeper.cli._output import echo_answer
from watchkeeper.cli._times import TimeParam
from watchkeeper.cli._args import json_file, pairs

SERVICE = "cloudtrail"


@click.group("audit")
def command() -> None:
    """The audit trail: who changed what, when, on which server."""


@command.command("lookup-events")
@click.option("--lookup-attributes", "attributes", default=None,
              help="AttributeKey=ResourceName,AttributeValue=/etc/ssh/sshd_config (one attribute).")
@click.option("--start-time", type=TimeParam(), default=None)
@click.option("--end-time", type=TimeParam(), default=None)
@click.option("--max-results", type=click.IntRange(1, 50), default=None,
              help="Events per page (1-50). Without it, every page is fetched.")
@click.option("--next-token", default=None)
@click.pass_context
def lookup_events(ctx: click.Context, attributes: str | None, start_time: str | None, end_time: str | None,
                  max_results: int | None, next_token: str | None) -> None:
    """LookupEvents: newest first; one lookup attribute at most."""
    body: dict[str, Any] = {}
    if attributes:
        body["LookupAttributes"] = [pairs(attributes, "--lookup-attributes")]
    if start_time:
        body["StartTime"] = start_time
    if end_time:
        body["EndTime"] = end_time
    client = client_from(ctx)
    if max_results is not None:
        body["MaxResults"] = max_results
        if next_token:
            body["NextToken"] = next_token
        echo_answer(ctx, client.call(SERVICE, "LookupEvents", body))
        return
    events: list[Any] = []
    while True:
        answer = client.call(SERVICE, "LookupEvents", body)
        events.extend(answer["Events"])
        if "NextToken" not in answer:
            break
        body["NextToken"] = answer["NextToken"]
    echo_answer(ctx, {"Events": events})


@command.command("put-event")
@click.option("--event", "event", required=True,
              help="file://record.json: a CloudTrail record (eventSource, eventName, userIdentity, ...) "
                   "or a list of them.")
@click.pass_context
def put_event(ctx: click.Context, event: str) -> None:
    """Record a change made elsewhere (a deployment, a Terraform apply)."""
    data = json_file(event, "--event")
    events = data if isinstance(data, list) else [data]
    echo_answer(ctx, client_from(ctx).call(SERVICE, "PutAuditEvents", {"AuditEvents": events}))


@command.command("validate-logs")
@click.option("--start-time", type=TimeParam(), required=True)
@click.option("--end-time", type=TimeParam(), default=None)
@click.option("--verbose", is_flag=True, help="Also list what is valid.")
@click.pass_context
def validate_logs(ctx: click.Context, start_time: str, end_time: str | None, verbose: bool) -> None:
    """Check digests and hash chains; exit 1 when anything is INVALID."""
    body: dict[str, Any] = {"StartTime": start_time, "Verbose": verbose}
    if end_time:
        body["EndTime"] = end_time
    answer = client_from(ctx).call(SERVICE, "ValidateLogs", body)
    for line in answer["Report"]:
        click.echo(line)
    if not answer["Valid"]:
        ctx.exit(1)


@command.command("list-public-keys")
@click.pass_context
def list_public_keys(ctx: click.Context) -> None:
    """The public key that verifies digests, with its fingerprint."""
    echo_answer(ctx, client_from(ctx).call(SERVICE, "ListPublicKeys", {}))


@command.command("query")
@click.argument("sql")
@click.option("--max-rows", type=click.IntRange(1, 100_000), default=1000)
@click.pass_context
def query(ctx: click.Context, sql: str, max_rows: int) -> None:
    """Read-only SQL over audit_events / audit_digests (e.g. changes per user last week)."""
    echo_answer(ctx, client_from(ctx).call(SERVICE, "Query", {"QueryStatement": sql, "MaxRows": max_rows}))
