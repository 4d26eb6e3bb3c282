"""A private MariaDB server on a loopback port, with its own data under var/.

Each server gets its own --defaults-file so /etc/mysql is never read, and the
machine's own MariaDB (3306) is never touched.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ha.replication.sql import NOT_LOGGED, native_password_hash, quote_identifier, with_parameters
from localservices.files import owned_directory, primary_group
from localservices.process import (ServiceError, pid_alive, start_detached, stop_pid,
                                   systemctl, wait_for)

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "/usr/sbin/mariadbd"

# Zero-data-loss mode: how long a commit waits for the secondary's acknowledgement before
# the primary falls back to asynchronous replication (MariaDB's default is 10 s). 5 s rides
# out a replica's reconnection (connect retry 1 s) and a quick restart of its server, yet
# blocks writers for at most 5 s once when the secondary is really gone; the fall back
# is then an HA event (ha/monitoring/semisync.py) instead of a silent one.
SEMI_SYNC_TIMEOUT_MS = 5000


def zero_data_loss_options() -> dict[str, str]:
    """MariaDB's built-in semi-synchronous replication, on both roles so that they can
    swap. AFTER_SYNC: a commit becomes visible to other clients only once the secondary
    has it (AFTER_COMMIT would let them read a write a crash may then lose); the
    secondary acknowledges once the event is in its relay log, so that log is synced on
    every event."""
    return {"rpl-semi-sync-master-enabled": "ON",
            "rpl-semi-sync-slave-enabled": "ON",
            "rpl-semi-sync-master-wait-point": "AFTER_SYNC",
            "rpl-semi-sync-master-timeout": str(SEMI_SYNC_TIMEOUT_MS),
            "sync-relay-log": "1"}


@dataclass
class MariaDBServer:
    """One mariadbd process: `ensure_started()` is idempotent across invocations."""

    base_dir: Path
    port: int
    server_id: int = 1
    extra_options: dict[str, str] = field(default_factory=dict)
    bind_address: str = "127.0.0.1"
    # The OS user the server runs as ("": whoever starts it) and the app's service
    # user, who owns the TLS directory so that `ha_setup` can replace the files in it.
    user: str = ""
    tls_owner: str = ""
    # Started and stopped by systemd through this unit, when set (units.py).
    systemd_unit: str = ""

    @property
    def os_user(self) -> str:
        return self.user or pwd.getpwuid(os.geteuid()).pw_name

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket(self) -> Path:
        return self.base_dir / "mysqld.sock"

    @property
    def pid_file(self) -> Path:
        return self.base_dir / "mysqld.pid"

    @property
    def defaults_file(self) -> Path:
        return self.base_dir / "my.cnf"

    @property
    def tmp_dir(self) -> Path:
        """The server's temporary files, its own: in the shared /tmp, servers
        bootstrapped at the same moment removed each other's temporary tables."""
        return self.base_dir / "tmp"

    @property
    def tls_dir(self) -> Path:
        """The server's certificate files; `ha_setup` replaces them and runs FLUSH SSL."""
        return self.base_dir / "tls"

    def write_config(self) -> bool:
        """Write my.cnf; True when it changed (a running server must restart)."""
        options = {
            "datadir": str(self.data_dir.resolve()),
            "socket": str(self.socket.resolve()),
            "pid-file": str(self.pid_file.resolve()),
            "tmpdir": str(self.tmp_dir.resolve()),
            "port": str(self.port),
            "bind-address": self.bind_address,
            "skip-name-resolve": "ON",
            "server-id": str(self.server_id),
            "gtid-domain-id": str(self.server_id),
            "log-error": str((self.base_dir / "error.log").resolve()),
            "character-set-server": "utf8mb4",
            "collation-server": "utf8mb4_unicode_ci",
            "innodb-buffer-pool-size": "128M",
            "max-connections": "300",
            # Every node is replication-ready, so any node can become a primary.
            "log-bin": "binlog",
            "binlog-format": "ROW",
            "log-slave-updates": "ON",
            "gtid-strict-mode": "ON",
            "expire-logs-days": "7",
            "replicate-wild-ignore-table": "strongroom_local.%",
            # The local schema's rows never leave a node, so they stay out of its binlog:
            # a secondary's binlog then holds only what it applied from its primary,
            # and a node rebuilt from a snapshot can carry on that GTID history.
            "binlog-ignore-db": "strongroom_local",
            "slave-net-timeout": "5",
            # Durable: a committed change survives a crash of the server or the host.
            "innodb-flush-log-at-trx-commit": "1",
            "sync-binlog": "1",
            # Shows the replication session's TLS cipher on the primary.
            "performance-schema": "ON",
            "ssl-cert": str((self.tls_dir / "server.pem").resolve()),
            "ssl-key": str((self.tls_dir / "server.key").resolve()),
            "ssl-ca": str((self.tls_dir / "ca.pem").resolve()),
        }
        options.update(self.extra_options)
        text = "\n".join(["[mysqld]"] + [f"{k} = {v}" for k, v in options.items()]) + "\n"
        old = self.defaults_file.read_text() if self.defaults_file.exists() else ""
        self.defaults_file.write_text(text)
        return text != old

    def is_running(self) -> bool:
        try:
            self.run_sql("SELECT 1")
        except ServiceError:
            return False
        return True

    def command(self) -> list[str]:
        """How the server is started: by `start()` and by the node's systemd unit."""
        return [MARIADBD, f"--defaults-file={self.defaults_file.resolve()}",
                f"--user={self.os_user}"]

    def prepare_directories(self) -> None:
        """The server's own directory (socket, pid, logs) is its user's, open for
        passing through to the TLS directory inside: that one is the service user's,
        set-gid to the server's group (tls.py)."""
        owned_directory(self.base_dir, user=self.user, mode=0o755)
        owned_directory(self.tmp_dir, user=self.user, mode=0o700)
        if self.tls_owner:
            owned_directory(self.tls_dir, user=self.tls_owner,
                            group=primary_group(self.os_user),
                            mode=0o2750)

    def ensure_started(self) -> None:
        self.prepare_directories()
        changed = self.write_config()
        if self.is_running():
            if not changed:
                return
            self.stop()
        self._ensure_bootstrap_tls()
        if not (self.data_dir / "mysql").exists():
            self._install()
        self.start()

    def start(self) -> None:
        if self.systemd_unit:
            systemctl("restart", self.systemd_unit)
            alive = None
        else:
            log = open(self.base_dir / "mariadbd.out", "ab")
            pid = start_detached(self.command(), pid_file=self.base_dir / "launcher.pid",
                                 log=log)
            alive = lambda: pid_alive(pid)  # noqa: E731
        wait_for(self.is_running, what=f"MariaDB on 127.0.0.1:{self.port}", timeout=60,
                 log_file=self.base_dir / "error.log", alive=alive)

    def _ensure_bootstrap_tls(self) -> None:
        """MariaDB refuses to start with missing TLS files: give a new server a
        self-signed certificate until `ha_setup` issues the real ones."""
        if (self.tls_dir / "server.pem").exists():
            return
        from ha.replication.tls import issue, make_ca, write_for_server

        ca = make_ca("Strongroom bootstrap CA")
        server = issue(ca, common_name="localhost", names=["127.0.0.1"], server=True)
        # Readable by the server's user: the owner of its data dir once it exists.
        owner = self.data_dir if self.data_dir.exists() else self.base_dir
        for name, data in (("ca.pem", ca.cert_pem), ("server.key", server.key_pem),
                           ("server.pem", server.cert_pem)):
            write_for_server(self.tls_dir / name, data, data_dir=owner)

    def _install(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["mariadb-install-db", f"--defaults-file={self.defaults_file.resolve()}",
             f"--user={self.os_user}", "--auth-root-authentication-method=socket",
             "--skip-test-db"],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise ServiceError(f"mariadb-install-db failed: {result.stderr.strip()[-500:]}")

    def stop(self, *, sig: int = signal.SIGTERM) -> None:
        """SIGTERM for a clean shutdown; SIGKILL to simulate a crash."""
        if self.systemd_unit and sig == signal.SIGTERM:
            systemctl("stop", self.systemd_unit)
            return
        pid_text = self.pid_file.read_text().strip() if self.pid_file.exists() else ""
        if pid_text:
            stop_pid(int(pid_text), timeout=60, sig=sig, group=False)
        (self.base_dir / "launcher.pid").unlink(missing_ok=True)

    def run_sql(self, sql: str, *, database: str | None = None) -> str:
        """Run SQL as root over the unix socket (root has no network login)."""
        command = ["mariadb", "--no-defaults", f"--socket={self.socket.resolve()}",
                   "--user=root", "--batch", "--skip-column-names"]
        if database:
            command.append(database)
        result = subprocess.run(command, input=sql, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"SQL on port {self.port} failed: {result.stderr.strip()}")
        return result.stdout

    def query(self, sql: str, args=None) -> list[tuple]:
        """Run one statement as root over the unix socket and return its rows."""
        import MySQLdb

        connection = MySQLdb.connect(unix_socket=str(self.socket.resolve()), user="root",
                                     autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def execute_unlogged(self, statements: list[tuple[str, tuple | None]]) -> None:
        """Run account statements as root on one connection, outside the binlog:
        accounts are node-local and must never replicate."""
        import MySQLdb

        connection = MySQLdb.connect(unix_socket=str(self.socket.resolve()), user="root",
                                     autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(NOT_LOGGED)
                for sql, args in statements:
                    cursor.execute(sql, args)
        finally:
            connection.close()

    def drop_anonymous_accounts(self) -> None:
        """mariadb-install-db may create ''@'localhost': it would win over a named
        account connecting from that host (the replication login, say)."""
        anonymous = self.query("SELECT Host FROM mysql.user WHERE User = ''")
        self.execute_unlogged([("DROP USER %s@%s", ("", host)) for (host,) in anonymous])

    def ensure_user(self, *, user: str, password: str,
                    grants: list[tuple[str, str]], grant_option: bool = False) -> None:
        """Create an account on first use, `grants` being (privileges, schema or "*")
        pairs, and set its password. An existing account keeps its grants: the HA
        commands and migrate narrow them by role. Only the password's hash is sent."""
        host = "127.0.0.1"
        exists = self.query("SELECT COUNT(*) FROM mysql.user WHERE User = %s AND Host = %s",
                            (user, host))[0][0] == 1
        password_hash = native_password_hash(password)
        statements: list[tuple[str, tuple | None]] = [
            ("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY PASSWORD %s",
             (user, host, password_hash)),
            ("ALTER USER %s@%s IDENTIFIED BY PASSWORD %s", (user, host, password_hash))]
        if not exists:
            suffix = " WITH GRANT OPTION" if grant_option else ""
            statements += [(with_parameters(f"GRANT {privileges} ON {_target(schema)}")
                            + f" TO %s@%s{suffix}", (user, host))
                           for privileges, schema in grants]
        self.execute_unlogged(statements)


def _target(schema: str) -> str:
    return "*.*" if schema == "*" else f"{quote_identifier(schema)}.*"
