"""A private MariaDB server on a loopback port, with its own data under var/.

Each server gets its own --defaults-file so /etc/mysql is never read, and the
machine's own MariaDB (3306) is never touched.
"""
from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ha.sql import NOT_LOGGED, native_password_hash, quote_identifier, with_parameters
from localservices.process import ServiceError, pid_alive, start_detached, stop_pid, wait_for

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "/usr/sbin/mariadbd"


@dataclass
class MariaDBServer:
    """One mariadbd process: `ensure_started()` is idempotent across invocations."""

    base_dir: Path
    port: int
    server_id: int = 1
    extra_options: dict[str, str] = field(default_factory=dict)

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
    def tls_dir(self) -> Path:
        """The server's certificate files; `ha_setup` replaces them and runs FLUSH SSL."""
        return self.base_dir / "tls"

    def write_config(self) -> bool:
        """Write my.cnf; True when it changed (a running server must restart)."""
        options = {
            "datadir": str(self.data_dir.resolve()),
            "socket": str(self.socket.resolve()),
            "pid-file": str(self.pid_file.resolve()),
            "port": str(self.port),
            "bind-address": "127.0.0.1",
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

    def ensure_started(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
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
        log = open(self.base_dir / "mariadbd.out", "ab")
        pid = start_detached(
            [MARIADBD, f"--defaults-file={self.defaults_file.resolve()}", "--user=root"],
            pid_file=self.base_dir / "launcher.pid",
            log=log,
        )
        wait_for(self.is_running, what=f"MariaDB on 127.0.0.1:{self.port}", timeout=60,
                 log_file=self.base_dir / "error.log", alive=lambda: pid_alive(pid))

    def _ensure_bootstrap_tls(self) -> None:
        """MariaDB refuses to start with missing TLS files: give a new server a
        self-signed certificate until `ha_setup` issues the real ones."""
        if (self.tls_dir / "server.pem").exists():
            return
        from ha.tls import issue, make_ca, write_for_server

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
             "--user=root", "--auth-root-authentication-method=socket",
             "--skip-test-db"],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise ServiceError(f"mariadb-install-db failed: {result.stderr.strip()[-500:]}")

    def stop(self, *, sig: int = signal.SIGTERM) -> None:
        """SIGTERM for a clean shutdown; SIGKILL to simulate a crash."""
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

    def ensure_user(self, *, user: str, password_file: Path,
                    grants: list[tuple[str, str]], grant_option: bool = False) -> None:
        """Create an account on first use (password in a 0600 file), `grants` being
        (privileges, schema or "*") pairs. An existing account keeps its grants: the
        HA commands and migrate narrow them by role. Only the password's hash is sent."""
        if password_file.exists():
            password = password_file.read_text()
        else:
            password = secrets.token_urlsafe(24)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.touch(mode=0o600)
            password_file.write_text(password)  # verbatim, no newline
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
