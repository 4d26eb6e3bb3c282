"""Directories and files of a node, owned by the user who needs them: as root the
installer gives each to its service user (and that user's group unless another is
named); run as anyone else, they stay the caller's."""
from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

from strongroom.atomicfile import write_atomically


def owned_directory(path: Path, *, user: str = "", group: str = "", mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    owner = _owner(user, group)
    if owner is not None:
        os.chown(path, *owner)
    path.chmod(mode)
    return path


def owned_file(path: Path, content: str | bytes, *, user: str = "", group: str = "",
               mode: int) -> Path:
    return write_atomically(path, content, mode=mode, owner=_owner(user, group))


def _owner(user: str, group: str) -> tuple[int, int] | None:
    """(uid, gid) to give a file to, -1 keeping one; None when nothing is given away."""
    if not (user or group) or os.geteuid() != 0:
        return None
    group = group or primary_group(user)
    return (pwd.getpwnam(user).pw_uid if user else -1, grp.getgrnam(group).gr_gid)


def primary_group(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name if user else ""
