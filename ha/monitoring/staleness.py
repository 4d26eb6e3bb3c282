"""Staleness the API client sees and controls (R-H14).

- A secondary stamps every API answer with the primary's last heartbeat it has applied
  (`Strongroom-Data-As-Of`) and that data's age in seconds (`Strongroom-Data-Age`).
- `max_staleness=<seconds>` (query parameter, or the `Strongroom-Max-Staleness`
  header; the stricter wins): older data gets a 503 with its age, never an answer.
- A write on the primary answers with its commit's GTID (`Strongroom-Gtid`); a client
  sending that header to a secondary gets an answer only once the secondary has applied
  it (MASTER_GTID_WAIT, bounded), else a 503 saying so: read-your-writes across nodes.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from ha.models import Heartbeat

AS_OF_HEADER = "Strongroom-Data-As-Of"
AGE_HEADER = "Strongroom-Data-Age"
MAX_STALENESS_HEADER = "Strongroom-Max-Staleness"
MAX_STALENESS_PARAMETER = "max_staleness"
GTID_HEADER = "Strongroom-Gtid"

# A MariaDB GTID list (domain-server-sequence, comma separated), of a sane length.
GTID_LIST = re.compile(r"\d{1,10}-\d{1,10}-\d{1,20}(,\d{1,10}-\d{1,10}-\d{1,20}){0,31}")
WRITE_STATEMENTS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})


class StalenessRequestError(ValueError):
    """A staleness or GTID value the client sent that cannot be used (a 400)."""


@dataclass(frozen=True)
class DataAge:
    as_of: datetime | None  # None: no heartbeat has ever been applied here

    @property
    def seconds(self) -> float | None:
        if self.as_of is None:
            return None
        return max(0.0, (timezone.now() - self.as_of).total_seconds())

    def headers(self) -> dict[str, str]:
        if self.as_of is None:
            return {AGE_HEADER: "unknown"}
        return {AS_OF_HEADER: self.as_of.isoformat(), AGE_HEADER: f"{self.seconds:.3f}"}

    def as_json(self) -> dict:
        seconds = self.seconds
        return {"data_as_of": self.as_of.isoformat() if self.as_of else None,
                "data_age_seconds": round(seconds, 3) if seconds is not None else None}


def data_age() -> DataAge:
    """The age of this secondary's data: the primary's heartbeat as replicated here.
    Asked on every API request on a secondary, so a plain SELECT by primary key: the
    ORM's compile of the same query cost more CPU than the request's own work."""
    connection = connections[router.db_for_read(Heartbeat)]
    with connection.cursor() as cursor:
        cursor.execute(_beat_sql(connection.ops.quote_name), [1])
        row = cursor.fetchone()
    if row is None:
        return DataAge(as_of=None)
    # The conversion the ORM applies to a DateTimeField: aware, in the connection's zone.
    return DataAge(as_of=connection.ops.convert_datetimefield_value(row[0], None, connection))


@functools.cache
def _beat_sql(quote) -> str:
    meta = Heartbeat._meta
    return (f"SELECT {quote(meta.get_field('beat_at').column)} FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.pk.column)} = %s")


def requested_max_staleness(request) -> float | None:
    values = [request.GET.get(MAX_STALENESS_PARAMETER),
              request.headers.get(MAX_STALENESS_HEADER)]
    limits = []
    for raw in (value for value in values if value not in (None, "")):
        try:
            limit = float(raw)
        except ValueError:
            raise StalenessRequestError(
                f"max_staleness={raw[:40]!r} is not a number of seconds.") from None
        if not 0 <= limit < 10 ** 9:
            raise StalenessRequestError("max_staleness must be zero or more seconds.")
        limits.append(limit)
    return min(limits) if limits else None


def requested_gtid(request) -> str | None:
    raw = request.headers.get(GTID_HEADER, "").replace(" ", "")
    if not raw:
        return None
    if not GTID_LIST.fullmatch(raw):
        raise StalenessRequestError(
            f"{GTID_HEADER} must be a GTID list such as 0-1-42, as the primary sent it.")
    return raw


def wait_for_gtid(*, gtid: str) -> bool:
    """True once this secondary has applied `gtid`; False after GTID_WAIT_SECONDS."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT MASTER_GTID_WAIT(%s, %s)", [gtid, settings.GTID_WAIT_SECONDS])
        return cursor.fetchone()[0] == 0


class WriteWatch:
    """Notes whether a request wrote through the replicated schema's connection, so
    the primary asks for the commit's GTID only after a write (reads cost nothing)."""

    def __init__(self) -> None:
        self.wrote = False

    def __call__(self, execute, sql, params, many, context):
        if not self.wrote and (sql.lstrip()[:7].split() or [""])[0].upper() in WRITE_STATEMENTS:
            self.wrote = True
        return execute(sql, params, many, context)


def last_commit_gtid() -> str:
    """The GTID of the last transaction this session committed: the request's own
    write, as every write in a request commits on this connection before it answers."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT @@SESSION.last_gtid")
        return cursor.fetchone()[0] or ""
