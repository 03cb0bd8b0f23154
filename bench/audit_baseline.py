"""Baseline scan time of a large tree: Watchkeeper's file integrity monitor next to Debian's AIDE.

    python bench/audit_baseline.py [--tree /usr] [--record]

Both hash every file with SHA-256 and record permissions, inode, owner, group, size,
mtime and ctime. Watchkeeper is measured twice: its first baseline (no snapshot: it
hashes everything, and stores small text files' content for diffs) and a restart
baseline against that snapshot (stat only for unchanged files: what every agent
start costs). AIDE has no such shortcut: `aide --init` hashes everything each time.
The page cache is warmed by one untimed pass first, so neither side pays for the disk.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Result, add_record_flag, command_line

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.audit.fim import FileIntegrityMonitor  # noqa: E402
from watchkeeper.config.settings import AuditFilesSettings  # noqa: E402

AIDE_RULE = "p+i+n+u+g+s+m+c+sha256"


def watchkeeper_baseline(tree: str, state_dir: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, files) of one baseline with the state in state_dir."""
    records: list[object] = []
    monitor = FileIntegrityMonitor(AuditFilesSettings(paths=[tree], exclude=[]), "bench", "000000000000", state_dir,
                                   records.extend)
    cpu, wall = time.process_time(), time.perf_counter()
    monitor.baseline()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert not records, "the tree changed during the benchmark"
    return wall, cpu, len(monitor.known)


def aide_init(tree: str, work: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the aide process) of `aide --init` over tree."""
    config = work / "aide.conf"
    config.write_text(f"database_out=file:{work}/aide.db.new\ngzip_dbout=no\nChecks = {AIDE_RULE}\n{tree} Checks\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(["aide", f"--config={config}", "--init"], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not (work / "aide.db.new").exists():
        raise SystemExit(f"aide --init wrote no database (config {config})")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default="/usr")
    add_record_flag(parser)
    args = parser.parse_args()
    if shutil.which("aide") is None:
        raise SystemExit("aide is not installed: apt-get install -y aide")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        watchkeeper_baseline(args.tree, work / "warmup")  # untimed: fills the page cache for both sides
        aide_wall, aide_cpu = aide_init(args.tree, work)
        first_wall, first_cpu, files = watchkeeper_baseline(args.tree, work / "state")
        again_wall, again_cpu, _ = watchkeeper_baseline(args.tree, work / "state")
    result = Result(f"Audit baseline scan of {args.tree} vs AIDE", command_line())
    result.figures += [
        ("files", f"{files}"),
        ("AIDE `aide --init` wall / CPU", f"{aide_wall:.2f} s / {aide_cpu:.2f} s"),
        ("Watchkeeper first baseline (hash all) wall / CPU", f"{first_wall:.2f} s / {first_cpu:.2f} s"),
        ("Watchkeeper restart baseline (stat only) wall / CPU", f"{again_wall:.2f} s / {again_cpu:.2f} s"),
        ("ratio first baseline / AIDE (wall)", f"{first_wall / aide_wall:.2f}"),
        ("ratio restart baseline / AIDE (wall)", f"{again_wall / aide_wall:.2f}"),
    ]
    result.notes.append(f"AIDE rule `{AIDE_RULE}`, database uncompressed; page cache warmed by an untimed pass.")
    result.notes.append("The restart baseline is what each agent start costs; AIDE re-hashes every file on every run.")
    result.report(args.record)


if __name__ == "__main__":
    main()
