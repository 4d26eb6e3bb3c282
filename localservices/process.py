"""Start, wait for and stop the background processes of a local node."""
from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Callable


class ServiceError(RuntimeError):
    pass


def start_detached(command: list[str], *, pid_file: Path, log: IO[bytes],
                   env: dict[str, str] | None = None, cwd: Path | None = None,
                   user: str = "") -> int:
    """Start a process in its own session so it outlives the command that started it;
    as `user` (and only that user's group) when given."""
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True,
                               env=env, cwd=cwd, **as_user(user))
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def as_user(user: str) -> dict:
    """subprocess arguments that run a child as `user` with its own group only (a root
    parent's supplementary groups must not leak into a service); none for ""."""
    if not user:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); reap it if it is our child.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == 0
    except ChildProcessError:
        return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return False


def stop_pid(pid: int, *, timeout: float = 30, sig: int = signal.SIGTERM,
             group: bool = True) -> None:
    """Signal the process (and its group: web servers fork workers), wait for it to go."""
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
        time.sleep(0.05)


def stop_pid_file(pid_file: Path, *, timeout: float = 30) -> None:
    if pid_file.exists():
        text = pid_file.read_text().strip()
        if text:
            stop_pid(int(text), timeout=timeout)
        pid_file.unlink(missing_ok=True)


def wait_for(check: Callable[[], bool], *, what: str, timeout: float,
             log_file: Path | None = None, alive: Callable[[], bool] | None = None) -> None:
    """Poll `check` until true; fail early if the process (`alive`) died."""
    deadline = time.monotonic() + timeout
    while not check():
        died = alive is not None and not alive()
        if died or time.monotonic() > deadline:
            tail = ""
            if log_file and log_file.exists():
                tail = "\n" + "\n".join(log_file.read_text(errors="replace").splitlines()[-15:])
            problem = "exited" if died else f"did not come up within {timeout:.0f}s"
            raise ServiceError(f"{what} {problem}{tail}")
        time.sleep(0.1)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def systemctl(*args: str) -> None:
    result = subprocess.run(["systemctl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"systemctl {' '.join(args)} failed: "
                           f"{(result.stderr or result.stdout).strip()}")
