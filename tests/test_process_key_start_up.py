"""R-V3 for the long-running processes: a Celery worker without this database's key
refuses to start with one clear line; a gunicorn worker respawned after the key file
was deleted still serves reveals (the master process read the key before forking)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from localservices.process import free_port, stop_pid
from localservices.node import ROOT
from tests.support import process_environment, start_web_process, wait_until
from vault import keyring

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__")


def key_environment(key_path: Path) -> dict[str, str]:
    """The test's settings, on the test databases, with this key configured."""
    return process_environment(test_databases=True,
                               env={"STRONGROOM_MASTER_KEY_FILE": str(key_path)})


def start_celery_worker(key_path: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "celery", "-A", "strongroom", "worker", "--pool", "solo",
               "--loglevel", "WARNING", "--hostname", f"keytest{os.getpid()}@localhost"]
    try:
        return subprocess.run(command, cwd=ROOT, env=key_environment(key_path),
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError("the worker started and ran instead of refusing: "
                             f"{expired.stderr!r}") from None


def refusal_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("strongroom: refusing to start: ")]
    assert lines, result.stderr
    return lines[-1]


def test_a_celery_worker_without_its_key_file_refuses_to_start(tmp_path):
    line = refusal_line(start_celery_worker(tmp_path / "nowhere.key"))
    assert "does not exist" in line


def test_a_celery_worker_with_another_vaults_key_refuses_to_start(tmp_path, master_key_path):
    enrolled = start_web_process(key_file=master_key_path, test_databases=True)
    assert enrolled.returncode == 0, enrolled.stderr  # the vault's own key is enrolled
    wrong = tmp_path / "wrong.key"
    keyring.new_key_file(wrong)
    line = refusal_line(start_celery_worker(wrong))
    assert "not this database's key" in line
    assert wrong.read_text().split(":", 1)[1].strip() not in line


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(child) for child in path.read_text().split()} if path.exists() else set()


def _reveal(port: int, account_id, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/accounts/{account_id}/password/",
        headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}
    except OSError:  # not listening (yet)
        return 0, {}


def test_a_web_worker_respawned_after_the_key_file_was_deleted_still_serves_reveals(
        tmp_path, master_key_path, alice, root_account):
    from accounts.services import api_token_create

    _, token = api_token_create(user=alice, name="respawn test")
    key_copy = tmp_path / "master.key"
    key_copy.write_bytes(master_key_path.read_bytes())
    key_copy.chmod(0o400)
    port = free_port()
    # The command the node runs (localservices.stack), from the project directory.
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "strongroom.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
        cwd=ROOT, env=key_environment(key_copy), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until(lambda: _children(web.pid) and _reveal(port, root_account.pk, token)[0]
                    == 200, timeout=60, what="the web server to answer")
        key_copy.unlink()  # the operator takes the key's device offline
        first_worker = _children(web.pid)
        os.kill(next(iter(first_worker)), signal.SIGKILL)
        wait_until(lambda: _children(web.pid) - first_worker or web.poll() is not None,
                    timeout=30, what="a new worker")
        assert web.poll() is None, "the web server exited when its worker was respawned"
        status, body = wait_until(
            lambda: (result := _reveal(port, root_account.pk, token))[0] != 0 and result,
            timeout=30, what="a reveal")
        assert (status, body.get("password")) == (200, "s3cr3t-Root-pw!")
    finally:
        stop_pid(web.pid)
