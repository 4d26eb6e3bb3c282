"""Audit flow-back: the secondary's outbox rows go to the primary's trail with
INSERT IGNORE keyed by their UUID (exactly once, however often a batch is retried),
in id order, then are marked delivered; replication brings them back here."""
from __future__ import annotations

import datetime
import json

import MySQLdb
from django.db import connections, router
from django.utils import timezone

from audit.integrity import HASHED_FIELDS
from audit.models import AuditEvent, AuditOutbox
from ha.replication.dbconnect import primary_audit_connection

SHIP_LOCK = "strongroom_audit_shipping"
COLUMNS = (*HASHED_FIELDS, "row_hash")
INSERT_HEAD = (f"INSERT IGNORE INTO `{AuditEvent._meta.db_table}` "
               f"({', '.join(COLUMNS)}, recorded_at) VALUES ")
# recorded_at is the trail's own clock: when the row reached it.
ROW_VALUES = f"({', '.join(['%s'] * len(COLUMNS))}, UTC_TIMESTAMP(6))"


def _row(values: dict) -> tuple:
    converted = dict(values)
    converted["uuid"] = str(values["uuid"])
    # DATETIME columns hold UTC without a zone, as Django writes them.
    converted["occurred_at"] = timezone.make_naive(values["occurred_at"], datetime.timezone.utc)
    converted["detail"] = json.dumps(values["detail"])
    return tuple(converted[name] for name in COLUMNS)


def trail_insert(cursor, batch: list[dict]) -> int:
    """Outbox rows (as the ORM reads them) into a trail, each at most once (INSERT
    IGNORE on the UUID); returns how many were new there."""
    return trail_insert_rows(cursor, [_row(values) for values in batch])


def trail_insert_rows(cursor, rows: list[tuple]) -> int:
    """Rows of stored values, in COLUMNS order, into a trail at most once each."""
    if not rows:
        return 0
    # One multi-row statement, ids assigned in the batch's order. (executemany would
    # send one statement per row here: mysqlclient batches only VALUES made of bare
    # placeholders, and UTC_TIMESTAMP(6) is not one; each row was a round trip.)
    cursor.execute(INSERT_HEAD + ", ".join([ROW_VALUES] * len(rows)),
                   [value for row in rows for value in row])
    return max(cursor.rowcount, 0)


def _pending_rows(limit: int) -> list[tuple]:
    """The oldest undelivered outbox rows as (id, *COLUMNS), exactly as stored: both
    schemas have the same column types, so the values go to the primary unconverted
    (the ORM's conversions there and back were most of shipping's CPU). The time as
    text: mysqlclient formats a text value faster than a datetime."""
    connection = connections[router.db_for_write(AuditOutbox)]  # where it marks them
    columns = ", ".join("DATE_FORMAT(occurred_at, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')"
                        if name == "occurred_at" else connection.ops.quote_name(name)
                        for name in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM "
                       f"{connection.ops.quote_name(AuditOutbox._meta.db_table)} "
                       f"WHERE delivered_at IS NULL ORDER BY id LIMIT %s", [limit])
        return cursor.fetchall()


def _mark_delivered(ids: list[int]) -> None:
    """The ids are the database's own integers, so they go into the statement as text:
    the ORM's per-parameter preparation and escaping cost as much as the shipping."""
    connection = connections[router.db_for_write(AuditOutbox)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {connection.ops.quote_name(AuditOutbox._meta.db_table)} "
                       f"SET delivered_at = UTC_TIMESTAMP(6) "
                       f"WHERE id IN ({', '.join(str(int(i)) for i in ids)})")


def pending_count() -> int:
    return AuditOutbox.objects.filter(delivered_at__isnull=True).count()


def audit_outbox_ship(*, batch_size: int = 2000) -> int:
    """Ship everything pending; returns how many rows were delivered. Raises
    MySQLdb.Error when the primary cannot be reached (the caller retries later);
    rows stay pending until the primary has committed them."""
    local = connections[router.db_for_write(AuditOutbox)]
    with local.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", [SHIP_LOCK])
        if cursor.fetchone()[0] != 1:
            return 0  # another worker is shipping; never two at once (keeps order)
    try:
        return _ship_all(batch_size)
    finally:
        with local.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [SHIP_LOCK])


def _ship_all(batch_size: int) -> int:
    shipped = 0
    primary = None
    try:
        while True:
            batch = _pending_rows(batch_size)
            if not batch:
                return shipped
            primary = primary or primary_audit_connection()
            with primary.cursor() as cursor:
                trail_insert_rows(cursor, [row[1:] for row in batch])
            primary.commit()
            _mark_delivered([row[0] for row in batch])
            shipped += len(batch)
    finally:
        if primary is not None:
            try:
                primary.close()
            except MySQLdb.Error:
                pass
