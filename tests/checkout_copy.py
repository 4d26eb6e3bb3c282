"""This checkout, copied where the service users can run it, as the guide puts the code
at /opt/strongroom: a clone under root's home (mode 0700, where most people clone as
root) is out of their reach, and the tests that run code as them must not depend on
where the clone is."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localservices.node import ROOT

# Every user may pass through it (the sticky bit keeps each one's files its own).
PUBLIC_TEMP = Path("/var/tmp")
LEFT_OUT = {".git", "var", ".pytest_cache"}  # at the top only: history, local data


@contextmanager
def public_directory(prefix: str) -> Iterator[Path]:
    """A fresh directory (0755) every user can pass through, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=PUBLIC_TEMP))
    try:
        base.chmod(0o755)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def copy_checkout(target: Path) -> Path:
    """The working tree as it is (uncommitted changes included) with its .venv. Files
    are hard links where the file system allows (the .venv is hundreds of MB): nothing
    writes into a file of the code in place, it only adds its own."""
    shutil.copytree(ROOT, target, symlinks=True, copy_function=_link_or_copy,
                    ignore=lambda directory, names: (
                        LEFT_OUT & set(names) if Path(directory) == ROOT else set()))
    target.chmod(0o755)
    return target


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system
        shutil.copy2(source, destination)
