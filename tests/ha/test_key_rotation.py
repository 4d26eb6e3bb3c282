"""Issue 8 item 4 on the real pair: the master key is rotated while both nodes serve
reveals and the primary takes password changes. No request fails, both nodes restart
with the new key (the runbook), `--finish` leaves every value under one data key that
only the new key opens, and the old key is then refused with its reason."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest

from localservices.processes import start_processes, stop_processes
from tests.ha.support import WebClient
from tests.support import run_manage, start_web_process, wait_until
from vault.keyring import read_key_file

pytestmark = pytest.mark.ha
SEALED_TABLES = ("vault_account", "vault_passwordversion", "accounts_totpdevice")


class Traffic:
    """People using the API on both nodes: reveals everywhere, password changes on the
    primary. Every answer's status is counted; a 5xx or a dropped request is an error."""

    def __init__(self, pair, token: str, account_ids: list[str]) -> None:
        self.pair, self.account_ids = pair, account_ids
        self.headers = {"Authorization": f"Bearer {token}"}
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.last_password: dict[str, str] = {}
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._reveal, args=(pair.primary,)),
                         threading.Thread(target=self._reveal, args=(pair.secondary,)),
                         threading.Thread(target=self._change)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        wait_until(lambda: sum(self.statuses.values()) >= 20, what="traffic to flow")
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def requests(self) -> int:
        return sum(self.statuses.values())

    def _call(self, node, method: str, account_id: str, body: bytes | None = None):
        headers = {**self.headers, **({"Content-Type": "application/json"} if body else {})}
        try:
            status, text, _ = WebClient(node.url).request(
                method, f"/api/v1/accounts/{account_id}/password/", headers=headers, body=body)
        except OSError as error:
            self.errors.append(f"{node.profile.name} {method}: {error!r}")
            return None, ""
        self.statuses[(node.profile.name, method, status)] += 1
        if status >= 500:
            self.errors.append(f"{node.profile.name} {method} {status}: {text[:300]}")
        return status, text

    def _reveal(self, node) -> None:
        while not self._stop.is_set():
            for account_id in self.account_ids:
                status, _ = self._call(node, "GET", account_id)
                if status != 200 and status is not None and status < 500:
                    self.errors.append(f"{node.profile.name} GET answered {status}")

    def _change(self) -> None:
        while not self._stop.is_set():
            for account_id in self.account_ids:
                password = f"Rotated-{uuid.uuid4().hex[:12]}"
                body = json.dumps({"password": password}).encode()
                status, _ = self._call(self.pair.primary, "POST", account_id, body)
                if status == 200:
                    self.last_password[account_id] = password


def key_ids(node) -> set[str]:
    return {row[0] for table in SEALED_TABLES
            for row in node.sql(f"SELECT DISTINCT key_id FROM strongroom.{table}")}


def start_up_with(node, key_path: Path) -> subprocess.CompletedProcess:
    """A new web process on `node` with this key file configured."""
    return start_web_process(key_file=key_path, node=node.profile)


def restart_with_key(node, new_key: Path) -> None:
    """The runbook on one node: the new key file where the config points, restart."""
    configured = node.profile.master_key_file
    shutil.copy2(new_key, configured.with_suffix(".incoming"))
    os.replace(configured.with_suffix(".incoming"), configured)
    stop_processes(node.profile)
    start_processes(node.profile)


@pytest.fixture
def original_key_restored(pair):
    """The pair is shared: rotate back to the key it was built with (its HA pack is
    signed with that key), the same way, so later tests find it as it was."""
    original = pair.primary.profile.secrets_dir / "original.key"
    shutil.copy2(pair.primary.profile.master_key_file, original)
    yield
    rotated = run_manage("master_key_rotate", str(original), node=pair.primary.profile)
    assert rotated.returncode == 0, rotated.stderr
    pair.wait_replicated()
    for node in (pair.primary, pair.secondary):
        restart_with_key(node, original)
    finished = run_manage("master_key_rotate", "--finish", node=pair.primary.profile)
    assert finished.returncode == 0, finished.stderr
    pair.wait_replicated()


def test_a_key_rotation_while_both_nodes_serve_fails_no_request_and_both_restart_with_the_new_key(
        pair, shared_account, original_key_restored):
    primary, secondary = pair.primary, pair.secondary
    admin = WebClient(primary.url)
    admin.login("admin", primary.admin_password())
    _, body, _ = admin.post("/accounts/tokens/new/", {"name": "rotation traffic"})
    token = body.split('id="raw-token">')[1].split("<")[0]
    account_ids = [shared_account["account_id"]] + [
        admin.create_account(resource=f"rot-{uuid.uuid4().hex[:6]}", login_name="svc",
                             password=f"Start-pw-{n}")[1] for n in range(6)]
    pair.wait_replicated()
    old_key = primary.profile.secrets_dir / "old.key"
    shutil.copy2(primary.profile.master_key_file, old_key)
    new_key = primary.profile.secrets_dir / "new.key"
    assert run_manage("master_key_create", str(new_key), node=primary.profile).returncode == 0
    shutil.copy2(new_key, secondary.profile.secrets_dir / "new.key")  # to both nodes

    with Traffic(pair, token, account_ids) as traffic:
        rotated = run_manage("master_key_rotate", str(new_key),
                             "--batch-size", "2", node=primary.profile)
        assert rotated.returncode == 0, rotated.stderr
        during = traffic.requests()
        wait_until(lambda: traffic.requests() > during + 50, what="traffic after phase 1")
    assert traffic.errors == [], traffic.errors[:5]
    assert {node for node, method, _ in traffic.statuses} == {"primary", "secondary"}

    pair.wait_replicated()
    for node in (primary, secondary):
        restart_with_key(node, new_key)
    with Traffic(pair, token, account_ids) as traffic:
        finished = run_manage("master_key_rotate", "--finish", node=primary.profile)
        assert finished.returncode == 0, finished.stderr
        during = traffic.requests()
        wait_until(lambda: traffic.requests() > during + 50, what="traffic after phase 2")
    assert traffic.errors == [], traffic.errors[:5]

    pair.wait_replicated()
    current = primary.sql("SELECT id FROM strongroom.vault_datakey WHERE is_current")[0][0]
    new_key_id = read_key_file(new_key).key_id
    for node in (primary, secondary):
        assert key_ids(node) == {current}
        wraps = node.sql("SELECT DISTINCT master_key_id FROM strongroom.vault_datakeywrap")
        assert wraps == [(new_key_id,)]
        assert start_up_with(node, node.profile.master_key_file).returncode == 0
        refused = start_up_with(node, old_key)
        assert refused.returncode != 0 and "retired" in refused.stderr, refused.stderr
    reader = WebClient(secondary.url)
    for account_id, password in traffic.last_password.items():
        status, body, _ = reader.request("GET", f"/api/v1/accounts/{account_id}/password/",
                                         headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and json.loads(body)["password"] == password
