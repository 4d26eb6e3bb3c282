"""An account edit (login name, notes) never undoes a password change that committed
while the edit form was open or while the edit was being saved."""
import threading

import pytest
from django.db import connection, connections, transaction

from vault import services
from vault.models import Account

# transaction=True so each thread commits on its own connection; serialized_rollback puts
# back the role groups the flush empties.
pytestmark = pytest.mark.django_db(databases="__all__", transaction=True, serialized_rollback=True)


def test_an_edit_from_a_page_opened_before_a_password_change_keeps_the_new_password(
        alice, root_account):
    page_copy = Account.objects.select_related("resource").get(pk=root_account.pk)
    services.password_change(user=alice, account=root_account, new_password="changed-meanwhile")
    services.account_update(user=alice, account=page_copy, login_name="root", notes="rack 5")
    fresh = Account.objects.get(pk=root_account.pk)
    assert services.account_password(fresh) == "changed-meanwhile"
    assert services.account_notes(fresh) == "rack 5"


def _lock_waits() -> int:
    """Statements of another connection (same account, so visible without PROCESS)
    that lock or write the account row and have not finished."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.processlist "
                       "WHERE id <> CONNECTION_ID() AND command = 'Query' "
                       "AND info LIKE '%%vault_account%%' "
                       "AND (info LIKE '%%FOR UPDATE%%' OR info LIKE 'UPDATE%%')")
        return cursor.fetchone()[0]


def _wait_for(condition, timeout: float = 10) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("condition not reached")


def test_an_edit_saved_during_a_password_change_waits_for_it_and_keeps_it(alice, root_account):
    """Two real connections: the change holds the row; the edit must wait, then build on it."""
    page_copy = Account.objects.select_related("resource").get(pk=root_account.pk)
    changed, commit, errors = threading.Event(), threading.Event(), []

    def change_and_hold():
        try:
            with transaction.atomic():
                services.password_change(user=alice, account=Account.objects.get(
                    pk=root_account.pk), new_password="changed-concurrently")
                changed.set()
                commit.wait(20)
        except Exception as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connections.close_all()

    def edit():
        try:
            services.account_update(user=alice, account=page_copy, login_name="root",
                                    notes="edited concurrently")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    changer = threading.Thread(target=change_and_hold)
    changer.start()
    assert changed.wait(20)
    editor = threading.Thread(target=edit)
    editor.start()
    _wait_for(lambda: _lock_waits() >= 1)  # the edit is blocked on the changed row
    commit.set()
    changer.join(20)
    editor.join(20)
    assert errors == []
    fresh = Account.objects.get(pk=root_account.pk)
    assert services.account_password(fresh) == "changed-concurrently"
    assert services.account_notes(fresh) == "edited concurrently"
    assert fresh.history.count() == 1
