"""Issue 8 item 4: rotating the master key while the vault serves. Until
`--finish`, a process started with either key opens everything; a process that
holds only the old key opens values re-sealed meanwhile; an interrupted run
resumes; after `--finish` only the new key starts, and the old one is refused
with a reason."""
from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import TotpDevice
from tests.support import run_manage, second_waits_for_first, start_web_process
from vault import keyring, sealing
from vault.models import Account, PasswordVersion
from vault.services import (account_create, account_notes, account_password, password_change,
                            version_password)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__")


class Interrupted(Exception):
    """Stands for a kill: the command stops between two batches."""


class InterruptAfter(StringIO):
    """Command output that interrupts the command after `batches` progress lines."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.batches = batches

    def write(self, text: str) -> int:
        if text.startswith("\r["):
            if self.batches == 0:
                raise Interrupted()
            self.batches -= 1
        return super().write(text)


def assert_starts(key_path: Path) -> None:
    result = start_web_process(key_file=key_path, test_databases=True)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture
def new_key_path(tmp_path) -> Path:
    path = tmp_path / "new.key"
    keyring.new_key_file(path)
    return path


@pytest.fixture
def vault_in_use(alice, server, root_account, master_key_path, settings) -> list[Account]:
    """A few accounts, a password history and a TOTP seed, under the configured key."""
    from accounts.services import totp_device_start

    settings.MASTER_KEY_FILE = master_key_path
    assert_starts(master_key_path)
    accounts = [root_account] + [
        account_create(user=alice, resource=server, login_name=f"svc-{n}",
                       password=f"pw-{n}-A", notes=f"note {n}") for n in range(3)]
    for n, account in enumerate(accounts):
        password_change(user=alice, account=account, new_password=f"pw-{n}-B")
    totp_device_start(user=alice)
    return accounts


def assert_every_value_opens(accounts: list[Account]) -> None:
    for n, account in enumerate(accounts):
        account = Account.objects.get(pk=account.pk)
        assert account_password(account) == f"pw-{n}-B"
        assert account_notes(account) == ("rack 4" if n == 0 else f"note {n - 1}")
        assert version_password(account.history.get()) in {"s3cr3t-Root-pw!", f"pw-{n - 1}-A"}
    assert len(TotpDevice.objects.get().bin_key) == 20


def key_ids_in_use() -> set[str]:
    return {key_id for model in (Account, PasswordVersion, TotpDevice)
            for key_id in model.objects.values_list("key_id", flat=True)}


def test_a_rotated_vault_starts_with_either_key_until_finished_then_only_the_new(
        vault_in_use, master_key_path, new_key_path, settings):
    out = StringIO()
    call_command("master_key_rotate", str(new_key_path), "--batch-size", "2", stdout=out)
    assert_starts(master_key_path)  # a node not yet restarted may restart with the old key
    assert_starts(new_key_path)
    assert "[####" in out.getvalue() and "--finish" in out.getvalue()

    settings.MASTER_KEY_FILE = new_key_path  # the runbook: configure the new key, restart
    call_command("master_key_rotate", "--finish", stdout=StringIO())
    assert_starts(new_key_path)
    refusal = start_web_process(key_file=master_key_path,
                                test_databases=True).stderr.strip().splitlines()[-1]
    assert refusal.startswith("strongroom: refusing to start: ") and "retired" in refusal
    assert len(key_ids_in_use()) == 1

    from vault.startup import start_up

    start_up(new_key_path)  # this process now holds only the new key and its data key
    assert_every_value_opens(vault_in_use)


def test_a_process_holding_only_the_old_key_opens_values_resealed_by_another_node(
        vault_in_use, master_key_path, new_key_path, alice):
    """The other node's web processes keep the old key in memory during the rotation."""
    result = run_manage("master_key_rotate", str(new_key_path), test_databases=True,
                        env={"STRONGROOM_MASTER_KEY_FILE": str(master_key_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert_every_value_opens(vault_in_use)
    password_change(user=alice, account=vault_in_use[0], new_password="pw-0-B")
    assert account_password(Account.objects.get(pk=vault_in_use[0].pk)) == "pw-0-B"


@pytest.mark.parametrize("batches_before_the_kill", [0, 3])
def test_an_interrupted_rotation_leaves_both_keys_working_and_resumes(
        vault_in_use, master_key_path, new_key_path, batches_before_the_kill, settings):
    with pytest.raises(Interrupted):
        call_command("master_key_rotate", str(new_key_path), "--batch-size", "1",
                     stdout=InterruptAfter(batches_before_the_kill))
    assert_starts(master_key_path)
    assert_starts(new_key_path)
    with pytest.raises(Interrupted):  # interrupted twice
        call_command("master_key_rotate", str(new_key_path), "--batch-size", "1",
                     stdout=InterruptAfter(1))
    call_command("master_key_rotate", str(new_key_path), stdout=StringIO())
    settings.MASTER_KEY_FILE = new_key_path
    call_command("master_key_rotate", "--finish", stdout=StringIO())
    assert_starts(new_key_path)
    assert len(key_ids_in_use()) == 1
    assert_every_value_opens(vault_in_use)


def test_a_vault_from_before_data_keys_opens_and_rotates_its_values_away(
        alice, server, master_key_path, new_key_path, settings):
    """Values sealed directly under the master key (and its KeyCheck row) still open:
    start-up treats that master key as a data key under its own id."""
    from vault import crypto
    from vault.models import DataKey, KeyCheck

    master = keyring.read_key_file(master_key_path)
    account = account_create(user=alice, resource=server, login_name="old", password="x",
                             notes="")
    DataKey.objects.all().delete()  # the database as it was before data keys
    record = f"account:{account.pk}"
    Account.objects.filter(pk=account.pk).update(
        key_id=master.key_id, notes_ct=crypto.encrypt("", key=master, record=record,
                                                       field="notes"),
        password_ct=crypto.encrypt("legacy-pw", key=master, record=record, field="password"))
    KeyCheck.objects.create(key_id=master.key_id, check_ct=crypto.encrypt(
        "strongroom key check", key=master, record="keycheck", field=master.key_id))
    settings.MASTER_KEY_FILE = master_key_path
    assert_starts(master_key_path)
    assert not KeyCheck.objects.exists()
    assert account_password(Account.objects.get(pk=account.pk)) == "legacy-pw"

    call_command("master_key_rotate", str(new_key_path), stdout=StringIO())
    settings.MASTER_KEY_FILE = new_key_path
    call_command("master_key_rotate", "--finish", stdout=StringIO())
    assert Account.objects.get(pk=account.pk).key_id != master.key_id
    from vault.startup import start_up

    start_up(new_key_path)
    assert account_password(Account.objects.get(pk=account.pk)) == "legacy-pw"


def test_a_password_change_meeting_a_reseal_batch_waits_for_it_and_does_not_deadlock(
        vault_in_use, new_key_path, alice):
    """A reseal batch locks its rows by primary key, then moves their key_id index
    entries. A change that reached the row through the key_id index (MariaDB's choice
    for `id = … AND key_id = …`) held that entry while it waited for the row: a
    deadlock, answered with a 500 during a rotation."""
    from vault.rotation import _reseal_batch_once, rotation_begin

    current = rotation_begin(new_key=keyring.read_key_file(new_key_path))
    account = vault_in_use[0]
    errors = second_waits_for_first(
        # The batch's own first lock on the row, then the batch itself.
        lambda: Account.objects.select_for_update().get(pk=account.pk),
        lambda: password_change(user=alice, account=Account.objects.get(pk=account.pk),
                                new_password="pw-0-C"),
        then=lambda: _reseal_batch_once(Account, dict(sealing.sealed_models())[Account],
                                        batch_size=10))
    assert errors == []
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.key_id == current.key_id
    assert account_password(fresh) == "pw-0-C"
    assert version_password(fresh.history.order_by("-replaced_at").first()) == "pw-0-B"


def test_a_second_rotation_to_another_key_is_refused_until_the_first_is_finished(
        vault_in_use, new_key_path, tmp_path):
    from django.core.management.base import CommandError

    call_command("master_key_rotate", str(new_key_path), stdout=StringIO())
    other = tmp_path / "other.key"
    keyring.new_key_file(other)
    with pytest.raises(CommandError, match="is not finished"):
        call_command("master_key_rotate", str(other), stdout=StringIO())


def test_the_rotation_runs_on_the_primary_only(settings, new_key_path):
    from django.core.management.base import CommandError

    settings.NODE_ROLE = "secondary"
    with pytest.raises(CommandError, match="on the primary"):
        call_command("master_key_rotate", str(new_key_path), stdout=StringIO())
