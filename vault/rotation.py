"""Master key rotation while every node keeps serving (envelope encryption).

Phase 1, `rotation_begin` + `reseal_all`, run with the old key configured: one
transaction makes a new current data key wrapped by the old AND the new master
key, and wraps every older data key by the new master key too; then every value
not under the current data key is re-sealed in batches until a pass finds none.
Processes still holding only the old key meet the new data key id and unwrap it
with the old key (vault.datakeys.data_key), so nothing fails while it runs.

Phase 2, `rotation_finish`, run after both nodes restarted with the new key:
re-seal stragglers, then retire the old master key (delete its wraps) and the
data keys no value uses. Every step is idempotent and any prefix of it leaves
each value under a data key that both keys (or, after phase 2, the new key) open.
"""
from __future__ import annotations

from typing import Callable

from django.db import OperationalError, transaction

from audit.services import Action, audit_record
from vault import datakeys, keyring, sealing
from vault.models import DataKey, DataKeyWrap, RetiredMasterKey

Progress = Callable[[int, int], None]
DEADLOCK_RETRIES = 5


class RotationError(Exception):
    """The rotation cannot go on; the message says what the operator should do."""


@transaction.atomic
def rotation_begin(*, new_key: keyring.MasterKey) -> keyring.DataKey:
    """Make (or, on a rerun, find) the rotation's data key; returns it."""
    old_key = keyring.master_key()
    datakeys.lock_current_for_update()  # first, through the path writers lock it by
    keys = list(DataKey.objects.select_for_update().order_by("created_at"))
    current = next((k for k in keys if k.is_current), None)
    if current is not None and current.rotating_to == new_key.key_id:
        return datakeys.data_key(current.id)  # a rerun: the rotation already began
    if current is not None and current.rotating_to:
        # Its key could not open a data key made now: finish that rotation first.
        raise RotationError(f"a rotation to master key {current.rotating_to} is not finished: "
                            f"rerun it with that key file, or finish it (--finish)")
    if new_key.key_id == old_key.key_id:
        raise RotationError(f"the new key (id {new_key.key_id}) is already the configured "
                            f"master key: give a key made with master_key_create")
    # Every data key (old ones too) opens with the new key, so a node restarted with
    # it before the rotation is finished still opens whatever it meets.
    for key in keys:
        datakeys.add_wrap(datakeys.data_key(key.id), master=new_key)
    DataKey.objects.filter(is_current=True).update(is_current=None)
    fresh = keyring.DataKey.new()
    DataKey.objects.create(id=fresh.key_id, is_current=True, rotating_to=new_key.key_id)
    datakeys.add_wrap(fresh, master=old_key)
    datakeys.add_wrap(fresh, master=new_key)
    keyring.remember(fresh)
    audit_record(action=Action.KEY_ROTATE, actor_name="system",
                 detail={"phase": "begin", "new_key_id": new_key.key_id})
    return fresh


def stale_values() -> int:
    current = DataKey.objects.get(is_current=True).id
    return sum(model.objects.exclude(key_id=current).count()
               for model, _ in sealing.sealed_models())


def reseal_all(*, batch_size: int = 500, on_progress: Progress = lambda done, total: None) -> int:
    """Re-seal every value not under the current data key, until a pass finds none."""
    total, done = stale_values(), 0
    while True:
        moved = 0
        for model, fields in sealing.sealed_models():
            while batch := _reseal_batch(model, fields, batch_size):
                moved += batch
                done += batch
                on_progress(done, max(total, done))
        if not moved:
            return done


def _reseal_batch(model, fields: tuple[str, ...], batch_size: int) -> int:
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return _reseal_batch_once(model, fields, batch_size)
        except OperationalError as exc:
            # The database chose this batch as a deadlock victim: nothing was written.
            if exc.args[0] not in (1205, 1213) or attempt == DEADLOCK_RETRIES - 1:
                raise
    return 0


@transaction.atomic
def _reseal_batch_once(model, fields: tuple[str, ...], batch_size: int) -> int:
    current = sealing.current_data_key()
    # Pick rows without locking, then lock them by primary key, in the order writers
    # lock an account (row, then its key_id index entry): locking through the key_id
    # index would take the two in the opposite order and deadlock with a writer.
    pks = list(model.objects.exclude(key_id=current.key_id).order_by("pk")
               .values_list("pk", flat=True)[:batch_size])
    rows = [row for row in model.objects.select_for_update().filter(pk__in=pks).order_by("pk")
            if row.key_id != current.key_id]
    for row in rows:
        values = {field: sealing.open_field(row, field) for field in fields}
        sealing.seal_row(row, values, key=current)
    model.objects.bulk_update(rows, [*(f"{field}_ct" for field in fields), "key_id"])
    return len(pks)


def rotation_finish(*, batch_size: int = 500,
                    on_progress: Progress = lambda done, total: None) -> int:
    """Retire every master key but this process's own; returns values re-sealed."""
    master = keyring.master_key()
    current = DataKey.objects.get(is_current=True)
    if current.rotating_to not in ("", master.key_id):
        raise RotationError(
            f"the rotation moves to master key {current.rotating_to}, but this process "
            f"runs with {master.key_id}: configure the new key file, restart, and rerun")
    done = 0
    while True:
        done += reseal_all(batch_size=batch_size, on_progress=on_progress)
        with transaction.atomic():
            datakeys.lock_current_for_update()  # writers wait from here
            keys = list(DataKey.objects.select_for_update())
            if stale_values():
                continue  # a writer sealed under an older key meanwhile: another pass
            _retire_all_but(master, keys=keys, values=done)
            return done


def _retire_all_but(master: keyring.MasterKey, *, keys: list[DataKey], values: int) -> None:
    retired = set(DataKeyWrap.objects.exclude(master_key_id=master.key_id)
                  .values_list("master_key_id", flat=True))
    DataKeyWrap.objects.exclude(master_key_id=master.key_id).delete()
    DataKey.objects.filter(pk__in=[k.pk for k in keys if not k.is_current]).delete()
    DataKey.objects.filter(is_current=True).update(rotating_to="")
    for key_id in retired:
        RetiredMasterKey.objects.get_or_create(key_id=key_id)
    RetiredMasterKey.objects.filter(key_id=master.key_id).delete()  # rotated back to it
    audit_record(action=Action.KEY_ROTATE, actor_name="system",
                 detail={"phase": "finish", "new_key_id": master.key_id,
                         "retired_key_ids": sorted(retired), "values": values})


def master_key_rotate(*, new_key: keyring.MasterKey, batch_size: int = 500,
                      on_progress: Progress = lambda done, total: None) -> int:
    """Phase 1; safe to rerun after an interruption."""
    rotation_begin(new_key=new_key)
    return reseal_all(batch_size=batch_size, on_progress=on_progress)
