"""`ha_install_pack` on the secondary: verify the whole pack first (a damaged,
truncated, foreign or stale pack changes nothing; so does a primary or a fenced old
primary, which ha_rejoin takes), then load the snapshot, start TLS replication, make
the replica read-only and write the node's HA settings."""
from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

import MySQLdb
from django.conf import settings
from django.core.management import call_command

from ha.replication.dbconnect import admin_client_options, admin_cursor, query_one, replica_tls_files
from ha.replication.grants import app_grants_apply
from ha.nodeconfig import write_ha_env, write_private
from ha.replication.pack import Pack, PackError, read_pack
from ha.replication.rebuilding import rebuilding
from ha.replication.replica import RETRY_ADVICE, ReplicaState, change_master, wait_until_connected
from ha.role import current_role
from ha.replication.sql import NOT_LOGGED, quote_identifier
from ha.replication.tls import write_for_server
from strongroom.envfile import parse_env
from vault import keyring

GTID_STATEMENT = re.compile(rb"^SET GLOBAL gtid_slave_pos\s*=\s*'[^']*';?\s*$", re.MULTILINE)
# The app's client files (the audit shipper's); the replica's are the database server's.
APP_TLS_FILES = ("ca.pem", "audit.pem", "audit.key")


class InstallError(Exception):
    """The pack was good but installing it failed part-way; the message says what to do."""


class ReplicationNotStarted(InstallError):
    """Everything is installed, but the replica does not replicate: the server's own
    reason, with what to do about it."""


@dataclass
class InstallResult:
    pack: Pack
    replica: ReplicaState


def pack_install(*, path: Path, force_host: bool = False,
                 max_age: timedelta = timedelta(hours=24),
                 progress: Callable[[str], None] = lambda message: None) -> InstallResult:
    _refuse_writable_history(current_role())
    return pack_apply(pack_open(path=path, force_host=force_host, max_age=max_age),
                      progress=progress)


def _refuse_writable_history(role: str) -> None:
    """A primary, or an old one that was fenced, may hold transactions no other node
    has: installing wipes them (and RESET MASTER its binary log) with no report.
    ha_rejoin reports them and carries its audit rows first."""
    if role == "fenced":
        raise PackError("this node is a fenced old primary: installing a pack would wipe "
                        "what it committed after the promotion point without a report; run "
                        "ha_rejoin with this pack instead (nothing was changed)")
    if role == "primary":
        raise PackError("this node is the primary: installing a pack would wipe its data "
                        "without a report; if another node was promoted in its place, run "
                        "ha_rejoin with a pack built there (nothing was changed)")


def pack_open(*, path: Path, force_host: bool = False,
              max_age: timedelta = timedelta(hours=24)) -> Pack:
    """The whole pack verified, and this server fit to take it; PackError otherwise
    (nothing changed)."""
    try:  # a running node holds its key; a command reads the key file
        master_key = keyring.master_key()
    except keyring.MasterKeyError:
        try:
            master_key = keyring.read_key_file(settings.MASTER_KEY_FILE)
        except keyring.MasterKeyError as exc:
            raise PackError(f"set up this node's master key first: {exc}") from None
    pack = read_pack(path, master_key=master_key, node_name=settings.NODE_NAME,
                     max_age=max_age, force_host=force_host)
    with admin_cursor() as cursor:
        _refuse_unsafe_target(cursor, pack.manifest)
    return pack


def pack_apply(pack: Pack, *, progress: Callable[[str], None] = lambda message: None
               ) -> InstallResult:
    """Install a verified pack: its TLS files and credentials, then the replica rebuilt
    from its snapshot, then the node's HA settings."""
    manifest = pack.manifest
    progress("pack verified; installing")
    ha_dir = settings.HA_DIR
    for name in APP_TLS_FILES:
        write_private(ha_dir / "tls" / name, pack.files[f"tls/{name}"])
    with admin_cursor() as cursor:
        _install_replica_tls(cursor, pack)
    credentials = json.loads(pack.files["credentials.json"])
    write_private(ha_dir / "audit_shipper_password", credentials["audit_password"])
    snapshot_password = ha_dir / "snapshot_password"
    if "snapshot_password" in credentials:  # packs before ha_resync have no snapshot account
        write_private(snapshot_password, credentials["snapshot_password"])
    else:
        snapshot_password.unlink(missing_ok=True)
    replica_rebuild(snapshot=pack.files["snapshot.sql"], position=manifest["gtid_position"],
                    host=manifest["primary_address"], port=manifest["primary_port"],
                    user=credentials["replication_user"],
                    password=credentials["replication_password"], progress=progress)
    node_settings = parse_env(pack.files["secondary.env"].decode())
    node_settings["AUDIT_SHIPPER_PASSWORD_FILE"] = str(ha_dir / "audit_shipper_password")
    if snapshot_password.exists():
        node_settings["SNAPSHOT_PASSWORD_FILE"] = str(snapshot_password)
    write_ha_env(node_settings, replace=True)
    call_command("migrate", database="local", verbosity=0)
    progress("replication started; waiting for the primary")
    replica = wait_until_connected()
    if replica.io_running != "Yes" or replica.sql_running != "Yes":
        raise ReplicationNotStarted(replication_failure(replica))
    return InstallResult(pack=pack, replica=replica)


