"""The benchmark's own HA pair, built like `make run` builds one, under var/bench/."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from localservices.installer import install
from localservices.linkproxy import LinkProxy
from localservices.node import ROOT, VAR, Profile, services_up
from localservices.processes import PYTHON, manage, node_environment, start_processes
from localservices.stack import loopback_pair, pair_down, prepare_secondary

BENCH_DIR = VAR / "bench"


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


def build_pair(*, accounts: int, base: Path = BENCH_DIR, tag: str = "pair",
               server_id: int = 31, zero_data_loss: bool = False) -> BenchPair:
    """A seeded pair with an API token of the admin's; the secondary replicates through
    a LinkProxy. Everything under `base` is thrown away first."""
    shutil.rmtree(base, ignore_errors=True)
    primary, secondary = loopback_pair(base, server_id=server_id, tag=tag,
                                       zero_data_loss=zero_data_loss)
    install(primary)
    seed(primary, accounts)
    link = LinkProxy(primary.mariadb_port)
    prepare_secondary(secondary, primary, primary_port=link.port)
    start_processes(primary)
    start_processes(secondary)
    token = manage(primary, "api_token_create", "--user", "admin", "--name", "bench")
    token = token.strip().splitlines()[-1]
    ids = [row[0] for row in primary.mariadb.query("SELECT id FROM strongroom.vault_account")]
    pair = BenchPair(primary, secondary, link, token, [str(i) for i in ids])
    pair.wait_replicated()
    return pair


def fresh_primary_and_secondary(tag: str) -> tuple[Profile, Profile]:
    """A standalone primary (migrated, admin) and an empty secondary, for pack timing."""
    primary, secondary = loopback_pair(BENCH_DIR, server_id=31, tag=tag)
    install(primary)
    services_up(secondary)
    shutil.copy2(primary.master_key_file, secondary.master_key_file)
    return primary, secondary
