"""Database accounts are node-local (issue 8, items 2, 3 and 12): no statement that
creates an account or sets its password enters a binlog, no password is written in
plaintext to any log of either node, and the app account cannot rewrite the audit trail."""
import re
import threading
from pathlib import Path

import MySQLdb
import pytest

from ha.replication.grants import is_append_only
from localservices.installer import install
from localservices.node import services_up
from tests.ha.nodefiles import audit_shipper_password, replication_password, snapshot_password
from tests.ha.support import WebClient

pytestmark = pytest.mark.ha

COMMAND_DENIED = 1142
ACCESS_DENIED = 1045
# Binlogs, relay logs, the server's error log and every process's log.
LOG_FILE = re.compile(r"(binlog\.\d+|relay-bin\.\d+|\.log|\.out|\.err)$")


def database_passwords(pair) -> dict[str, str]:
    passwords = {"replication": replication_password(pair),
                 "audit shipper": audit_shipper_password(pair),
                 "snapshot": snapshot_password(pair)}
    for node in (pair.primary, pair.secondary):
        for name in ("db_password", "db_admin_password"):
            passwords[f"{node.profile.name} {name}"] = (node.profile.secrets_dir
                                                         / name).read_text()
    assert all(len(password) >= 16 for password in passwords.values())
    return passwords


def log_files(pair) -> list[Path]:
    files = [path for node in (pair.primary, pair.secondary)
             for path in node.profile.base_dir.rglob("*")
             if path.is_file() and LOG_FILE.search(path.name)]
    names = {path.name for path in files}
    assert any(name.startswith("binlog.") for name in names)
    assert any("relay-bin." in name for name in names)
    return files


def test_no_database_password_is_in_any_binlog_relay_log_or_log_file(pair):
    pair.wait_replicated()
    passwords = database_passwords(pair)
    for path in log_files(pair):
        data = path.read_bytes()
        found = [name for name, password in passwords.items() if password.encode() in data]
        assert not found, f"{path} holds the {', '.join(found)} password in plaintext"


def test_the_secondary_has_no_account_of_the_primary_and_keeps_its_own_password(pair):
    pair.wait_replicated()
    accounts = {row[0] for row in pair.secondary.sql("SELECT User FROM mysql.user")}
    assert not {"strongroom_repl", "strongroom_audit", "strongroom_snapshot"} & accounts
    pair.secondary.app_connection().close()


def test_restarting_the_pair_while_revealing_on_the_secondary_gives_no_error(pair,
                                                                           shared_account):
    admin = WebClient(pair.secondary.url)
    admin.login("admin", pair.primary.admin_password())
    path = f"/accounts/{shared_account['account_id']}/reveal/"
    failures: list[str] = []
    reveals = 0
    stop = threading.Event()

    def reveal_until_stopped() -> None:
        nonlocal reveals
        while not stop.is_set():
            try:
                status, body, _ = admin.post(path, {"reason": "restart drill"})
            except OSError as exc:
                failures.append(repr(exc))
                continue
            reveals += 1
            if status != 200 or "Sw1tch-secret!" not in body:
                failures.append(f"{status}: {body[:200]}")

    revealer = threading.Thread(target=reveal_until_stopped)
    revealer.start()
    try:
        # What `make run` does for an installed pair: the primary's start-up first
        # (services, migrate, bootstrap), then the secondary's services.
        install(pair.primary.profile)
        pair.wait_replicated()
        # Whatever the primary ran reached the secondary: its app account still logs in.
        pair.secondary.app_connection().close()
        services_up(pair.secondary.profile)
        pair.wait_replicated()
    finally:
        stop.set()
        revealer.join(timeout=60)
    assert reveals > 0
    assert not failures, f"{len(failures)} of {reveals} reveals failed: {failures[:3]}"


def audit_tables(node) -> list[str]:
    """The canonical trail and its seals: the audit tables the grants keep append-only."""
    return [row[0] for row in node.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema='strongroom'")
        if is_append_only(row[0])]


def test_the_database_refuses_the_app_account_an_update_or_delete_of_the_audit_trail(pair):
    tables = audit_tables(pair.primary)
    assert {"audit_auditevent", "audit_auditseal"} <= set(tables)
    connection = pair.primary.app_connection()
    try:
        with connection.cursor() as cursor:
            for table in tables:
                for statement in (f"UPDATE strongroom.{table} SET id = id WHERE 1 = 0",
                                  f"DELETE FROM strongroom.{table} WHERE 1 = 0",
                                  f"DROP TABLE strongroom.{table}"):
                    with pytest.raises(MySQLdb.OperationalError) as error:
                        cursor.execute(statement)
                    assert error.value.args[0] == COMMAND_DENIED, statement
                cursor.execute(f"SELECT COUNT(*) FROM strongroom.{table}")
            # Appending works (rolled back: the test leaves the trail as it was).
            cursor.execute("START TRANSACTION")
            cursor.execute(
                "INSERT INTO strongroom.audit_auditevent (uuid, occurred_at, node, actor, "
                "action, object_type, object_id, object_repr, reason, detail, row_hash, "
                "recorded_at) VALUES (REPLACE(UUID(), '-', ''), NOW(6), 'test', 'test', "
                "'login', '', '', '', '', '{}', '', NOW(6))")
            cursor.execute("ROLLBACK")
            # The rest of the vault stays writable, the local outbox updatable.
            cursor.execute("UPDATE strongroom.vault_resource SET name = name WHERE 1 = 0")
            cursor.execute("UPDATE strongroom_local.audit_auditoutbox "
                           "SET delivered_at = NULL WHERE 1 = 0")
    finally:
        connection.close()
