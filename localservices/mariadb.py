"""A private MariaDB server on a loopback port, with its own data under var/.

Each server gets its own --defaults-file so /etc/mysql is never read, and the
machine's own MariaDB (3306) is never touched.
"""
from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from localservices.process import ServiceError, start_detached, stop_pid, wait_for

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

    def write_config(self) -> None:
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
        }
        options.update(self.extra_options)
        lines = ["[mysqld]"] + [f"{k} = {v}" for k, v in options.items()]
        self.defaults_file.write_text("\n".join(lines) + "\n")

    def is_running(self) -> bool:
        try:
            self.run_sql("SELECT 1")
        except ServiceError:
            return False
        return True

    def ensure_started(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.is_running():
            return
        self.write_config()
        if not (self.data_dir / "mysql").exists():
            self._install()
        log = open(self.base_dir / "mariadbd.out", "ab")
        start_detached(
            [MARIADBD, f"--defaults-file={self.defaults_file.resolve()}", "--user=root"],
            pid_file=self.base_dir / "launcher.pid",
            log=log,
        )
        wait_for(self.is_running, what=f"MariaDB on 127.0.0.1:{self.port}", timeout=60,
                 log_file=self.base_dir / "error.log")

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

    def stop(self) -> None:
        pid_text = self.pid_file.read_text().strip() if self.pid_file.exists() else ""
        if pid_text:
            stop_pid(int(pid_text), timeout=60)
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

    def ensure_app_user(self, *, user: str, password_file: Path, grants: list[str]) -> str:
        """Create (or re-grant) an account for the app; the password lives in a 0600 file."""
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(24)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.touch(mode=0o600)
            password_file.write_text(password)  # verbatim, no newline
        statements = [
            f"CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';",
            f"ALTER USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';",
        ]
        statements += [f"GRANT {grant} TO '{user}'@'127.0.0.1';" for grant in grants]
        self.run_sql("\n".join(statements))
        return password
