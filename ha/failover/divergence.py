"""What an old primary committed that never reached the node promoted in its place
(S3/S4, ha_rejoin): the transactions of its own GTID domain beyond the promotion
point, read from its binary log and written to a report for an administrator to
review and re-apply, before the node is rebuilt. Nothing is dropped silently.

The report names the rows (table, primary key, the columns that changed), the
vault accounts and resources they touch and when each transaction committed.
Secrets stay out of it: encrypted columns and password or token hashes are shown
as withheld, never as their bytes. UUID columns (ids, the audit row's uuid) are
shown in their canonical form, so an operator can look the row up; other binary
values as hex.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings

from ha.replication.dbconnect import admin_client_options, admin_cursor, query_dicts, query_one
from ha.nodeconfig import write_private

WITHHELD = "(withheld: secret or encrypted)"
SECRET_COLUMNS = frozenset({"password", "token_hash"})
GTID_LINE = re.compile(r"^#(\d{6})\s+(\d{1,2}:\d\d:\d\d) server id \d+ .*\tGTID (\d+-\d+-\d+)")
ROW_LINE = re.compile(r"^### (INSERT INTO|UPDATE|DELETE FROM) `([^`]+)`\.`([^`]+)`")
VALUE_LINE = re.compile(r"^###\s+@(\d+)=(.*)$")
# mariadb-binlog writes a string's bytes as they are, except bytes below 0x20 as \xNN.
CONTROL_ESCAPE = re.compile(rb"\\x([0-9a-f]{2})")
BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
AUDIT_TABLE = "audit_auditevent"
OPERATIONS = {"INSERT INTO": "insert", "UPDATE": "update", "DELETE FROM": "delete"}


class DivergenceError(Exception):
    pass


@dataclass
class Change:
    operation: str
    table: str
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)


@dataclass
class Transaction:
    gtid: str
    committed_at: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class Divergence:
    domain: int
    promotion_sequence: int
    last_sequence: int
    transactions: list[Transaction]

    @property
    def gtids(self) -> str:
        if self.last_sequence <= self.promotion_sequence:
            return ""
        return (f"{self.domain}-*-{self.promotion_sequence + 1}"
                f"..{self.last_sequence}")

    @property
    def audit_event_ids(self) -> list[int]:
        """The ids of the audit rows these transactions added to this node's trail."""
        return [int(change.after["id"]) for transaction in self.transactions
                for change in transaction.changes
                if change.table == AUDIT_TABLE and change.operation == "insert"
                and str(change.after.get("id", "")).isdigit()]


def divergence_find(*, promotion_position: str) -> Divergence:
    """This node's own transactions beyond `promotion_position` (the new primary's
    view of this node's domain when it was promoted)."""
    from ha.failover.gtid import gtid_map

    with admin_cursor() as cursor:
        domain = query_one(cursor, "SELECT @@gtid_domain_id")
        server_id = query_one(cursor, "SELECT @@server_id")
        own = gtid_map(query_one(cursor, "SELECT @@gtid_binlog_pos") or "").get(domain, 0)
        logs = [row["Log_name"] for row in query_dicts(cursor, "SHOW BINARY LOGS")]
        columns = _column_names(cursor)
    promoted = gtid_map(promotion_position).get(domain, 0)
    transactions = []
    if own > promoted:
        if not logs:
            raise DivergenceError("this node's binary log is gone: its transactions beyond "
                                  "the promotion point cannot be reported")
        text = _decoded_binlog(first_log=logs[0], domain=domain,
                               start=f"{domain}-{server_id}-{promoted}")
        transactions = _parse(text, columns=columns)
    return Divergence(domain=domain, promotion_sequence=promoted, last_sequence=own,
                      transactions=transactions)


def _column_names(cursor) -> dict[str, dict[int, tuple[str, str]]]:
    """table -> column position -> (name, data type)."""
    schema = settings.DATABASES["default"]["NAME"]
    names: dict[str, dict[int, tuple[str, str]]] = {}
    for row in query_dicts(cursor, "SELECT TABLE_NAME AS t, ORDINAL_POSITION AS n, "
                                   "COLUMN_NAME AS c, DATA_TYPE AS d "
                                   "FROM information_schema.COLUMNS "
                                   "WHERE TABLE_SCHEMA = %s", (schema,)):
        names.setdefault(row["t"], {})[int(row["n"])] = (row["c"], row["d"].lower())
    return names


