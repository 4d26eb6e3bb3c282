"""A node's local services and its env file: MariaDB, Redis, secrets, master key.

Profiles: `test` (the suite's own servers), `primary` and `secondary` (the pair
`make run` serves). Everything lives under var/<profile>/ and is git-ignored.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ha.replication.sql import quote_identifier
from localservices.files import owned_directory, owned_file, primary_group
from localservices.mariadb import MariaDBServer, zero_data_loss_options
from localservices.redis import RedisServer
from strongroom.envfile import format_env

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
APP_DB_USER = "strongroom"
ADMIN_DB_USER = "strongroom_admin"
SCHEMAS = ("strongroom", "strongroom_local")


@dataclass(frozen=True)
class Profile:
    name: str
    mariadb_port: int
    redis_port: int
    web_port: int
    server_id: int
    base_dir: Path = field(default=None)  # type: ignore[assignment]
    node_name: str = ""
    secondary: bool = False
    # As root, the installer runs the app as this user and MariaDB as `mysql`;
    # "" runs everything as the caller (make run, make test).
    service_user: str = ""
    # Where the node listens for other hosts: MariaDB (the secondary replicates from
    # it) and the TLS proxy, on `https_port` (0: no proxy, plain HTTP on loopback).
    bind_address: str = "127.0.0.1"
    https_port: int = 0
    # Who starts the services: "direct" (processes, as make run does) or "systemd".
    services: str = "direct"
    # Semi-synchronous replication (R-H12): a write the primary acknowledged survives
    # the primary's crash; README, "Zero-data-loss mode".
    zero_data_loss: bool = False

    def __post_init__(self) -> None:
        if self.base_dir is None:
            object.__setattr__(self, "base_dir", VAR / self.name)
        if not self.node_name:
            object.__setattr__(self, "node_name", f"{self.name}.strongroom.test")

    @property
    def env_file(self) -> Path:
        return self.base_dir / "node.env"

    @property
    def secrets_dir(self) -> Path:
        return self.base_dir / "secrets"

    @property
    def ha_dir(self) -> Path:
        return self.base_dir / "ha"

    @property
    def public_url(self) -> str:
        port = "" if self.https_port == 443 else f":{self.https_port}"
        return f"https://{self.node_name}{port}"

    @property
    def static_dir(self) -> Path:
        return self.base_dir / "static"

    @property
    def run_dir(self) -> Path:
        """Logs, pid files and Celery beat's schedule."""
        return self.base_dir / "run"

    @property
    def master_key_file(self) -> Path:
        return self.secrets_dir / "master.key"

    @property
    def mariadb(self) -> MariaDBServer:
        # A secondary's server is read-only from its first start: only replication
        # and accounts with READ_ONLY ADMIN (for the local schema) may write.
        extra = {"read-only": "ON"} if self.secondary else {}
        if self.zero_data_loss:
            extra.update(zero_data_loss_options())
        return MariaDBServer(base_dir=self.base_dir / "mariadb", port=self.mariadb_port,
                             server_id=self.server_id, extra_options=extra,
                             bind_address=self.bind_address, user=self.db_os_user,
                             tls_owner=self.service_user, systemd_unit=self.unit("db"))

    @property
    def db_os_user(self) -> str:
        return "mysql" if self.service_user else ""

    @property
    def redis(self) -> RedisServer:
        return RedisServer(base_dir=self.base_dir / "redis", port=self.redis_port,
                           user=self.service_user, systemd_unit=self.unit("redis"))

    def unit(self, service: str) -> str:
        """The systemd unit that runs `service` (db, redis, web, worker, beat), if any."""
        return f"strongroom-{service}.service" if self.services == "systemd" else ""


# Two checkouts on one machine (a developer's and CI's) each set their own offset.
_PORT_OFFSET = int(os.environ.get("STRONGROOM_PORT_OFFSET", "0"))
PROFILES = {
    "test": Profile("test", mariadb_port=3417 + _PORT_OFFSET, redis_port=6391 + _PORT_OFFSET,
                    web_port=8090 + _PORT_OFFSET, server_id=90),
    "primary": Profile("primary", mariadb_port=3407 + _PORT_OFFSET,
                       redis_port=6380 + _PORT_OFFSET, web_port=8000 + _PORT_OFFSET,
                       server_id=1),
    "secondary": Profile("secondary", mariadb_port=3408 + _PORT_OFFSET,
                         redis_port=6381 + _PORT_OFFSET, web_port=8001 + _PORT_OFFSET,
                         server_id=2, secondary=True),
}


