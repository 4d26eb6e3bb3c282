"""R-V3: the key is read once at start-up; a missing, exposed, damaged or wrong key
stops the process with one clear line; deleting the file after start changes nothing."""
import os
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support import start_web_process
from vault import keyring
from vault.services import password_reveal
from vault.startup import start_up

pytestmark = pytest.mark.django_db(databases="__all__")


def refusal_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("strongroom: refusing to start: "), result.stderr
    return lines[-1]


def test_a_missing_key_refuses_start_up(tmp_path):
    line = refusal_line(start_web_process(key_file=tmp_path / "nowhere.key"))
    assert "does not exist" in line


def test_a_world_readable_key_refuses_start_up(tmp_path):
    path = tmp_path / "master.key"
    keyring.new_key_file(path)
    path.chmod(0o644)
    line = refusal_line(start_web_process(key_file=path))
    assert "mode 0644" in line and "chmod 0400" in line


def test_a_damaged_key_file_refuses_start_up(tmp_path):
    path = tmp_path / "master.key"
    path.write_text("strongroom-key-v1:too-short\n")
    path.chmod(0o400)
    assert "does not hold a 256-bit key" in refusal_line(start_web_process(key_file=path))


def test_a_file_that_is_not_a_key_refuses_start_up(tmp_path):
    path = tmp_path / "master.key"
    path.write_bytes(os.urandom(64))
    path.chmod(0o400)
    assert "not a Strongroom master key file" in refusal_line(start_web_process(key_file=path))


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__")
def test_a_wrong_key_refuses_start_up_of_a_real_process(tmp_path, master_key_path):
    start_up(master_key_path)  # enrols the test key's check value
    wrong = tmp_path / "wrong.key"
    keyring.new_key_file(wrong)
    line = refusal_line(start_web_process(key_file=wrong, test_databases=True))
    assert "not this database's key" in line


def test_the_key_never_appears_in_the_refusal(tmp_path, master_key_path):
    material = master_key_path.read_text().strip().split(":", 1)[1]
    start_up(master_key_path)
    wrong = tmp_path / "wrong.key"
    keyring.new_key_file(wrong)
    with pytest.raises(keyring.MasterKeyError) as error:
        start_up(wrong)
    assert material not in str(error.value) and material not in repr(keyring.read_key_file(master_key_path))


def test_deleting_the_key_file_after_start_keeps_reveals_working(tmp_path, alice, server):
    from vault.services import account_create

    path = tmp_path / "master.key"
    keyring.new_key_file(path)
    start_up(path)
    account = account_create(user=alice, resource=server, login_name="sa", password="pw-1")
    path.unlink()
    assert password_reveal(user=alice, account=account) == "pw-1"


def test_master_key_create_writes_a_0400_file_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "new.key"
    out = StringIO()
    call_command("master_key_create", str(path), stdout=out)
    assert oct(path.stat().st_mode & 0o777) == "0o400"
    assert "Wrote master key" in out.getvalue()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("master_key_create", str(path), stdout=StringIO())
