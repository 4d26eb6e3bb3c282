"""The installer refuses, in one line, code its service user cannot run: a checkout
under root's home (mode 0700), where most people clone as root."""
import os
import subprocess

import pytest

from localservices.process import free_port
from tests.checkout_copy import copy_checkout, public_directory

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the installer runs as root")


def test_installing_from_a_checkout_the_service_user_cannot_reach_is_refused_in_one_line():
    with public_directory("strongroom-private-") as base:
        home = base / "root"
        home.mkdir(mode=0o700)  # as /root is
        code = copy_checkout(home / "strongroom")
        command = code / "scripts" / "strongroom-node"
        # Loopback and free ports, should it ever install.
        env = {**os.environ, "STRONGROOM_NODE_DIR": str(base / "node"),
               "STRONGROOM_BIN_DIR": str(base / "bin"), "STRONGROOM_BIND_ADDRESS": "127.0.0.1",
               **{f"STRONGROOM_{name}_PORT": str(free_port())
                  for name in ("DB", "REDIS", "WEB", "HTTPS")}}
        try:
            result = subprocess.run([command, "install", "--role", "primary",
                                     "--name", "vault-a.example.com"],
                                    cwd=home, env=env, capture_output=True, text=True,
                                    timeout=300)
            made = sorted(path.name for path in base.iterdir())
        finally:
            if (base / "node" / "node.json").exists():
                subprocess.run([command, "stop"], env=env, capture_output=True, timeout=120)

    assert result.returncode == 1, result.stdout
    assert result.stderr.splitlines() == [
        f"strongroom-node: the user strongroom cannot run the code in {code}: put the "
        f"checkout where it can read it (such as /opt/strongroom)"]
    assert made == ["root"]  # no node directory, no command link
