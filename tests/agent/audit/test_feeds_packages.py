"""dpkg.log and apt history.log: one record per package action, with apt's command line and user."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from feed_helpers import CONTEXT, sample

from agent.audit.feeds.logreader import Line
from agent.audit.feeds.packages import PackageAction, PackagesFeed, parse_dpkg_line, parse_history_block, split_history


def test_dpkg_lines_parse_to_actions_and_others_are_skipped() -> None:
    actions = [parse_dpkg_line(line) for line in sample("dpkg.log").splitlines()]
    found = [a for a in actions if a is not None]
    assert [(a.event_name, a.package) for a in found] == [
        ("InstallPackage", "nginx-common"), ("InstallPackage", "nginx"), ("UpgradePackage", "openssl"),
        ("InstallPackage", "./local-tool_1.0_all.deb"), ("RemovePackage", "telnet"), ("PurgePackage", "telnet")]
    assert found[2] == PackageAction(datetime(2024, 5, 9, 6, 25, 11), "UpgradePackage", "openssl", "amd64",
                                     "3.0.11-1~deb12u1", "3.0.11-1~deb12u2")
    assert found[0].version_before is None and found[0].architecture == "all"
    assert found[5].version_after is None


def test_history_blocks_give_command_line_and_requesting_user() -> None:
    blocks = sample("history.log").strip().split("\n\n")
    first = parse_history_block(blocks[0].splitlines())
    assert first is not None
    assert (first.command_line, first.user, first.uid) == ("apt-get install -y nginx", "alice", 1000)
    assert first.start == datetime(2024, 5, 2, 10, 14, 58) and first.end == datetime(2024, 5, 2, 10, 15, 4)
    unattended = parse_history_block(blocks[1].splitlines())
    assert unattended is not None and unattended.user is None


def test_an_unfinished_history_block_is_reported_open() -> None:
    lines = [Line(0, "Start-Date: 2024-05-02  10:14:58"), Line(33, "Commandline: apt-get install -y nginx")]
    done, open_offset, open_block = split_history(lines)
    assert done == [] and open_offset == 0 and open_block is not None and open_block.end is None


def feed(tmp_path: Path) -> PackagesFeed:
    return PackagesFeed(CONTEXT, str(tmp_path / "dpkg.log"), str(tmp_path / "history.log"))


def test_feed_joins_dpkg_actions_with_apt_transactions(tmp_path: Path) -> None:
    (tmp_path / "dpkg.log").write_text(sample("dpkg.log"))
    (tmp_path / "history.log").write_text(sample("history.log"))
    packages = feed(tmp_path)
    packages.restore(None)
    records = packages.poll()
    by_package = {(r["eventName"], r["requestParameters"]["package"]): r for r in records}
    nginx = by_package[("InstallPackage", "nginx")]
    assert nginx["eventSource"] == "packages.watchkeeper.local"
    assert nginx["requestParameters"] == {"package": "nginx", "architecture": "amd64", "versionBefore": None,
                                          "versionAfter": "1.22.1-9"}
    assert nginx["additionalEventData"] == {"via": "apt", "commandLine": "apt-get install -y nginx"}
    assert nginx["userIdentity"]["userName"] == "alice" and nginx["userIdentity"]["uid"] == 1000
    assert nginx["resources"][0]["type"] == "Host::Package" and nginx["resources"][0]["ARN"].endswith("package/nginx")
    assert nginx["eventTime"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(datetime(2024, 5, 2, 10, 15, 2).timestamp()))
    upgrade = by_package[("UpgradePackage", "openssl")]
    assert upgrade["userIdentity"]["userName"] == "root"  # apt without sudo: no Requested-By
    local = by_package[("InstallPackage", "./local-tool_1.0_all.deb")]
    assert local["additionalEventData"] == {"via": "dpkg"} and local["userIdentity"]["type"] == "Unknown"
    assert by_package[("PurgePackage", "telnet")]["userIdentity"]["userName"] == "bob"
    assert len(records) == 6 and packages.poll() == []


def test_dpkg_lines_wait_for_the_open_apt_block(tmp_path: Path) -> None:
    now = datetime.now().replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    dpkg, history = tmp_path / "dpkg.log", tmp_path / "history.log"
    history.write_text(f"\nStart-Date: {now:%Y-%m-%d  %H:%M:%S}\nCommandline: apt-get install -y jq\nRequested-By: alice (1000)\n")
    dpkg.write_text(f"{stamp} install jq:amd64 <none> 1.6-2.1\n")
    packages = feed(tmp_path)
    packages.restore(None)
    assert packages.poll() == []  # apt is still running: who asked is not known yet
    with history.open("a") as out:
        out.write(f"Install: jq:amd64 (1.6-2.1)\nEnd-Date: {now:%Y-%m-%d  %H:%M:%S}\n")
    [record] = packages.poll()
    assert record["additionalEventData"]["commandLine"] == "apt-get install -y jq"
    assert record["userIdentity"]["userName"] == "alice"
