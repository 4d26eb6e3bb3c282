"""A private redis-server on a loopback port (Celery's broker), nothing kept on disk."""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from localservices.files import owned_directory
from localservices.process import start_detached, stop_pid_file, systemctl, wait_for


@dataclass
class RedisServer:
    base_dir: Path
    port: int
    user: str = ""  # the OS user it runs as ("": whoever starts it)
    systemd_unit: str = ""  # started and stopped by systemd through it, when set

    @property
    def pid_file(self) -> Path:
        return self.base_dir / "redis.pid"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def is_running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self) -> list[str]:
        """How the server is started: by `ensure_started()` and by the node's systemd unit."""
        return ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", str(self.base_dir.resolve()),
                "--protected-mode", "yes"]

    def ensure_started(self) -> None:
        owned_directory(self.base_dir, user=self.user, mode=0o750)
        if self.is_running():
            return
        if self.systemd_unit:
            systemctl("restart", self.systemd_unit)
        else:
            log = open(self.base_dir / "redis.out", "ab")
            start_detached(self.command(), pid_file=self.pid_file, log=log, user=self.user)
        wait_for(self.is_running, what=f"Redis on 127.0.0.1:{self.port}", timeout=20,
                 log_file=self.base_dir / "redis.out")

    def stop(self) -> None:
        if self.systemd_unit:
            systemctl("stop", self.systemd_unit)
        else:
            stop_pid_file(self.pid_file)
