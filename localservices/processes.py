"""A node's own processes — web (gunicorn), Celery worker and beat — and its manage.py
commands, each run as the node's service user with only the node's env file. The
same command lines are started here (make run, the tests) and by the systemd units
(units.py)."""
from __future__ import annotations

import os
import subprocess
import urllib.request

from localservices.node import ROOT, Profile
from localservices.process import (ServiceError, as_user, pid_alive, start_detached,
                                   stop_pid_file, wait_for)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
# Sync workers; the request path waits on the database's fsync, so a few more
# workers than cores keep both cores busy (STRONGROOM_WEB_WORKERS overrides).
GUNICORN_WORKERS = int(os.environ.get("STRONGROOM_WEB_WORKERS", "4"))
# Threads per worker: above 1, gunicorn runs gthread workers, whose other threads use
# the time one request waits for MariaDB. Read here, where the command line is made:
# a node's processes get only its env file's settings.
GUNICORN_THREADS = os.environ.get("STRONGROOM_WEB_THREADS", "1")
if not GUNICORN_THREADS.isdigit() or int(GUNICORN_THREADS) < 1:
    raise SystemExit(f"STRONGROOM_WEB_THREADS must be a whole number ≥ 1, "
                     f"not {GUNICORN_THREADS!r}")
PROCESS_NAMES = ("web", "worker", "beat")
PASSED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


def node_environment(profile: Profile) -> dict[str, str]:
    """Only the node's env file configures it: nothing leaks in from the caller
    (a test process has another node's settings in its environment)."""
    passed = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    if profile.service_user:
        passed["HOME"] = str(profile.base_dir)
    return {**passed, **node_variables(profile)}


def node_variables(profile: Profile) -> dict[str, str]:
    """What every process of the node is given (the systemd units set the same)."""
    return {"STRONGROOM_ENV_FILE": str(profile.env_file),
            "DJANGO_SETTINGS_MODULE": "strongroom.settings"}


def manage(profile: Profile, *args: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT,
                            env=node_environment(profile), capture_output=True, text=True,
                            **as_user(profile.service_user))
    if result.returncode != 0:
        raise ServiceError(f"{profile.name}: manage.py {' '.join(args)} failed:\n"
                           f"{(result.stderr or result.stdout).strip()}")
    return result.stdout.strip()


def process_command(profile: Profile, name: str) -> list[str]:
    return {
        "web": [PYTHON, "-m", "gunicorn", "strongroom.wsgi:application",
                "--bind", f"127.0.0.1:{profile.web_port}", "--workers", str(GUNICORN_WORKERS),
                "--threads", GUNICORN_THREADS, "--access-logfile", "-", "--timeout", "30"],
        "worker": [PYTHON, "-m", "celery", "-A", "strongroom", "worker", "--concurrency", "2",
                   "--loglevel", "WARNING", "--hostname", f"worker@{profile.name}"],
        "beat": [PYTHON, "-m", "celery", "-A", "strongroom", "beat", "--loglevel", "INFO",
                 "--schedule", str(profile.run_dir / "celerybeat-schedule")],
    }[name]


def start_processes(profile: Profile, names: tuple[str, ...] = PROCESS_NAMES) -> None:
    run_dir = profile.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        pid_file = run_dir / f"{name}.pid"
        if pid_file.exists() and pid_alive(int(pid_file.read_text())):
            continue
        log = open(run_dir / f"{name}.log", "ab")
        pid = start_detached(process_command(profile, name), pid_file=pid_file, log=log,
                             env=node_environment(profile), cwd=ROOT,
                             user=profile.service_user)
        if name == "web":
            wait_for(lambda: web_answers(profile), what=f"{profile.name} web on "
                     f"127.0.0.1:{profile.web_port}", timeout=60,
                     log_file=run_dir / "web.log", alive=lambda: pid_alive(pid))


def stop_processes(profile: Profile, names: tuple[str, ...] = PROCESS_NAMES) -> None:
    for name in names:
        stop_pid_file(profile.run_dir / f"{name}.pid")


def web_answers(profile: Profile) -> bool:
    """The login page renders (the database answers, static files are there). Asked
    as the TLS proxy asks, so that a node behind one does not redirect to https."""
    request = urllib.request.Request(f"http://127.0.0.1:{profile.web_port}/accounts/login/",
                                     headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