def _secret_file(profile: Profile, name: str, make) -> Path:
    """A secret of the node's, made once and never overwritten."""
    path = profile.secrets_dir / name
    if not path.exists():
        owned_file(path, make(), user=profile.service_user, mode=0o600)
    return path


def node_directories(profile: Profile) -> None:
    """The node's tree: readable where a process of another user must pass through,
    private where secrets and the HA files live."""
    user = profile.service_user
    owned_directory(profile.base_dir, mode=0o755)
    owned_directory(profile.secrets_dir, user=user, mode=0o700)
    owned_directory(profile.ha_dir, user=user, mode=0o700)
    for directory in (profile.static_dir, profile.run_dir):
        owned_directory(directory, user=user, mode=0o755)


def services_up(profile: Profile) -> Path:
    """Start MariaDB and Redis, create the accounts and schemas, write node.env."""
    node_directories(profile)
    mariadb, redis = profile.mariadb, profile.redis
    mariadb.ensure_started()
    redis.ensure_started()
    mariadb.drop_anonymous_accounts()
    mariadb.run_sql("".join(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(name)};\n"
                            for name in SCHEMAS))
    # pytest-django creates test_<name>[suffix] databases, so the test account may too.
    names = list(SCHEMAS) + ([r"test\_strongroom%"] if profile.name == "test" else [])
    make_password = lambda: secrets.token_urlsafe(24)  # noqa: E731
    mariadb.ensure_user(user=APP_DB_USER,
                        password=_secret_file(profile, "db_password", make_password).read_text(),
                        grants=[("ALL PRIVILEGES", name) for name in names])
    # The HA commands (ha_setup, ha_install_pack, ...) manage replication and grants.
    mariadb.ensure_user(user=ADMIN_DB_USER,
                        password=_secret_file(profile, "db_admin_password",
                                              make_password).read_text(),
                        grants=[("ALL PRIVILEGES", "*")], grant_option=True)
    secret_key = _secret_file(profile, "django_secret_key", lambda: secrets.token_urlsafe(50))
    lines = {
        "STRONGROOM_NODE_NAME": profile.node_name,
        "STRONGROOM_MASTER_KEY_FILE": profile.master_key_file,
        "STRONGROOM_HA_DIR": profile.ha_dir,
        "SECRET_KEY_FILE": secret_key,
        "DB_HOST": "127.0.0.1",
        "DB_PORT": profile.mariadb_port,
        "DB_USER": APP_DB_USER,
        "DB_PASSWORD_FILE": profile.secrets_dir / "db_password",
        "DB_ADMIN_USER": ADMIN_DB_USER,
        "DB_ADMIN_PASSWORD_FILE": profile.secrets_dir / "db_admin_password",
        "CELERY_BROKER_URL": redis.url,
        "STATIC_ROOT": profile.static_dir,
        "DEBUG": "false",
        # The app watches for the mode's fall back to asynchronous replication.
        "HA_ZERO_DATA_LOSS": "true" if profile.zero_data_loss else "false",
    }
    if profile.https_port:
        # Behind the node's nginx (nginx.py), the one proxy whose X-Forwarded-* count.
        lines.update({"HTTPS": "true", "BEHIND_TLS_PROXY": "true", "AXES_PROXY_COUNT": 1,
                      "ALLOWED_HOSTS": f"{profile.node_name},127.0.0.1,localhost",
                      "CSRF_TRUSTED_ORIGINS": profile.public_url})
    else:
        # Loopback only, plain HTTP (make run, the tests).
        lines.update({"HTTPS": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    if profile.secondary:
        # Until its pack is installed (ha.env then says so too).
        lines["STRONGROOM_ROLE"] = "secondary"
    # No secret in it (only the files' names): readable by the service, written by us.
    owned_file(profile.env_file, format_env(lines), group=primary_group(profile.service_user),
               mode=0o640 if profile.service_user else 0o644)
    return profile.env_file


def services_down(profile: Profile) -> None:
    profile.redis.stop()
    profile.mariadb.stop()
