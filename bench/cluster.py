"""The benchmark's own HA pair, built like `make run` builds one, under var/bench/,
and its single node: one standalone node, built by the same installer steps, under
var/bench-single/."""
from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from localservices.installer import install, stop
from localservices.linkproxy import LinkProxy
from localservices.node import ROOT, VAR, Profile, services_up
from localservices.process import free_port
from localservices.processes import PYTHON, manage, node_environment, start_processes
from localservices.stack import loopback_pair, pair_down, prepare_secondary

BENCH_DIR = VAR / "bench"
SINGLE_DIR = VAR / "bench-single"
PACK_DIR = VAR / "bench-pack"


def seed(profile: Profile, accounts: int) -> None:
    result = subprocess.run([PYTHON, "-m", "bench.seed", "--accounts", str(accounts)],
                            cwd=ROOT, env=node_environment(profile), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed: {result.stderr[-800:]}")


@dataclass
class BenchPair:
    primary: Profile
    secondary: Profile
    link: LinkProxy
    token: str
    account_ids: list[str]

    def url(self, profile: Profile) -> str:
        return f"http://127.0.0.1:{profile.web_port}"

    def wait_replicated(self, timeout: float = 60) -> None:
        position = self.primary.mariadb.query("SELECT @@gtid_binlog_pos")[0][0]
        waited = self.secondary.mariadb.query("SELECT MASTER_GTID_WAIT(%s, %s)",
                                              (position, timeout))[0][0]
        if waited != 0:
            raise RuntimeError("the secondary did not catch up")

    def close(self) -> None:
        self.link.close()
        pair_down(self.primary, self.secondary)


def admin_token(profile: Profile) -> str:
    output = manage(profile, "api_token_create", "--user", "admin", "--name", "bench")
    return output.strip().splitlines()[-1]


def account_ids(profile: Profile) -> list[str]:
    return [str(row[0]) for row in
            profile.mariadb.query("SELECT id FROM strongroom.vault_account")]


def node_facts(profile: Profile) -> dict:
    """What makes two nodes' figures comparable: the role the node serves in (its own
    answer) and its database's durability, read from the running server."""
    with urllib.request.urlopen(f"http://127.0.0.1:{profile.web_port}/health/live",
                                timeout=10) as response:
        role = json.load(response)["role"]
    names = ("log_bin", "sync_binlog", "innodb_flush_log_at_trx_commit", "binlog_format")
    values = profile.mariadb.query("SELECT " + ", ".join(f"@@{name}" for name in names))[0]
    return {"role": role, **dict(zip(names, values))}


def audit_counts(profile: Profile) -> dict[str, int]:
    """The node's audit rows of retrievals and password changes: each one measured
    must have left its row (the peer's counterpart: OpenBao's audit log lines)."""
    rows = profile.mariadb.query(
        "SELECT action, COUNT(*) FROM strongroom.audit_auditevent "
        "WHERE action IN ('password_reveal', 'password_change') GROUP BY action")
    return {"password_reveal": 0, "password_change": 0, **dict(rows)}


@dataclass
class BenchNode:
    """One standalone node: no pack, no secondary applying its changes on the same
    cores; the like-for-like peer of the one OpenBao node. The workloads take it
    where they take the pair (url, token, account_ids)."""
    node: Profile
    token: str
    account_ids: list[str]

    def url(self, profile: Profile) -> str:
        return f"http://127.0.0.1:{profile.web_port}"

    def close(self) -> None:
        stop(self.node)


def build_single(*, accounts: int, base: Path = SINGLE_DIR, server_id: int = 61) -> BenchNode:
    """Installed as a primary is (the installer's `install`, same durable MariaDB, web,
    worker and beat) and never paired: it serves as standalone. Seeded like the pair."""
    shutil.rmtree(base, ignore_errors=True)
    node = Profile("bench-single", mariadb_port=free_port(), redis_port=free_port(),
                   web_port=free_port(), server_id=server_id, base_dir=base,
                   node_name="single.strongroom.test")
    try:
        install(node)
        seed(node, accounts)
        return BenchNode(node, admin_token(node), account_ids(node))
    except BaseException:
        stop(node)
        raise


def build_pair(*, accounts: int, base: Path = BENCH_DIR, tag: str = "pair",
               server_id: int = 31, zero_data_loss: bool = False) -> BenchPair:
    """A seeded pair with an API token of the admin's; the secondary replicates through
    a LinkProxy. Everything under `base` is thrown away first."""
    shutil.rmtree(base, ignore_errors=True)
    primary, secondary = loopback_pair(base, server_id=server_id, tag=tag,
                                       zero_data_loss=zero_data_loss)
    link = None
    try:
        install(primary)
        seed(primary, accounts)
        link = LinkProxy(primary.mariadb_port)
        prepare_secondary(secondary, primary, primary_port=link.port)
        start_processes(primary)
        start_processes(secondary)
        pair = BenchPair(primary, secondary, link, admin_token(primary),
                         account_ids(primary))
        pair.wait_replicated()
        return pair
    except BaseException:  # half a pair must not outlive the bench
        if link is not None:
            link.close()
        pair_down(primary, secondary)
        raise


def pack_profiles(tag: str) -> tuple[Profile, Profile]:
    """Emptied, under var/bench-pack/: the quick run builds them while the bench
    pair's build empties var/bench/."""
    profiles = loopback_pair(PACK_DIR, server_id=33, tag=tag)
    for profile in profiles:
        shutil.rmtree(profile.base_dir, ignore_errors=True)
    return profiles


def install_for_pack(primary: Profile, secondary: Profile) -> None:
    """A standalone primary (migrated, admin) and an empty secondary, for pack timing;
    the caller tears both down, also when this fails half-way."""
    install(primary)
    services_up(secondary)
    shutil.copy2(primary.master_key_file, secondary.master_key_file)
