"""The one way files that matter are written (secrets, keys, certificates, settings):
whole or not at all, private from their first byte. Free of Django, so the node
installer and the database's TLS files use it too."""
from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, content: str | bytes, *, mode: int,
                     owner: tuple[int, int] | None = None) -> Path:
    """Write through a partial file renamed into place, so a crash never leaves half a
    file; created with `mode` (never briefly readable by others) and given to `owner`
    (uid, gid; -1 keeps one) before it appears."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content.encode() if isinstance(content, str) else content)
    if owner is not None:
        try:
            os.chown(partial, *owner)
        except OSError:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(path)
    return path
