"""`make test` on a fresh Debian machine: scripts/install-deps.sh installs every
system program the code and the tests run."""
import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the code runs: localservices (servers, client, dump), the HA tests (binlogs),
# the browser tests, the benchmark's load generator, the MIB checks, the TLS proxy and
# the check of the node's systemd units.
PROGRAMS = ("mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump", "mariadb-binlog",
            "redis-server", "chromium", "chromedriver", "wrk", "snmptranslate", "smilint",
            "nginx", "systemd-analyze")


@functools.cache
def packages_install_deps_brings() -> set[str]:
    """The packages install-deps.sh lists, with what they depend on (apt's local cache)."""
    text = (ROOT / "scripts" / "install-deps.sh").read_text()
    listed = re.findall(r"^\s*packages\+?=\(([^)]*)\)", text, re.MULTILINE)
    assert listed, "install-deps.sh has no packages=(...) list"
    depends = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
         *" ".join(listed).split()], capture_output=True, text=True, check=True)
    return {line.strip() for line in depends.stdout.splitlines() if not line.startswith(" ")}


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_program_the_code_runs_comes_from_a_package_install_deps_installs(program):
    path = shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")
    assert path, f"{program} is not installed: scripts/install-deps.sh must install it"
    owner = subprocess.run(["dpkg-query", "-S", str(Path(path).resolve())],
                           capture_output=True, text=True)
    packages = {line.split(":")[0].strip() for line in owner.stdout.splitlines()}
    assert packages & packages_install_deps_brings(), (
        f"{program} comes from {packages or 'no package'}, which install-deps.sh does not list")
