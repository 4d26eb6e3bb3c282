"""The secondary's replication channel: configure it, read its state, repoint it."""
from __future__ import annotations

import time
from dataclasses import dataclass

from ha.replication.dbconnect import HaConfigError, admin_cursor, query_dicts, replica_tls_files
from ha.nodeconfig import write_ha_env

# Notice a dead link in seconds, not the default minute (see DESIGN-NOTES).
HEARTBEAT_PERIOD = 1
CONNECT_RETRY = 1


def change_master(cursor, *, host: str, port: int, user: str | None = None,
                  password: str | None = None) -> None:
    """Point the replica at the primary over TLS, verifying the primary's certificate
    and host name, and present the replica's client certificate."""
    files = replica_tls_files(cursor)
    options = {"MASTER_HOST": host, "MASTER_PORT": port,
               "MASTER_SSL": 1, "MASTER_SSL_VERIFY_SERVER_CERT": 1,
               "MASTER_SSL_CA": files["ca"], "MASTER_SSL_CERT": files["cert"],
               "MASTER_SSL_KEY": files["key"],
               "MASTER_HEARTBEAT_PERIOD": HEARTBEAT_PERIOD,
               "MASTER_CONNECT_RETRY": CONNECT_RETRY}
    if user is not None:
        options["MASTER_USER"], options["MASTER_PASSWORD"] = user, password
    clauses, args = [], []
    for name, value in options.items():
        if isinstance(value, str):
            clauses.append(f"{name}=%s")
            args.append(value)
        else:
            clauses.append(f"{name}={int(value)}")
    cursor.execute("CHANGE MASTER TO " + ", ".join(clauses) + ", MASTER_USE_GTID=slave_pos",
                   args)


@dataclass
class ReplicaState:
    configured: bool
    io_running: str = ""
    sql_running: str = ""
    last_io_errno: int = 0
    last_io_error: str = ""
    last_sql_errno: int = 0
    last_sql_error: str = ""
    seconds_behind: int | None = None
    master_host: str = ""
    master_port: int = 0
    gtid_io_pos: str = ""

    @property
    def problem(self) -> str:
        """The replica's error in words an operator can act on ("" when there is none)."""
        if self.last_sql_errno:
            return f"applying changes failed: {self.last_sql_error}"
        if self.last_io_errno:
            meaning, advice = IO_ERRORS.get(self.last_io_errno,
                                            ("cannot reach the primary", RETRY_ADVICE))
            return (f"{meaning} (error {self.last_io_errno}: {self.last_io_error}). "
                    f"{advice}")
        return ""


RETRY_ADVICE = ("This node retries every second: once the cause is fixed, `manage.py "
                "ha_status` shows it replicating; no new pack is needed.")
# What the I/O thread's error means, and what to do (Last_IO_Error's own words are
# long and name internals).
IO_ERRORS = {
    1045: ("the primary refused the replication login",
           "Anonymous accounts there (mariadb-install-db makes ''@'localhost' and "
           "''@<host name>) match before strongroom_repl@'%' does: list them on the "
           "primary with `SELECT User, Host FROM mysql.user WHERE User = ''` and drop each, "
           "e.g. `SET sql_log_bin=0; DROP USER ''@'localhost';`. Or ha_setup ran again "
           "after this node's pack was built: install the newer pack. " + RETRY_ADVICE),
    2026: ("TLS with the primary failed",
           "Its certificate is not from this pack's CA or does not name the address this "
           "node connects to: build a new pack with ha_setup (--primary-address as this "
           "node reaches the primary)."),
    2003: ("cannot connect to the primary",
           "Check the primary's address and port in the pack (ha_setup "
           "--primary-address/--primary-port) and that its firewall lets this node reach "
           "that port; `manage.py ha_reconfigure` repoints a node without a new pack. "
           + RETRY_ADVICE),
}


def replica_state(cursor) -> ReplicaState:
    rows = query_dicts(cursor, "SHOW SLAVE STATUS")
    if not rows:
        return ReplicaState(configured=False)
    row = rows[0]
    return ReplicaState(
        configured=True, io_running=row["Slave_IO_Running"],
        sql_running=row["Slave_SQL_Running"], last_io_errno=row["Last_IO_Errno"],
        last_io_error=row["Last_IO_Error"], last_sql_errno=row["Last_SQL_Errno"],
        last_sql_error=row["Last_SQL_Error"], seconds_behind=row["Seconds_Behind_Master"],
        master_host=row["Master_Host"], master_port=row["Master_Port"],
        gtid_io_pos=row.get("Gtid_IO_Pos") or "")


def wait_until_connected(*, timeout: float = 15) -> ReplicaState:
    """Poll until the I/O thread is connected or an error explains why not."""
    deadline = time.monotonic() + timeout
    with admin_cursor() as cursor:
        while True:
            state = replica_state(cursor)
            if (state.io_running == "Yes" and state.sql_running == "Yes") or state.problem \
                    or time.monotonic() > deadline:
                return state
            time.sleep(0.1)


def reconfigure(*, host: str, port: int) -> ReplicaState:
    """Repoint replication at a moved primary (new address or port): no rebuild,
    the GTID position carries on."""
    with admin_cursor() as cursor:
        if not replica_state(cursor).configured:
            raise HaConfigError("this node is not a replica; install an HA pack first")
        cursor.execute("STOP SLAVE")
        change_master(cursor, host=host, port=port)
        cursor.execute("START SLAVE")
    write_ha_env({"PRIMARY_DB_HOST": host, "PRIMARY_DB_PORT": str(port)})
    return wait_until_connected()
