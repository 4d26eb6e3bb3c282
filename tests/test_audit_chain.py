"""R-A3, R-A4, issue 8 items 12, 13, 19: the seals are keyed, a truncated tail, an
inserted row, an edited or deleted seal are reported, and a transaction that
commits late is sealed later instead of being reported as tampering."""
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audit.integrity import GENESIS_HASH, event_hash, verify_trail
from audit.models import AuditEvent, AuditSeal, AuditSealKey, SealWitness
from audit.services import audit_record, audit_seal
from audit.tasks import seal_audit_trail
from vault import keyring, services
from vault.models import DataKey
from vault.rotation import master_key_rotate, rotation_finish
from vault.startup import start_up

pytestmark = pytest.mark.django_db(databases="__all__")
Action = AuditEvent.Action


def _reveals_then_seal(alice, account, *reasons: str) -> AuditSeal:
    for reason in reasons:
        services.password_reveal(user=alice, account=account, reason=reason)
    seal = audit_seal(horizon_seconds=0)
    assert seal is not None
    return seal


def _broken(match: str) -> None:
    report = verify_trail()
    assert not report.ok, "the tampered trail verified as intact"
    assert match in report.problem
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit_verify", stdout=StringIO())


def test_a_chain_rebuilt_with_plain_sha256_by_someone_without_the_key_is_refused(
        alice, root_account):
    _reveals_then_seal(alice, root_account, "one", "two", "three")
    # Someone with the database but not the master key rewrites a row, fixes its
    # hash, and rebuilds the seal the way an unkeyed chain would be built.
    victim = AuditEvent.objects.filter(reason="two").values().get()
    victim["actor"] = "somebody-else"
    AuditEvent.objects.filter(pk=victim["id"]).update(actor="somebody-else",
                                                      row_hash=event_hash(victim))
    seal = AuditSeal.objects.get()
    rows = list(AuditEvent.objects.filter(id__gte=seal.first_event_id, id__lte=seal.last_event_id)
                .order_by("id").values_list("id", "row_hash"))
    digest = hashlib.sha256(GENESIS_HASH.encode())
    for event_id, row_hash in rows:
        digest.update(f"|{event_id}:{row_hash}".encode())
    AuditSeal.objects.filter(pk=seal.pk).update(seal_hash=digest.hexdigest())
    _broken("is broken")


def test_deleting_the_newest_seal_and_its_rows_is_reported_as_truncation(alice, root_account):
    _reveals_then_seal(alice, root_account, "one", "two")
    newest = _reveals_then_seal(alice, root_account, "three", "four")
    AuditEvent.objects.filter(id__gte=newest.first_event_id).delete()
    AuditSeal.objects.filter(pk=newest.pk).delete()
    _broken("truncated")


def test_deleting_only_the_newest_seal_is_reported(alice, root_account):
    _reveals_then_seal(alice, root_account, "one")
    newest = _reveals_then_seal(alice, root_account, "two")
    AuditSeal.objects.filter(pk=newest.pk).delete()
    _broken("truncated")


def test_an_inserted_row_in_a_sealed_range_is_reported(alice, root_account):
    services.password_reveal(user=alice, account=root_account, reason="one")
    with pytest.raises(RuntimeError):  # a transaction that rolls back leaves an id unused
        with transaction.atomic():
            audit_record(action=Action.LOGIN, actor=alice)
            raise RuntimeError
    services.password_reveal(user=alice, account=root_account, reason="three")
    seal = audit_seal(horizon_seconds=0)
    used = set(AuditEvent.objects.values_list("id", flat=True))
    unused = next(i for i in range(seal.first_event_id, seal.last_event_id) if i not in used)
    forged = audit_record(action=Action.LOGIN, actor=alice, reason="was never here")
    AuditEvent.objects.filter(pk=forged.pk).update(id=unused)
    _broken(f"audit event {unused} was inserted")


def test_an_edited_seal_is_reported(alice, root_account):
    seal = _reveals_then_seal(alice, root_account, "one", "two")
    AuditSeal.objects.filter(pk=seal.pk).update(event_count=1)
    _broken(f"seal {seal.pk}")


def test_an_edited_seal_hash_is_reported(alice, root_account):
    seal = _reveals_then_seal(alice, root_account, "one", "two")
    AuditSeal.objects.filter(pk=seal.pk).update(seal_hash="f" * 64)
    _broken(f"seal {seal.pk}")


def test_a_deleted_middle_seal_is_reported(alice, root_account):
    _reveals_then_seal(alice, root_account, "one")
    middle = _reveals_then_seal(alice, root_account, "two")
    _reveals_then_seal(alice, root_account, "three")
    AuditSeal.objects.filter(pk=middle.pk).delete()
    _broken("does not follow the seal before it")


def test_a_secondary_witnesses_the_primarys_seals_and_reports_their_truncation(
        alice, root_account, settings):
    newest = _reveals_then_seal(alice, root_account, "one", "two")
    SealWitness.objects.all().delete()  # the secondary's local schema starts empty
    settings.NODE_ROLE = "secondary"
    seal_audit_trail()  # its beat task witnesses the seals replication brought
    assert SealWitness.objects.filter(trail="trail", seal_id=newest.pk).exists()
    settings.NODE_ROLE = "primary"  # someone truncates the primary; the deletes replicate
    AuditEvent.objects.filter(id__gte=newest.first_event_id).delete()
    AuditSeal.objects.filter(pk=newest.pk).delete()
    settings.NODE_ROLE = "secondary"
    with pytest.raises(CommandError, match="truncated: seal"):
        call_command("audit_verify", stdout=StringIO())


def test_master_key_rotation_reseals_the_seal_key_and_the_trail_still_verifies(
        tmp_path, alice, root_account):
    _reveals_then_seal(alice, root_account, "before rotation")
    new_path = tmp_path / "new.key"
    keyring.new_key_file(new_path)
    new_key = keyring.read_key_file(new_path)
    master_key_rotate(new_key=new_key)
    assert AuditSealKey.objects.get().key_id == DataKey.objects.get(is_current=True).id
    start_up(new_path)  # a fresh process knows only the new key
    rotation_finish()
    root_account.refresh_from_db()
    _reveals_then_seal(alice, root_account, "after rotation")
    report = verify_trail()
    assert report.ok and report.seals_checked == 2 and report.unsealed_events == 0