def replica_rebuild(*, snapshot: bytes, position: str, host: str, port: int,
                    user: str | None = None, password: str | None = None,
                    progress: Callable[[str], None] = lambda message: None) -> None:
    """Replace this node's replicated schema with a snapshot of the primary's and
    replicate from the snapshot's position, read-only at both layers. The local
    schema (the audit outbox and its undelivered rows) is left as it is. `user`
    None keeps the replication account already configured."""
    database = settings.DATABASES["default"]["NAME"]
    # Tables vanish and come back one by one: the node's pages answer 503 "rejoining"
    # meanwhile (ha/replication/rebuilding.py), whichever command rebuilds it.
    with rebuilding():
        with admin_cursor() as cursor:
            cursor.execute(NOT_LOGGED)
            cursor.execute("STOP SLAVE")
            if user is not None:
                cursor.execute("RESET SLAVE ALL")
            cursor.execute("SET GLOBAL read_only = ON")
            cursor.execute(f"DROP DATABASE IF EXISTS {quote_identifier(database)}")
        progress(f"loading the snapshot ({len(snapshot) / 1e6:.1f} MB)")
        _load_snapshot(GTID_STATEMENT.sub(b"", snapshot))
        with admin_cursor() as cursor:
            _binlog_state_reset(cursor, position)
            _set_replica_position(cursor, position)
            change_master(cursor, host=host, port=port, user=user, password=password)
            cursor.execute("START SLAVE")
        # The second layer of read-only: the app may read the replicated schema, write
        # only its local one.
        app_grants_apply(role="secondary")


def replication_failure(replica: ReplicaState) -> str:
    """Why replication is not running, in words an operator can act on."""
    if replica.last_sql_errno:
        return f"{replica.problem}; build a new pack with ha_setup and install it"
    return replica.problem or (f"it is still starting (I/O thread: "
                               f"{replica.io_running or 'stopped'}, SQL thread: "
                               f"{replica.sql_running or 'stopped'}). {RETRY_ADVICE}")


def _install_replica_tls(cursor, pack: Pack) -> None:
    """The replica's client certificate is read by the database server itself, which
    runs as its own user: beside its server certificate, readable by it (tls.py)."""
    data_dir = Path(query_one(cursor, "SELECT @@datadir"))
    files = replica_tls_files(cursor)
    for role, name in (("ca", "ca.pem"), ("cert", "replica.pem"), ("key", "replica.key")):
        write_for_server(Path(files[role]), pack.files[f"tls/{name}"], data_dir=data_dir)


def _refuse_unsafe_target(cursor, manifest: dict) -> None:
    if query_one(cursor, "SELECT @@server_id") == manifest["primary_server_id"]:
        raise PackError("this database server has the primary's server_id: a secondary "
                        "needs its own server_id (and gtid_domain_id)")
    if query_one(cursor, "SELECT @@log_bin") != 1:
        raise PackError("binary logging is off on this server; turn on log_bin so this "
                        "node can be promoted one day")


def _binlog_state_reset(cursor, position: str) -> None:
    """This node's binlog starts over at the snapshot's position, as if it held that
    history: its own later writes (once promoted) continue each GTID domain's
    sequence instead of restarting it, which the other node, replicating in strict
    mode, would refuse. Setting the state needs an empty binlog: a write slipping in
    after RESET MASTER means trying again."""
    for _ in range(50):
        cursor.execute("RESET MASTER")
        try:
            cursor.execute("SET GLOBAL gtid_binlog_state = %s", (position,))
            return
        except MySQLdb.OperationalError:
            time.sleep(0.1)
    raise InstallError("this node's binary log kept receiving writes while it was reset; "
                       "stop its web and Celery processes and try again")


def _set_replica_position(cursor, primary_position: str) -> None:
    """Start from the snapshot's position. Local writes of this node (its own GTID
    domain) may reach its binlog meanwhile; they belong in the position too, or
    MariaDB refuses it as conflicting with the binlog."""
    own_domain = str(query_one(cursor, "SELECT @@gtid_domain_id"))
    binlog = query_one(cursor, "SELECT @@gtid_binlog_pos") or ""
    known = {gtid.split("-")[0] for gtid in primary_position.split(",") if gtid}
    own = [gtid for gtid in binlog.split(",")
           if gtid.split("-")[0] == own_domain and own_domain not in known]
    cursor.execute("SET GLOBAL gtid_slave_pos = %s", (",".join([primary_position, *own]),))


def _load_snapshot(snapshot: bytes) -> None:
    # sql_log_bin=0: the snapshot's rows are the primary's, not new events of ours.
    with admin_client_options() as options:
        result = subprocess.run(
            ["mariadb", f"--defaults-file={options}",
             "--init-command=SET SESSION sql_log_bin=0"], input=snapshot, capture_output=True)
    if result.returncode != 0:
        raise InstallError(f"loading the snapshot failed, so this node's replicated schema "
                           f"is incomplete; fix the cause and run ha_install_pack again: "
                           f"{result.stderr.decode(errors='replace')[-500:]}")
