"""The node settings the HA commands own: <STRONGROOM_HA_DIR>/ha.env (read by
settings after the node's own env file) and the files beside it."""
from __future__ import annotations

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
