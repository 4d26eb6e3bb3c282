"""`make run` / `make stop`: a whole node on loopback — MariaDB, Redis, web
(gunicorn), Celery worker and beat — started through the commands a user runs."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from localservices.node import ROOT, Profile, services_down, services_up
from localservices.process import ServiceError, pid_alive, start_detached, stop_pid_file, wait_for

PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN_WORKERS = 3


def _env(profile: Profile) -> dict[str, str]:
    return {**os.environ, "STRONGROOM_ENV_FILE": str(profile.env_file),
            "DJANGO_SETTINGS_MODULE": "strongroom.settings"}


def manage(profile: Profile, *args: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=_env(profile),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"manage.py {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def _processes(profile: Profile) -> dict[str, list[str]]:
    return {
        "web": [PYTHON, "-m", "gunicorn", "strongroom.wsgi:application",
                "--bind", f"127.0.0.1:{profile.web_port}", "--workers", str(GUNICORN_WORKERS),
                "--access-logfile", "-", "--timeout", "30"],
        "worker": [PYTHON, "-m", "celery", "-A", "strongroom", "worker", "--concurrency", "2",
                   "--loglevel", "INFO", "--hostname", f"worker@{profile.name}"],
        "beat": [PYTHON, "-m", "celery", "-A", "strongroom", "beat", "--loglevel", "INFO",
                 "--schedule", str(profile.base_dir / "run" / "celerybeat-schedule")],
    }


def _run_dir(profile: Profile) -> Path:
    path = profile.base_dir / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def node_up(profile: Profile) -> None:
    services_up(profile)
    key_file = profile.secrets_dir / "master.key"
    if not key_file.exists():
        manage(profile, "master_key_create", str(key_file))
    manage(profile, "migrate", "--noinput")
    manage(profile, "migrate", "--noinput", "--database", "local")
    manage(profile, "collectstatic", "--noinput")
    manage(profile, "bootstrap_admin", "--password-file",
           str(profile.secrets_dir / "admin_password"))
    run_dir = _run_dir(profile)
    for name, command in _processes(profile).items():
        pid_file = run_dir / f"{name}.pid"
        if pid_file.exists() and pid_alive(int(pid_file.read_text())):
            continue
        log = open(run_dir / f"{name}.log", "ab")
        start_detached(command, pid_file=pid_file, log=log, env=_env(profile), cwd=ROOT)
    wait_for(lambda: _web_answers(profile), what=f"web on 127.0.0.1:{profile.web_port}",
             timeout=60, log_file=run_dir / "web.log")


def _web_answers(profile: Profile) -> bool:
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{profile.web_port}/accounts/login/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def node_down(profile: Profile) -> None:
    run_dir = _run_dir(profile)
    for name in _processes(profile):
        stop_pid_file(run_dir / f"{name}.pid")
    services_down(profile)


def print_welcome(profile: Profile) -> None:
    password_file = profile.secrets_dir / "admin_password"
    print(f"Strongroom {profile.name} node is up: http://127.0.0.1:{profile.web_port}/\n"
          f"  log in as: admin\n"
          f"  password:  cat {password_file.relative_to(ROOT)}\n"
          f"  logs:      {(profile.base_dir / 'run').relative_to(ROOT)}/*.log\n"
          f"  stop with: make stop", file=sys.stdout)
