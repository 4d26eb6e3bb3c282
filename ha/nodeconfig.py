"""The node settings the HA commands own: <STRONGROOM_HA_DIR>/ha.env (read by
settings after the node's own env file) and the files beside it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from strongroom.atomicfile import write_atomically
from strongroom.envfile import format_env, read_env_file


def ha_env_path() -> Path:
    return settings.HA_DIR / "ha.env"


def read_ha_env() -> dict[str, str]:
    return read_env_file(ha_env_path())


def write_ha_env(values: dict[str, str], *, replace: bool = False) -> None:
    """Merge `values` into ha.env (or replace it); takes effect when processes restart."""
    current = {} if replace else read_ha_env()
    current.update(values)
    write_private(ha_env_path(), format_env(dict(sorted(current.items()))))


def write_private(path: Path, content: str | bytes) -> None:
    """A 0600 file in a directory made 0700 if it is new."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, content, mode=0o600)


@dataclass(frozen=True)
class Peer:
    """The other node's database, as this node reaches it over TLS with the audit
    shipper's account: the primary for a secondary, the replaced primary for a
    promoted one (to fence it)."""

    host: str
    port: int
    user: str
    password: str


def peer() -> Peer:
    """Read now, not at process start: a pack, a promotion or a switchover rewrites
    ha.env while the node's processes keep running. As in settings, a value the
    environment (or the node's env file) sets wins over ha.env's."""
    values = {name: value for name, value in read_ha_env().items()
              if name not in settings.ENV_OVER_HA
              and f"{name}_FILE" not in settings.ENV_OVER_HA}
    password = values.get("AUDIT_SHIPPER_PASSWORD", settings.AUDIT_SHIPPER_PASSWORD)
    if values.get("AUDIT_SHIPPER_PASSWORD_FILE"):
        text = Path(values["AUDIT_SHIPPER_PASSWORD_FILE"]).read_text()
        password = text[:-1] if text.endswith("\n") else text
    return Peer(host=values.get("PRIMARY_DB_HOST", settings.PRIMARY_DB_HOST),
                port=int(values.get("PRIMARY_DB_PORT", settings.PRIMARY_DB_PORT)),
                user=values.get("AUDIT_SHIPPER_USER", settings.AUDIT_SHIPPER_USER),
                password=password)
