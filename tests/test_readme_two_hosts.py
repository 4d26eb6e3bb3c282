"""The README's two-host guide, run as written: every command of its shell blocks, in
order, on the host each block names — two nodes on loopback, as root, with the
service users, the node's own MariaDB and Redis, and the TLS proxy. Only what a
one-machine trial must change is changed: the code's place, the primary's address,
each node's directory, and scp becomes cp between the two stand-in home directories.
Then a password made on the primary is revealed on the secondary over HTTPS, and a
write there is refused. A wrong guide fails this test."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from localservices.installer import load_profile
from localservices.node import ROOT, VAR
from localservices.process import free_port
from tests.ha.support import WebClient

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the guide is run as root")
README = ROOT / "README.md"
SECTION = "## Operations guide: two hosts"
PRIMARY_ADDRESS = "192.0.2.10"


def guide_commands() -> list[tuple[str, str]]:
    """(host, command) for each command line of the section's ```sh blocks; a block's
    first line names its host (`# vault-a (primary), as root`)."""
    text = README.read_text()
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL):
        lines = block.strip().splitlines()
        host = re.match(r"# (vault-[ab])\b", lines[0]).group(1)
        commands += [(host, line) for line in lines[1:] if line and not line.startswith("#")]
    return commands


@dataclass
class Host:
    node_dir: Path
    home: Path
    env: dict[str, str]

    def localise(self, command: str, other: Host) -> str:
        command = (command.replace("/opt/strongroom", str(ROOT))
                   .replace(PRIMARY_ADDRESS, "127.0.0.1")
                   .replace("/var/lib/strongroom", str(self.node_dir)))
        scp = re.fullmatch(r"scp (.+) root@vault-[ab]\.example\.com:", command)
        return f"cp {scp.group(1)} {other.home}/" if scp else command


@pytest.fixture(scope="module")
def hosts():
    # Under var/, not the per-user pytest temp dir: mysql and strongroom pass through it.
    base = Path(tempfile.mkdtemp(prefix="readme-", dir=VAR))
    base.chmod(0o755)
    made = {}
    for name in ("vault-a", "vault-b"):
        made[name] = Host(node_dir=base / name / "node", home=base / name / "root", env={
            **os.environ, "STRONGROOM_NODE_DIR": str(base / name / "node"),
            "STRONGROOM_DB_PORT": str(free_port()), "STRONGROOM_REDIS_PORT": str(free_port()),
            "STRONGROOM_WEB_PORT": str(free_port()), "STRONGROOM_HTTPS_PORT": str(free_port()),
            "STRONGROOM_BIND_ADDRESS": "127.0.0.1", "STRONGROOM_WEB_WORKERS": "2"})
        made[name].home.mkdir(parents=True)
    try:
        for host_name, command in guide_commands():
            run_on(made, host_name, command)
        yield made
    finally:
        for host in made.values():
            if (host.node_dir / "node.json").exists():
                subprocess.run([ROOT / "scripts" / "strongroom-node", "stop"], env=host.env,
                               capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def run_on(hosts: dict[str, Host], host_name: str, command: str) -> str:
    host = hosts[host_name]
    other = hosts["vault-b" if host_name == "vault-a" else "vault-a"]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", host.localise(command, other)],
                            cwd=host.home, env=host.env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, (f"{host_name}$ {command}\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def https_client(host: Host) -> WebClient:
    """A browser that trusts the node's proxy certificate, and nothing else."""
    profile = load_profile(host.node_dir)
    context = ssl.create_default_context(cafile=profile.base_dir / "proxy" / "ca.pem")
    return WebClient(f"https://127.0.0.1:{profile.https_port}", ssl_context=context)


def test_the_guide_builds_a_pair_that_serves_the_primarys_passwords_read_only(hosts):
    primary, secondary = (load_profile(hosts[name].node_dir) for name in ("vault-a", "vault-b"))
    admin_password = (primary.secrets_dir / "admin_password").read_text().strip()
    writer = https_client(hosts["vault-a"])
    writer.login("admin", admin_password)
    _, account_id = writer.create_account(resource="core-router", login_name="enable",
                                          password="R0uter-secret!")
    position = primary.mariadb.query("SELECT @@gtid_binlog_pos")[0][0]
    assert secondary.mariadb.query("SELECT MASTER_GTID_WAIT(%s, 30)", (position,))[0][0] == 0

    reader = https_client(hosts["vault-b"])
    reader.login("admin", admin_password)
    status, body, _ = reader.post(f"/accounts/{account_id}/reveal/", {"reason": "drill"})
    assert status == 200 and "R0uter-secret!" in body
    assert 'id="read-only-banner"' in body
    status, _, _ = reader.post("/resources/new/", {"name": "nope", "resource_type": "server"})
    assert status == 503


def test_the_services_run_as_their_own_users_and_the_master_key_is_theirs_alone(hosts):
    for name, host in hosts.items():
        profile = load_profile(host.node_dir)
        key = profile.master_key_file.stat()
        assert (key.st_uid, oct(key.st_mode & 0o777)) == (
            _uid("strongroom"), "0o400"), name
        owners = {_process_user(pid_file) for pid_file in profile.run_dir.glob("*.pid")}
        assert owners == {"strongroom"}, name
        assert _process_user(profile.mariadb.pid_file) == "mysql", name


def _uid(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


def _process_user(pid_file: Path) -> str:
    pid = pid_file.read_text().strip()
    return pwd.getpwuid(Path(f"/proc/{pid}").stat().st_uid).pw_name


def test_installing_again_keeps_every_secret_and_key_and_the_pair_serving(hosts):
    secrets = {name: {path.name: path.read_bytes()
                      for path in load_profile(host.node_dir).secrets_dir.iterdir()}
               for name, host in hosts.items()}
    for host_name, command in guide_commands():
        if " install " in command:
            run_on(hosts, host_name, command)
    for name, host in hosts.items():
        profile = load_profile(host.node_dir)
        assert {path.name: path.read_bytes()
                for path in profile.secrets_dir.iterdir()} == secrets[name], name
    status = run_on(hosts, "vault-b", "/opt/strongroom/scripts/strongroom-node manage ha_status")
    assert "healthy: replicating and fresh" in status


def test_no_anonymous_database_account_is_left_to_shadow_the_named_ones(hosts):
    for name, host in hosts.items():
        mariadb = load_profile(host.node_dir).mariadb
        assert mariadb.query("SELECT Host FROM mysql.user WHERE User = ''") == [], name
