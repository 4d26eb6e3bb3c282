"""`make run` / `make stop`: the local HA pair on loopback — for each node its MariaDB,
Redis, web (gunicorn), Celery worker and beat — built with the same commands an
operator runs (`ha_setup` on the primary, `ha_install_pack` on the secondary)."""
from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

from localservices.node import PROFILES, ROOT, Profile, services_down, services_up
from localservices.process import ServiceError, pid_alive, start_detached, stop_pid_file, wait_for

PYTHON = str(ROOT / ".venv" / "bin" / "python")
# Sync workers; the request path waits on the database's fsync, so a few more
# workers than cores keep both cores busy (STRONGROOM_WEB_WORKERS overrides).
GUNICORN_WORKERS = int(os.environ.get("STRONGROOM_WEB_WORKERS", "4"))
PROCESS_NAMES = ("web", "worker", "beat")


PASSED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


def node_environment(profile: Profile) -> dict[str, str]:
    """Only the node's env file configures it: nothing leaks in from the caller
    (a test process has another node's settings in its environment)."""
    passed = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    return {**passed, "STRONGROOM_ENV_FILE": str(profile.env_file),
            "DJANGO_SETTINGS_MODULE": "strongroom.settings"}


def manage(profile: Profile, *args: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT,
                            env=node_environment(profile), capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"{profile.name}: manage.py {' '.join(args)} failed:\n"
                           f"{(result.stderr or result.stdout).strip()}")
    return result.stdout.strip()


def _command(profile: Profile, name: str) -> list[str]:
    run_dir = profile.base_dir / "run"
    return {
        "web": [PYTHON, "-m", "gunicorn", "strongroom.wsgi:application",
                "--bind", f"127.0.0.1:{profile.web_port}", "--workers", str(GUNICORN_WORKERS),
                "--access-logfile", "-", "--timeout", "30"],
        "worker": [PYTHON, "-m", "celery", "-A", "strongroom", "worker", "--concurrency", "2",
                   "--loglevel", "WARNING", "--hostname", f"worker@{profile.name}"],
        "beat": [PYTHON, "-m", "celery", "-A", "strongroom", "beat", "--loglevel", "INFO",
                 "--schedule", str(run_dir / "celerybeat-schedule")],
    }[name]


def is_installed_secondary(profile: Profile) -> bool:
    ha_env = profile.ha_dir / "ha.env"
    return ha_env.exists() and "STRONGROOM_ROLE=secondary" in ha_env.read_text()


def prepare_primary(profile: Profile) -> None:
    services_up(profile)
    if not profile.master_key_file.exists():
        manage(profile, "master_key_create", str(profile.master_key_file))
    manage(profile, "migrate", "--noinput")
    manage(profile, "migrate", "--noinput", "--database", "local")
    manage(profile, "collectstatic", "--noinput")
    manage(profile, "bootstrap_admin", "--password-file",
           str(profile.secrets_dir / "admin_password"))


def prepare_secondary(secondary: Profile, primary: Profile, *,
                      primary_port: int | None = None) -> str:
    """Build the pack on the primary and install it on the secondary; returns what
    the two commands printed. `primary_port` lets tests route through a link proxy."""
    services_up(secondary)
    if not secondary.master_key_file.exists():
        # The operator's step: put the vault's master key where the node's config says.
        shutil.copy2(primary.master_key_file, secondary.master_key_file)
    pack = pack_path(primary)
    setup_output = manage(primary, "ha_setup", primary.node_name, secondary.node_name,
                          "--primary-address", "127.0.0.1",
                          "--primary-port", str(primary_port or primary.mariadb_port),
                          "--output", str(pack))
    install_output = manage(secondary, "ha_install_pack", str(pack))
    manage(secondary, "collectstatic", "--noinput")
    return setup_output + "\n" + install_output


def start_processes(profile: Profile, names: tuple[str, ...] = PROCESS_NAMES) -> None:
    run_dir = profile.base_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        pid_file = run_dir / f"{name}.pid"
        if pid_file.exists() and pid_alive(int(pid_file.read_text())):
            continue
        log = open(run_dir / f"{name}.log", "ab")
        pid = start_detached(_command(profile, name), pid_file=pid_file, log=log,
                             env=node_environment(profile), cwd=ROOT)
        if name == "web":
            wait_for(lambda: web_answers(profile), what=f"{profile.name} web on "
                     f"127.0.0.1:{profile.web_port}", timeout=60,
                     log_file=run_dir / "web.log", alive=lambda: pid_alive(pid))


def stop_processes(profile: Profile, names: tuple[str, ...] = PROCESS_NAMES) -> None:
    for name in names:
        stop_pid_file(profile.base_dir / "run" / f"{name}.pid")


def web_answers(profile: Profile) -> bool:
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{profile.web_port}/accounts/login/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def pair_up(primary: Profile, secondary: Profile) -> None:
    prepare_primary(primary)
    if not is_installed_secondary(secondary):
        prepare_secondary(secondary, primary)
    else:
        services_up(secondary)
    start_processes(primary)
    start_processes(secondary)


def pair_down(primary: Profile, secondary: Profile) -> None:
    for profile in (secondary, primary):
        stop_processes(profile)
        services_down(profile)


def print_welcome(primary: Profile, secondary: Profile) -> None:
    password_file = (primary.secrets_dir / "admin_password").relative_to(ROOT)
    print(f"Strongroom HA pair is up on loopback:\n"
          f"  primary   (read/write): http://127.0.0.1:{primary.web_port}/\n"
          f"  secondary (read-only):  http://127.0.0.1:{secondary.web_port}/\n"
          f"  log in as: admin   password: cat {password_file}\n"
          f"  logs:      var/primary/run/*.log, var/secondary/run/*.log\n"
          f"  stop with: make stop")


def default_pair() -> tuple[Profile, Profile]:
    return PROFILES["primary"], PROFILES["secondary"]


def pack_path(primary: Profile) -> Path:
    return primary.ha_dir / "replication" / "HAPack.zip"
