"""A password change replaces the account's sealed columns only if they are as it read
them (issue 12: no locked re-read first); a copy read before another change or edit
still builds on them, and the history keeps every replaced password."""
import pytest

from tests.support import second_waits_for_first
from vault import services
from vault.models import Account

# transaction=True so each thread commits on its own connection; serialized_rollback puts
# back the role groups the flush empties.
pytestmark = pytest.mark.django_db(databases="__all__", transaction=True, serialized_rollback=True)


def _history(account: Account) -> list[str]:
    return sorted(services.version_password(v) for v in account.history.all())


def _copy(account: Account) -> Account:
    return Account.objects.select_related("resource").get(pk=account.pk)


def test_a_change_from_a_copy_read_before_another_change_keeps_both_in_the_history(
        alice, root_account):
    stale = _copy(root_account)
    services.password_change(user=alice, account=_copy(root_account),
                             new_password="Changed-meanwhile-1")
    services.account_update(user=alice, account=_copy(root_account), login_name="root",
                            notes="rack 5")
    returned = services.password_change(user=alice, account=stale,
                                        new_password="Changed-last-2")
    fresh = Account.objects.get(pk=root_account.pk)
    assert services.account_password(fresh) == "Changed-last-2"
    assert services.account_notes(fresh) == "rack 5"  # not the stale copy's notes
    assert _history(fresh) == sorted(["s3cr3t-Root-pw!", "Changed-meanwhile-1"])
    assert returned.password_changed_at == fresh.password_changed_at
    assert services.account_notes(returned) == "rack 5"


def test_a_change_waiting_for_another_builds_on_it(alice, root_account):
    """Two real connections: the first change holds the row; the second, from a copy
    read before, waits for it, then replaces the password the first one set."""
    stale = _copy(root_account)
    errors = second_waits_for_first(
        lambda: services.password_change(user=alice, account=_copy(root_account),
                                         new_password="Changed-first-1"),
        lambda: services.password_change(user=alice, account=stale,
                                         new_password="Changed-second-2"))
    assert errors == []
    fresh = Account.objects.get(pk=root_account.pk)
    assert services.account_password(fresh) == "Changed-second-2"
    assert _history(fresh) == sorted(["s3cr3t-Root-pw!", "Changed-first-1"])
