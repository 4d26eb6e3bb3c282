"""A node's local services and its env file: MariaDB, Redis, secrets, master key.

Profiles: `test` (the suite's own servers), `primary` and `secondary` (the pair
`make run` serves). Everything lives under var/<profile>/ and is git-ignored.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ha.sql import quote_identifier
from localservices.mariadb import MariaDBServer
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
    def master_key_file(self) -> Path:
        return self.secrets_dir / "master.key"

    @property
    def mariadb(self) -> MariaDBServer:
        # A secondary's server is read-only from its first start: only replication
        # and accounts with READ_ONLY ADMIN (for the local schema) may write.
        extra = {"read-only": "ON"} if self.secondary else {}
        return MariaDBServer(base_dir=self.base_dir / "mariadb", port=self.mariadb_port,
                             server_id=self.server_id, extra_options=extra)

    @property
    def redis(self) -> RedisServer:
        return RedisServer(base_dir=self.base_dir / "redis", port=self.redis_port)


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


def _secret_file(path: Path, make) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make())  # no newline: FileAwareEnv reads it verbatim
    return path


def services_up(profile: Profile) -> Path:
    """Start MariaDB and Redis, create the accounts and schemas, write node.env."""
    mariadb, redis = profile.mariadb, profile.redis
    mariadb.ensure_started()
    redis.ensure_started()
    mariadb.run_sql("".join(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(name)};\n"
                            for name in SCHEMAS))
    # pytest-django creates test_<name>[suffix] databases, so the test account may too.
    names = list(SCHEMAS) + ([r"test\_strongroom%"] if profile.name == "test" else [])
    mariadb.ensure_user(user=APP_DB_USER, password_file=profile.secrets_dir / "db_password",
                        grants=[("ALL PRIVILEGES", name) for name in names])
    # The HA commands (ha_setup, ha_install_pack, ...) manage replication and grants.
    mariadb.ensure_user(user=ADMIN_DB_USER,
                        password_file=profile.secrets_dir / "db_admin_password",
                        grants=[("ALL PRIVILEGES", "*")], grant_option=True)
    secret_key = _secret_file(profile.secrets_dir / "django_secret_key",
                              lambda: secrets.token_urlsafe(50))
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
        "STATIC_ROOT": profile.base_dir / "static",
        "DEBUG": "false",
        # Loopback only, plain HTTP; a real node sits behind TLS (README).
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    profile.env_file.write_text(format_env(lines))
    return profile.env_file


def services_down(profile: Profile) -> None:
    profile.redis.stop()
    profile.mariadb.stop()