def _decoded_binlog(*, first_log: str, domain: int, start: str) -> str:
    """The binlog from the server itself (its files belong to the server's user), row
    events decoded, only this node's own domain."""
    with admin_client_options() as options:
        result = subprocess.run(
            ["mariadb-binlog", f"--defaults-file={options}", "--read-from-remote-server",
             "--to-last-log", f"--start-position={start}", f"--do-domain-ids={domain}",
             "--base64-output=DECODE-ROWS", "--verbose", first_log],
            capture_output=True,
            env={**os.environ, "TZ": "UTC"})  # it prints commit times in local time
    if result.returncode != 0:
        raise DivergenceError(f"reading this node's binary log failed: "
                              f"{result.stderr.decode(errors='replace').strip()[-500:]}")
    # Latin-1 maps each byte to one character and back: a binary value's bytes
    # survive the parsing and are decoded per column type (_shown).
    return result.stdout.decode("latin-1")


def _parse(text: str, *, columns: dict[str, dict[int, tuple[str, str]]]
           ) -> list[Transaction]:
    schema = settings.DATABASES["default"]["NAME"]
    transactions: list[Transaction] = []
    change, section = None, None
    for line in text.split("\n"):  # not splitlines: \x85 is a byte of a value here
        gtid = GTID_LINE.match(line)
        if gtid:
            day, time_of_day, number = gtid.groups()
            committed = datetime.strptime(f"{day} {time_of_day}", "%y%m%d %H:%M:%S")
            transactions.append(Transaction(gtid=number, committed_at=committed.isoformat()))
            change = None
            continue
        row = ROW_LINE.match(line)
        if row and transactions:
            operation, database, table = row.groups()
            change = None
            if database == schema:
                change = Change(operation=OPERATIONS[operation], table=table)
                transactions[-1].changes.append(change)
                section = change.before if change.operation == "delete" else change.after
            continue
        if change is None:
            continue
        if line.startswith("### WHERE"):
            section = change.before
        elif line.startswith("### SET"):
            section = change.after
        else:
            value = VALUE_LINE.match(line)
            if value:
                name, data_type = columns.get(change.table, {}).get(
                    int(value.group(1)), (f"@{value.group(1)}", ""))
                section[name] = _shown(name, value.group(2), data_type=data_type)
    return [transaction for transaction in transactions if transaction.changes]


def _shown(column: str, raw: str, *, data_type: str = "") -> str:
    if column in SECRET_COLUMNS or column.endswith("_ct") or column == "wrapped":
        return WITHHELD
    raw = re.sub(r"\s*/\*.*\*/\s*$", "", raw)  # mariadb-binlog's type comment
    if not (len(raw) >= 2 and raw[0] == raw[-1] == "'"):
        return raw  # a number, a time or NULL: plain text
    value = CONTROL_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]),
                               raw[1:-1].encode("latin-1"))
    if data_type == "uuid":
        return uuid_from_record(value)
    if data_type in BINARY_TYPES:
        return value.hex()
    return value.decode("utf-8", errors="replace")


def uuid_from_record(value: bytes) -> str:
    """A UUID column's 16 bytes as MariaDB stores them, in canonical form (hex when
    not 16 bytes). MariaDB stores a UUID of version 1-5 (RFC variant) with its groups
    in reverse order (nnnnnnnnnnnn-vsss-Vhhh-mmmm-llllllll, MDEV-26664) and others
    as they are; the test is the server's own (sql_type_uuid.h)."""
    if len(value) != 16:
        return value.hex()
    if value[6] & 0x80 and 0 < value[8] < 0x60:
        value = value[12:16] + value[10:12] + value[8:10] + value[6:8] + value[0:6]
    return str(uuid.UUID(bytes=value))


def report_write(divergence: Divergence, *, epoch: dict, directory: Path) -> Path:
    """The report as JSON (0600, in the node's HA directory): what to review."""
    touched = sorted({f"{change.table} {change.after.get('id') or change.before.get('id')}"
                      for transaction in divergence.transactions
                      for change in transaction.changes})
    body = {
        "node": settings.NODE_NAME,
        "written_at": datetime.now(timezone.utc).isoformat(),
        "superseded_by": epoch,
        "what": "transactions this node committed after the promotion point; they are not "
                "on the new primary and were removed from this node when it was rebuilt: "
                "review them and re-apply on the new primary what is still wanted",
        "gtids": divergence.gtids,
        "transaction_count": len(divergence.transactions),
        "rows_touched": touched,
        "transactions": [{"gtid": t.gtid, "committed_at_utc": t.committed_at,
                          "changes": [change.__dict__ for change in t.changes]}
                         for t in divergence.transactions],
    }
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"divergence-{stamp}.json"
    write_private(path, json.dumps(body, indent=2, default=str))
    return path
