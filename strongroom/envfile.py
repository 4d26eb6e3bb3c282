"""The one reader and writer of env files (`KEY=VALUE` lines): a node's env file,
the ha.env the HA commands own, and the secondary's settings inside an HA pack.
Free of Django, so settings can use it before Django is configured."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping


def parse_env(text: str) -> dict[str, str]:
    """Blank lines and `#` comment lines are skipped; a value is kept verbatim
    after the first `=` (surrounding spaces removed)."""
    pairs = (line.split("=", 1) for line in text.splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def read_env_file(path: Path) -> dict[str, str]:
    return parse_env(path.read_text()) if path.is_file() else {}


def format_env(values: Mapping[str, object]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())
