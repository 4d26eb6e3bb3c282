"""Issue 12: every page's navigation asks for the user's permissions; the backend asks
in one query, and its answer is Django's own (own permissions, groups', superuser,
inactive) to the letter."""
import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from accounts.backends import NodeModelBackend
from accounts.roles import ADMINISTRATOR, PASSWORD_ADMINISTRATOR
from tests.support import handler_reads

pytestmark = pytest.mark.django_db(databases="__all__")


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no permission cache from an earlier question


def _django(user: User) -> set[str]:
    return ModelBackend().get_all_permissions(_fresh(user))


@pytest.mark.parametrize("groups, own, active, superuser", [
    ([], [], True, False),
    ([ADMINISTRATOR], [], True, False),
    ([PASSWORD_ADMINISTRATOR], ["audit.view_auditevent"], True, False),
    ([ADMINISTRATOR, PASSWORD_ADMINISTRATOR], ["vault.add_resource"], True, False),
    ([], ["accounts.manage_users"], True, False),
    ([ADMINISTRATOR], ["audit.view_auditevent"], False, False),
    ([], [], True, True),
])
def test_the_one_query_answer_is_djangos(groups, own, active, superuser):
    mallory = User.objects.create_user("mallory", is_active=active, is_superuser=superuser)
    mallory.groups.add(*Group.objects.filter(name__in=groups))
    for name in own:
        app_label, codename = name.split(".")
        mallory.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                            codename=codename))
    Group.objects.create(name="Bystanders").permissions.add(
        Permission.objects.get(codename="manage_users"))  # a group mallory is not in
    expected = _django(mallory)
    assert NodeModelBackend().get_all_permissions(_fresh(mallory)) == expected
    if active and not superuser:
        assert expected == set(own) | {p for g in groups for p in _role_permissions(g)}


def _role_permissions(role: str) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in Permission.objects.filter(
        group__name=role).values_list("content_type__app_label", "codename")}


def test_a_page_asks_for_the_permissions_once_in_one_query(alice):
    alice = _fresh(alice)
    with CaptureQueriesContext(connections[router.db_for_read(Permission)]) as queries:
        assert alice.has_perm("audit.view_auditevent")
        assert alice.has_perm("accounts.manage_users")
        assert not alice.has_perm("vault.delete_account")
    assert len(queries) == 1


def test_the_permission_query_reads_the_users_rows_not_every_permission(alice):
    alice, count = _fresh(alice), Permission.objects.count()
    before = handler_reads(router.db_for_read(Permission))
    assert alice.get_all_permissions()
    read = handler_reads(router.db_for_read(Permission)) - before - 1
    # An IN (… UNION …) form read ~850 rows here: every permission, tested one by one.
    assert read < 40 < count
