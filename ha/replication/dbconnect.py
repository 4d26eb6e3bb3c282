"""Raw database connections the HA machinery needs besides Django's own:
the node's admin account (replication, grants, snapshots) and, on a secondary,
the TLS client connection to the primary that ships audit rows."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import MySQLdb
from django.conf import settings

from ha.nodeconfig import peer


class HaConfigError(Exception):
    """A node is not configured for what an HA command was asked to do."""


def admin_connection(*, host: str | None = None, port: int | None = None
                     ) -> MySQLdb.connections.Connection:
    if not settings.DB_ADMIN_USER:
        raise HaConfigError("DB_ADMIN_USER / DB_ADMIN_PASSWORD(_FILE) are not set: the HA "
                            "commands need the node's MariaDB admin account")
    db = settings.DATABASES["default"]
    return MySQLdb.connect(host=host or db["HOST"], port=port or int(db["PORT"]),
                           user=settings.DB_ADMIN_USER, password=settings.DB_ADMIN_PASSWORD,
                           charset="utf8mb4", autocommit=True, connect_timeout=5)


@contextmanager
def admin_cursor() -> Iterator[MySQLdb.cursors.Cursor]:
    connection = admin_connection()
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@contextmanager
def admin_client_options() -> Iterator[str]:
    """A private option file naming the admin account, for the mariadb and
    mariadb-dump clients (`--defaults-file=` first): the password appears neither
    on their command line nor in their environment. Removed afterwards."""
    if not settings.DB_ADMIN_USER:
        raise HaConfigError("DB_ADMIN_USER / DB_ADMIN_PASSWORD(_FILE) are not set")
    db = settings.DATABASES["default"]
    with client_options({"host": db["HOST"], "port": str(db["PORT"]),
                         "user": settings.DB_ADMIN_USER,
                         "password": settings.DB_ADMIN_PASSWORD}) as path:
        yield path


@contextmanager
def client_options(values: dict[str, str]) -> Iterator[str]:
    """A private [client] option file with these values (mode 0600, removed afterwards):
    a client given `--defaults-file=` first reads its password from here."""
    text = "[client]\n" + "".join(f'{name}="{_option_value(value)}"\n'
                                  for name, value in values.items())
    descriptor, path = tempfile.mkstemp(prefix="strongroom-client-", suffix=".cnf")
    try:
        with os.fdopen(descriptor, "w") as file:  # mkstemp: mode 0600
            file.write(text)
        yield path
    finally:
        os.unlink(path)


def _option_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def query_one(cursor, sql: str, args=None):
    cursor.execute(sql, args)
    row = cursor.fetchone()
    return row[0] if row else None


def query_dicts(cursor, sql: str, args=None) -> list[dict]:
    cursor.execute(sql, args)
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def audit_tls_files(ha_dir: Path) -> dict[str, str]:
    """The client certificate the secondary's app presents to ship audit rows."""
    tls = ha_dir / "tls"
    return {"ca": str(tls / "ca.pem"), "cert": str(tls / "audit.pem"),
            "key": str(tls / "audit.key")}


def replica_tls_files(cursor) -> dict[str, str]:
    """The client certificate the secondary's database server presents to replicate:
    beside the server's own certificate files, where that server can read them."""
    tls = Path(query_one(cursor, "SELECT @@ssl_cert")).parent
    return {"ca": str(tls / "replication-ca.pem"), "cert": str(tls / "replication.pem"),
            "key": str(tls / "replication.key")}


def primary_audit_connection(*, timeout: int = 3, io_timeout: int | None = None
                             ) -> MySQLdb.connections.Connection:
    """A TLS connection to the primary that verifies its certificate and host name."""
    io_timeout = io_timeout or timeout * 5
    other = peer()
    if not other.host or not other.user:
        raise HaConfigError("this node has no primary to ship audit rows to")
    return MySQLdb.connect(host=other.host, port=other.port, user=other.user,
                           password=other.password,
                           database=settings.DATABASES["default"]["NAME"],
                           ssl=audit_tls_files(settings.HA_DIR), ssl_mode="VERIFY_IDENTITY",
                           charset="utf8mb4", connect_timeout=timeout, read_timeout=io_timeout,
                           write_timeout=io_timeout)
