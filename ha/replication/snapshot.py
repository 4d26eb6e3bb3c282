"""The consistent snapshot of the replicated schema a secondary is built from: taken
by ha_setup on the primary (admin account) and by ha_resync on a secondary (snapshot
account, over TLS), with the same mariadb-dump options."""
from __future__ import annotations

import re
import subprocess

GTID_POSITION = re.compile(rb"SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)'")


class SnapshotError(Exception):
    pass


def dump_command(options_file: str, database: str) -> list[str]:
    """mariadb-dump of `database` as the option file's account. --single-transaction
    with --master-data: InnoDB's consistent snapshot and the binlog position it was
    taken at (MariaDB reads it from binlog_snapshot_*, no global read lock), written
    as a GTID position (--gtid): the primary keeps serving meanwhile."""
    return ["mariadb-dump", f"--defaults-file={options_file}", "--single-transaction",
            "--master-data=1", "--gtid", "--hex-blob", "--routines", "--triggers",
            "--databases", database]


def snapshot_take(options_file: str, database: str) -> bytes:
    result = subprocess.run(dump_command(options_file, database), capture_output=True)
    if result.returncode != 0:
        raise SnapshotError(f"the snapshot failed: "
                            f"{result.stderr.decode(errors='replace')[-500:]}")
    return result.stdout


def gtid_of(snapshot: bytes) -> str:
    match = GTID_POSITION.search(snapshot)
    if match is None:
        raise SnapshotError("the snapshot carries no GTID position (is log_bin on?)")
    return match.group(1).decode()
