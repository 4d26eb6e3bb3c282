"""`ha_setup` on the primary: everything a secondary needs, built while the primary
keeps serving (the snapshot is a single consistent transaction, no downtime)."""
from __future__ import annotations

import json
import os
import pwd
import re
import stat
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.utils import timezone

from audit.sealkey import seal_key_ensure
from audit.services import Action, audit_record
from ha.replication import tls
from ha.checks import missing_static_manifest
from ha.replication.dbconnect import admin_client_options, admin_cursor, query_one
from ha.models import Epoch, Heartbeat, PeerRequest, ReplicaReport
from ha.nodeconfig import write_ha_env
from ha.replication.pack import write_pack
from ha.role import is_read_only_node
from ha.replication.snapshot import SnapshotError, gtid_of, snapshot_take
from ha.replication.sql import NOT_LOGGED, native_password_hash, quote_identifier, with_parameters
from strongroom.envfile import format_env
from vault import keyring

REPLICATION_USER = "strongroom_repl"
AUDIT_SHIPPER_USER = "strongroom_audit"
SNAPSHOT_USER = "strongroom_snapshot"
FQDN = re.compile(r"^(?=.{4,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$",
                  re.IGNORECASE)


class HaSetupError(Exception):
    pass


def validate_fqdn(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if not FQDN.match(name) or name.split(".")[-1].isdigit():
        raise HaSetupError(f"{name!r} is not a fully qualified domain name "
                           f"(like vault-b.example.com)")
    return name


def prerequisites(cursor) -> list[str]:
    """What keeps this node and its MariaDB from serving as a primary, each with its fix."""
    problems = []
    if is_read_only_node():
        problems.append("this node is a secondary (its HA settings say so): run ha_setup "
                        "on the primary")
    manifest = missing_static_manifest()
    if manifest:
        problems.append(f"static files are not collected ({manifest} is missing): run "
                        f"`manage.py collectstatic --noinput`")
    if query_one(cursor, "SELECT @@log_bin") != 1:
        problems.append("binary logging is off: add `log_bin = binlog` to [mysqld] and restart")
    if query_one(cursor, "SELECT @@binlog_format") != "ROW":
        problems.append("binlog_format is not ROW: add `binlog_format = ROW` and restart")
    if query_one(cursor, "SELECT @@server_id") in (0, None):
        problems.append("server_id is 0: give every server its own `server_id`")
    problems += _tls_problems(cursor)
    anonymous = anonymous_accounts(cursor)
    if anonymous:
        problems.append(f"anonymous accounts {', '.join(anonymous)} match the secondary's "
                        f"login before {REPLICATION_USER}@'%' does, and refuse it: drop "
                        f"them with `{drop_anonymous_accounts(anonymous)}`")
    return problems


def anonymous_accounts(cursor) -> list[str]:
    """mariadb-install-db makes ''@'localhost' (and ''@<host name>) unless told not
    to: MariaDB matches the most specific host first, so they win over user@'%'."""
    cursor.execute("SELECT Host FROM mysql.user WHERE User = '' ORDER BY Host")
    return [f"''@'{host}'" for (host,) in cursor.fetchall()]


def drop_anonymous_accounts(accounts: list[str]) -> str:
    # Accounts are node-local: the drop must not reach a replica's binlog.
    return f"SET sql_log_bin=0; DROP USER {', '.join(accounts)};"


def _tls_problems(cursor) -> list[str]:
    files = {variable: query_one(cursor, f"SELECT @@{variable}")
             for variable in ("ssl_cert", "ssl_key", "ssl_ca")}
    # A packaged MariaDB runs as the owner of its data dir (`mysql`), not as root.
    server_user = ServerUser.of(Path(query_one(cursor, "SELECT @@datadir")))
    problems = [f"the server cannot read {variable} ({path}): {reason}"
                for variable, path in files.items() if path
                for reason in [server_user.cannot_read(Path(path))] if reason]
    if query_one(cursor, "SELECT @@have_ssl") != "YES" and not problems:
        problems.append("TLS is off: set ssl_cert, ssl_key and ssl_ca in [mysqld] (any "
                        "certificate will do; ha_setup replaces it) and restart")
    for variable, path in files.items():
        if not path or not os.access(Path(path).parent, os.W_OK):
            problems.append(f"{variable} ({path}) must be a file this command can "
                            f"replace: run ha_setup on the primary's database host")
    return problems


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@dataclass(frozen=True)
class ServerUser:
    uid: int
    name: str
    groups: tuple[int, ...]

    @classmethod
    def of(cls, data_dir: Path) -> "ServerUser":
        owner = data_dir.stat()
        try:  # the groups the server process has: its user's own and those it is in
            entry = pwd.getpwuid(owner.st_uid)
            return cls(uid=owner.st_uid, name=entry.pw_name,
                       groups=tuple(os.getgrouplist(entry.pw_name, entry.pw_gid)))
        except KeyError:
            return cls(uid=owner.st_uid, name=str(owner.st_uid), groups=(owner.st_gid,))

    def cannot_read(self, path: Path) -> str:
        """Why this user cannot read `path` (from its mode and owner), or ''."""
        try:
            for directory in reversed(path.parents):
                if not self._may(directory.stat(), search=True):
                    return f"{self.name} may not enter {directory}: chmod o+x {directory}"
            status = path.stat()
            if not self._may(status, search=False):
                return (f"it runs as {self.name} (the owner of its data dir) and the file "
                        f"is {_user_name(status.st_uid)}'s, mode "
                        f"{stat.S_IMODE(status.st_mode):04o}: chown {self.name} {path}")
        except FileNotFoundError:
            return "the file does not exist"
        return ""

    def _may(self, status: os.stat_result, *, search: bool) -> bool:
        if self.uid == 0:
            return True
        bits = ((stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH) if search
                else (stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH))
        if status.st_uid == self.uid:
            return bool(status.st_mode & bits[0])
        if status.st_gid in self.groups:
            return bool(status.st_mode & bits[1])
        return bool(status.st_mode & bits[2])


@dataclass
class SetupResult:
    pack_path: Path
    gtid_position: str
    snapshot_bytes: int
    # The secondary is the primary this node replaced (its latest promotion): it takes
    # the pack with ha_rejoin, which first reports what it wrote after that point.
    rejoin: bool = False


def ha_setup(*, primary_fqdn: str, secondary_fqdn: str, primary_address: str,
             primary_port: int, output: Path,
             progress: Callable[[str], None] = lambda message: None) -> SetupResult:
    primary_fqdn, secondary_fqdn = validate_fqdn(primary_fqdn), validate_fqdn(secondary_fqdn)
    if primary_fqdn == secondary_fqdn:
        raise HaSetupError("the primary and the secondary need different names")
    master_key = keyring.read_key_file(settings.MASTER_KEY_FILE)
    with admin_cursor() as cursor:
        problems = prerequisites(cursor)
        if problems:
            raise HaSetupError("the primary is not ready for replication:\n  - "
                               + "\n  - ".join(problems))
        progress("issuing TLS certificates")
        ca = tls.make_ca(f"Strongroom HA CA for {primary_fqdn}")
        _install_server_tls(cursor, ca, names=[primary_fqdn, primary_address])
        replica = tls.issue(ca, common_name=secondary_fqdn, names=[], server=False)
        shipper = tls.issue(ca, common_name=f"audit.{secondary_fqdn}", names=[], server=False)
        progress("creating the replication, audit-shipping and snapshot accounts")
        credentials = {
            "replication_user": REPLICATION_USER,
            "replication_password": secrets.token_urlsafe(24),
            "audit_user": AUDIT_SHIPPER_USER,
            "audit_password": secrets.token_urlsafe(24),
            "snapshot_user": SNAPSHOT_USER,
            "snapshot_password": secrets.token_urlsafe(24),
        }
        issuer = tls.subject_of(ca.cert_pem)
        _create_account(cursor, REPLICATION_USER, credentials["replication_password"],
                        subject=tls.subject_of(replica.cert_pem), issuer=issuer,
                        grants=["REPLICATION SLAVE ON *.*"])
        database = settings.DATABASES["default"]["NAME"]
        local_database = settings.DATABASES["local"]["NAME"]
        _create_account(cursor, AUDIT_SHIPPER_USER, credentials["audit_password"],
                        subject=tls.subject_of(shipper.cert_pem), issuer=issuer,
                        grants=[f"INSERT ON {quote_identifier(database)}.`audit_auditevent`",
                                # The secondary's reports of what it sees (ha/monitoring/status.py),
                                # into the primary's local schema: never replicated.
                                f"INSERT ON {quote_identifier(local_database)}."
                                f"{quote_identifier(ReplicaReport._meta.db_table)}",
                                # A switchover's requests, either way (ha/failover/switchover.py).
                                f"INSERT ON {quote_identifier(local_database)}."
                                f"{quote_identifier(PeerRequest._meta.db_table)}",
                                # The pack reaches a primary that handed over, which is
                                # read-only by then. Rows this lets it put in a read-only
                                # trail are not lost: that node is rebuilt from the new
                                # primary, whose promotion took every outbox row.
                                "READ_ONLY ADMIN ON *.*"])
        _create_account(cursor, SNAPSHOT_USER, credentials["snapshot_password"],
                        subject=tls.subject_of(shipper.cert_pem), issuer=issuer,
                        grants=snapshot_grants(database))
        server_id = query_one(cursor, "SELECT @@server_id")
    Heartbeat.objects.update_or_create(id=1, defaults={"node": settings.NODE_NAME,
                                                       "beat_at": timezone.now()})
    # In the snapshot, so the secondary can seal its outbox before the first seal replicates.
    seal_key_ensure()
    progress("taking a consistent snapshot (the primary keeps serving)")
    snapshot = _snapshot(database)
    gtid = _gtid_of(snapshot)
    progress(f"snapshot taken: {len(snapshot) / 1e6:.1f} MB at GTID {gtid}")
    secondary_settings = {"STRONGROOM_ROLE": "secondary", "PRIMARY_DB_HOST": primary_address,
                          "PRIMARY_DB_PORT": str(primary_port),
                          "AUDIT_SHIPPER_USER": AUDIT_SHIPPER_USER,
                          "SNAPSHOT_USER": SNAPSHOT_USER}
    files = {
        "snapshot.sql": snapshot,
        "credentials.json": json.dumps(credentials).encode(),
        "secondary.env": format_env(secondary_settings).encode(),
        "tls/ca.pem": ca.cert_pem,
        "tls/replica.pem": replica.cert_pem, "tls/replica.key": replica.key_pem,
        "tls/audit.pem": shipper.cert_pem, "tls/audit.key": shipper.key_pem,
    }
    latest = Epoch.objects.order_by("-number").first()
    write_pack(output, files=files, master_key=master_key, metadata={
        "primary_fqdn": primary_fqdn, "secondary_fqdn": secondary_fqdn,
        "primary_address": primary_address, "primary_port": primary_port,
        "primary_server_id": server_id, "gtid_position": gtid, "database": database,
        # Built on a promoted node: where the old primary's history ends here, so the
        # old primary can report what it wrote beyond it when it rejoins (ha_rejoin).
        "promotion": latest and {"epoch": latest.number, "node": latest.node,
                                 "gtid_position": latest.gtid_position}})
    write_ha_env({"STRONGROOM_ROLE": "primary"})
    audit_record(action=Action.HA_EVENT, actor_name="system",
                 detail={"event": "ha_setup", "primary": primary_fqdn,
                         "secondary": secondary_fqdn, "gtid": gtid})
    progress(f"wrote {output}")
    return SetupResult(pack_path=output, gtid_position=gtid, snapshot_bytes=len(snapshot),
                       rejoin=bool(latest) and latest.previous_primary == secondary_fqdn)


def _install_server_tls(cursor, ca: tls.Issued, *, names: list[str]) -> None:
    """Replace the primary server's certificate files and reload them (FLUSH SSL).
    They belong to the server's user (the owner of its data dir), which may not be
    the user running this command."""
    server = tls.issue(ca, common_name=names[0], names=names[1:], server=True)
    data_dir = Path(query_one(cursor, "SELECT @@datadir"))
    for variable, data in (("ssl_ca", ca.cert_pem), ("ssl_cert", server.cert_pem),
                           ("ssl_key", server.key_pem)):
        path = Path(query_one(cursor, f"SELECT @@{variable}"))
        try:
            tls.write_for_server(path, data, data_dir=data_dir)
        except PermissionError as exc:
            raise HaSetupError(f"cannot give {path} to the database server's user (the "
                               f"owner of {data_dir}): run ha_setup as root or as that "
                               f"user ({exc})") from None
    cursor.execute("FLUSH SSL")


def snapshot_grants(database: str) -> list[str]:
    """What ha_resync's dump of the replicated schema needs (dump_command), found by
    experiment on MariaDB 10.11, and nothing more. It exposes nothing new: the secondary
    whose app certificate it requires already holds every replicated row. No RELOAD
    and no BINLOG MONITOR: with the binlog on, --single-transaction --master-data reads
    the snapshot's position from the binlog_snapshot_* status (no FLUSH TABLES WITH
    READ LOCK, no SHOW MASTER STATUS); without it the dump fails, it is never
    inconsistent. No LOCK TABLES: --single-transaction takes none."""
    schema = f"{quote_identifier(database)}.*"
    return [f"SELECT ON {schema}",  # the rows, and the tables' definitions
            f"SHOW VIEW ON {schema}",  # a view's definition (--databases dumps views)
            f"TRIGGER ON {schema}",  # SHOW CREATE TRIGGER (--triggers)
            # --routines: a routine's body is readable only through mysql.proc before
            # MariaDB 11.3 (SHOW CREATE ROUTINE); without it they are left out silently.
            "SELECT ON `mysql`.`proc`"]


def _create_account(cursor, user: str, password: str, *, subject: str, issuer: str,
                    grants: list[str]) -> None:
    """A node-local account (never binlogged, so it never replicates) whose password
    only travels as its hash. Only a client holding the certificate issued for it
    may log in, over TLS."""
    cursor.execute(NOT_LOGGED)
    cursor.execute("CREATE OR REPLACE USER %s@%s IDENTIFIED BY PASSWORD %s "
                   "REQUIRE SUBJECT %s AND ISSUER %s",
                   (user, "%", native_password_hash(password), subject, issuer))
    for grant in grants:
        cursor.execute(with_parameters(f"GRANT {grant}") + " TO %s@%s", (user, "%"))


def _snapshot(database: str) -> bytes:
    try:
        with admin_client_options() as options:
            return snapshot_take(options, database)
    except SnapshotError as exc:
        raise HaSetupError(str(exc)) from None


def _gtid_of(snapshot: bytes) -> str:
    try:
        return gtid_of(snapshot)
    except SnapshotError as exc:
        raise HaSetupError(str(exc)) from None
