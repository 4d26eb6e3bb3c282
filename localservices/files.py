"""Directories and files of a node, owned by the user who needs them: as root the
installer gives each to its service user (and that user's group unless another is
named); run as anyone else, they stay the caller's."""
from __future__ import annotations

import grp
import os
import pwd
import shutil
from pathlib import Path


def owned_directory(path: Path, *, user: str = "", group: str = "", mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _give(path, user, group)
    path.chmod(mode)
    return path


def owned_file(path: Path, content: str | bytes, *, user: str = "", group: str = "",
               mode: int) -> Path:
    """Write `content` atomically with `mode` from the start (never briefly readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content.encode() if isinstance(content, str) else content)
    _give(partial, user, group)
    partial.replace(path)
    return path


def _give(path: Path, user: str, group: str) -> None:
    if (user or group) and os.geteuid() == 0:
        group = group or primary_group(user)
        shutil.chown(path, user=user or None, group=group or None)


def primary_group(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name if user else ""
