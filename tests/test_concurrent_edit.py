"""An account edit (login name, notes) never undoes a password change that committed
while the edit form was open or while the edit was being saved."""
import pytest

from tests.support import second_waits_for_first
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


def test_an_edit_saved_during_a_password_change_waits_for_it_and_keeps_it(alice, root_account):
    """Two real connections: the change holds the row; the edit must wait, then build on it."""
    page_copy = Account.objects.select_related("resource").get(pk=root_account.pk)
    errors = second_waits_for_first(
        lambda: services.password_change(user=alice, account=Account.objects.get(
            pk=root_account.pk), new_password="changed-concurrently"),
        lambda: services.account_update(user=alice, account=page_copy, login_name="root",
                                        notes="edited concurrently"))
    assert errors == []
    fresh = Account.objects.get(pk=root_account.pk)
    assert services.account_password(fresh) == "changed-concurrently"
    assert services.account_notes(fresh) == "edited concurrently"
    assert fresh.history.count() == 1
