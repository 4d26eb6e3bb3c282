"""The README's two-host guide, run as written: every command of its shell blocks, in
order, on the host each block names — two nodes on loopback, as root, with the
service users, the node's own MariaDB and Redis, and the TLS proxy. Only what a
one-machine trial must change is changed: the code's place (a copy of this checkout
the service users can read, wherever the clone is), the primary's address, each
node's directory and where `strongroom-node` is linked (on each stand-in host's PATH),
and scp becomes cp between the two stand-in home directories. Then a password made on
the primary is revealed on the secondary over HTTPS, and a write there is refused. A
wrong guide fails this test."""
from __future__ import annotations

import os
import pwd
import re
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from localservices.installer import load_profile
from localservices.node import ROOT
from localservices.process import free_port
from localservices.processes import node_environment
from tests.checkout_copy import copy_checkout, public_directory
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
    code: Path
    node_dir: Path
    home: Path
    bin_dir: Path
    env: dict[str, str]
    # What each of the guide's commands printed here, in order.
    printed: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def localise(self, command: str, other: Host) -> str:
        command = (command.replace("/opt/strongroom", str(self.code))
                   .replace(PRIMARY_ADDRESS, "127.0.0.1")
                   .replace("/var/lib/strongroom", str(self.node_dir)))
        scp = re.fullmatch(r"scp (.+) root@vault-[ab]\.example\.com:", command)
        return f"cp {scp.group(1)} {other.home}/" if scp else command


@pytest.fixture(scope="module")
def hosts():
    # Not the per-user pytest temp dir, nor the clone (maybe under /root, 0700): mysql
    # and strongroom pass through it, and run the code from it as from /opt/strongroom.
    with public_directory("strongroom-readme-") as base:
        code = copy_checkout(base / "opt" / "strongroom")
        made = {name: _host(base / name, code) for name in ("vault-a", "vault-b")}
        try:
            for host_name, command in guide_commands():
                made[host_name].printed[command] = run_on(made, host_name, command)
            yield made
        finally:
            for host in made.values():
                if (host.node_dir / "node.json").exists():
                    subprocess.run([code / "scripts" / "strongroom-node", "stop"],
                                   env=host.env, capture_output=True, timeout=120)


def _host(base: Path, code: Path) -> Host:
    host = Host(code=code, node_dir=base / "node", home=base / "root", bin_dir=base / "bin",
                env={**os.environ, "STRONGROOM_NODE_DIR": str(base / "node"),
                     "STRONGROOM_DB_PORT": str(free_port()),
                     "STRONGROOM_REDIS_PORT": str(free_port()),
                     "STRONGROOM_WEB_PORT": str(free_port()),
                     "STRONGROOM_HTTPS_PORT": str(free_port()),
                     "STRONGROOM_BIND_ADDRESS": "127.0.0.1", "STRONGROOM_WEB_WORKERS": "2",
                     # Its own /usr/local/sbin: the real one is left alone.
                     "STRONGROOM_BIN_DIR": str(base / "bin"),
                     "PATH": f"{base / 'bin'}:{os.environ['PATH']}"})
    host.home.mkdir(parents=True)
    return host


def run_on(hosts: dict[str, Host], host_name: str, command: str, *,
           exit_code: int = 0) -> subprocess.CompletedProcess:
    host = hosts[host_name]
    other = hosts["vault-b" if host_name == "vault-a" else "vault-a"]
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", host.localise(command, other)],
                            cwd=host.home, env=host.env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == exit_code, (f"{host_name}$ {command}\n"
                                            f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


def printed_by(host: Host, words: str) -> str:
    """What the guide's command containing `words` printed on `host`."""
    return next(result.stdout for command, result in host.printed.items() if words in command)


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
    status = run_on(hosts, "vault-b", "strongroom-node manage ha_status").stdout
    assert "healthy: replicating and fresh" in status


def test_no_anonymous_database_account_is_left_to_shadow_the_named_ones(hosts):
    for name, host in hosts.items():
        mariadb = load_profile(host.node_dir).mariadb
        assert mariadb.query("SELECT Host FROM mysql.user WHERE User = ''") == [], name


def test_install_puts_strongroom_node_on_the_path_linked_to_the_installing_code(hosts):
    # The guide types it bare after install, as the runbook does.
    for name, host in hosts.items():
        assert os.readlink(host.bin_dir / "strongroom-node") == str(
            host.code / "scripts" / "strongroom-node"), name


def test_pack_and_join_say_what_comes_next_and_never_ask_for_a_restart_they_did(hosts):
    pack = printed_by(hosts["vault-a"], "strongroom-node pack ")
    assert ("Next, on vault-b.example.com, with a copy of this vault's master key: "
            "ha_install_pack HAPack.zip (strongroom-node join HAPack.zip master.key).") in pack
    join = printed_by(hosts["vault-b"], "strongroom-node join ")
    assert "log in with the primary's accounts and passwords" in join
    for said in (pack, join):
        assert "Restarted" in said or "Started" in said
        assert "Restart this node" not in said and "(or restart)" not in said


def _private_copy_of_the_pack(host: Host) -> Path:
    """The pack the guide copied to vault-b, in a directory only root may enter (as
    root's home is)."""
    private = host.home / "private"
    private.mkdir(mode=0o700, exist_ok=True)
    pack = private / "HAPack.zip"
    pack.write_bytes((host.home / "HAPack.zip").read_bytes())
    return pack


def test_manage_hands_a_pack_root_can_read_over_to_the_service_user(hosts):
    pack = _private_copy_of_the_pack(hosts["vault-b"])
    # Too old for a zero-hour limit: refused once read and verified, changing nothing.
    refused = run_on(hosts, "vault-b", f"strongroom-node manage ha_install_pack {pack} "
                                       f"--max-age-hours 0", exit_code=1)
    assert "more than the allowed 0.0 h" in refused.stderr
    assert "damaged" not in refused.stderr
    assert not (hosts["vault-b"].node_dir / "ha" / "incoming" / "HAPack.zip").exists()


def test_a_pack_its_user_cannot_read_is_called_unreadable_not_damaged(hosts):
    host = hosts["vault-b"]
    pack = _private_copy_of_the_pack(host)
    # manage.py run by the service user itself, with no one handing the pack over.
    result = subprocess.run([host.code / ".venv" / "bin" / "python", "manage.py",
                             "ha_install_pack", str(pack)], cwd=host.code,
                            env=node_environment(load_profile(host.node_dir)),
                            user="strongroom", group="strongroom", extra_groups=[],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"{pack} cannot be read by strongroom, the user this command runs as" in result.stderr
    assert "damaged" not in result.stderr
