"""A password change replaces the account's sealed columns only if they are as it read
them (issue 12: no locked re-read first); a copy read before another change or edit
still builds on them, and the history keeps every replaced password."""
import threading

import pytest
from django.db import connection, connections, transaction

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


def _lock_waits() -> int:
    """Statements of another connection that write the account row and have not
    finished (same account, so visible without PROCESS)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.processlist "
                       "WHERE id <> CONNECTION_ID() AND command = 'Query' "
                       "AND info LIKE 'UPDATE%%vault_account%%'")
        return cursor.fetchone()[0]


def _wait_for(condition, timeout: float = 10) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("condition not reached")


def test_a_change_waiting_for_another_builds_on_it(alice, root_account):
    """Two real connections: the first change holds the row; the second, from a copy
    read before, waits for it, then replaces the password the first one set."""
    stale = _copy(root_account)
    changed, commit, errors = threading.Event(), threading.Event(), []

    def change_and_hold():
        try:
            with transaction.atomic():
                services.password_change(user=alice, account=_copy(root_account),
                                         new_password="Changed-first-1")
                changed.set()
                commit.wait(20)
        except Exception as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connections.close_all()

    def change_stale():
        try:
            services.password_change(user=alice, account=stale, new_password="Changed-second-2")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=change_and_hold)
    first.start()
    assert changed.wait(20)
    second = threading.Thread(target=change_stale)
    second.start()
    _wait_for(lambda: _lock_waits() >= 1)  # the second change is blocked on the row
    commit.set()
    first.join(20)
    second.join(20)
    assert errors == []
    fresh = Account.objects.get(pk=root_account.pk)
    assert services.account_password(fresh) == "Changed-second-2"
    assert _history(fresh) == sorted(["s3cr3t-Root-pw!", "Changed-first-1"])
