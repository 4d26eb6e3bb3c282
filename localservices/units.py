"""The node's systemd units, rendered from the same command lines that `make run` and
the tests start (so a unit cannot drift from what is tested). The app's three
processes run as the node's service user, MariaDB as `mysql`, Redis as the service
user; each may write only under the node's directory."""
from __future__ import annotations

import shlex

from localservices.node import ROOT, Profile
from localservices.processes import node_variables, process_command

UNIT_DIR = "/etc/systemd/system"
SERVICES = ("db", "redis", "web", "worker", "beat")
DESCRIPTIONS = {"db": "MariaDB", "redis": "Redis (Celery broker)", "web": "web (gunicorn)",
                "worker": "Celery worker", "beat": "Celery beat (schedule)"}


def render_units(profile: Profile) -> dict[str, str]:
    """{unit file name: its text} for every service of the node."""
    return {f"strongroom-{service}.service": _unit(profile, service) for service in SERVICES}


def _unit(profile: Profile, service: str) -> str:
    infrastructure = service in ("db", "redis")
    user = profile.mariadb.os_user if service == "db" else profile.service_user
    command = {"db": profile.mariadb.command(),
               "redis": profile.redis.command()}.get(service) \
        or process_command(profile, service)
    needs = "" if infrastructure else "strongroom-db.service strongroom-redis.service"
    environment = [] if infrastructure else [
        f"Environment={name}={value}"
        for name, value in {**node_variables(profile), "HOME": profile.base_dir}.items()]
    lines = [
        "[Unit]",
        f"Description=Strongroom {DESCRIPTIONS[service]} of {profile.node_name}",
        "After=network-online.target" + (f" {needs}" if needs else ""),
        "Wants=network-online.target",
        *([f"Requires={needs}"] if needs else []),
        "",
        "[Service]",
        # mariadbd tells systemd when it accepts connections.
        f"Type={'notify' if service == 'db' else 'simple'}",
        f"User={user}",
        f"Group={user}",
        f"WorkingDirectory={profile.base_dir if infrastructure else ROOT}",
        *environment,
        f"ExecStart={shlex.join(str(part) for part in command)}",
        "Restart=on-failure",
        "RestartSec=2",
        f"TimeoutStartSec={'300' if service == 'db' else '90'}",
        *(["LimitNOFILE=32768"] if service == "db" else []),
        # Hardening: nothing but the node's own directory is writable.
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "ProtectKernelTunables=yes",
        "ProtectControlGroups=yes",
        f"ReadWritePaths={profile.base_dir}",
        "UMask=0027",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)
