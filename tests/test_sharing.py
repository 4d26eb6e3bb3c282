"""R-V4: access comes from ownership or a share (user or team; view or modify)."""
import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Team
from vault import selectors, services
from vault.models import Permission

pytestmark = pytest.mark.django_db(databases="__all__")


def test_mallory_sees_nothing_of_alices(client, alice, mallory, root_account, server):
    assert not selectors.resources_for_user(user=mallory).exists()
    client.force_login(mallory)
    assert client.get(f"/resources/{server.pk}/").status_code == 404
    assert client.get(f"/accounts/{root_account.pk}/").status_code == 404
    assert client.post(f"/accounts/{root_account.pk}/reveal/").status_code == 404
    page = client.get("/")
    assert b"db-prod-1" not in page.content


def test_mallory_cannot_reveal_through_the_service(mallory, root_account):
    with pytest.raises(PermissionDenied):
        services.password_reveal(user=mallory, account=root_account)


def test_a_view_share_lets_bob_reveal_but_not_change(alice, bob, server, root_account):
    services.share_grant(user=alice, target=server, grantee_user=bob,
                         permission=Permission.VIEW)
    assert services.password_reveal(user=bob, account=root_account) == "s3cr3t-Root-pw!"
    with pytest.raises(PermissionDenied):
        services.password_change(user=bob, account=root_account, new_password="mine-now")
    with pytest.raises(PermissionDenied):
        services.share_grant(user=bob, target=server, grantee_user=bob,
                             permission=Permission.MODIFY)


def test_a_modify_share_lets_bob_change_the_password(alice, bob, server, root_account):
    services.share_grant(user=alice, target=server, grantee_user=bob,
                         permission=Permission.MODIFY)
    services.password_change(user=bob, account=root_account, new_password="rotated-1")
    assert services.password_reveal(user=alice, account=root_account) == "rotated-1"


def test_a_team_share_reaches_every_member(alice, bob, mallory, server, root_account):
    team = Team.objects.create(name="DBAs")
    team.members.add(bob)
    services.share_grant(user=alice, target=server, grantee_team=team,
                         permission=Permission.VIEW)
    assert list(selectors.resources_for_user(user=bob)) == [server]
    assert not selectors.resources_for_user(user=mallory).exists()


def test_an_account_share_shows_only_that_account(alice, bob, server, root_account):
    other = services.account_create(user=alice, resource=server, login_name="backup",
                                    password="other-pw")
    services.share_grant(user=alice, target=root_account, grantee_user=bob,
                         permission=Permission.VIEW)
    assert list(selectors.accounts_for_user(user=bob, resource=server)) == [root_account]
    with pytest.raises(PermissionDenied):
        services.password_reveal(user=bob, account=other)


def test_revoking_a_share_takes_access_away(alice, bob, server, root_account):
    share = services.share_grant(user=alice, target=server, grantee_user=bob,
                                 permission=Permission.VIEW)
    services.share_revoke(user=alice, share=share)
    with pytest.raises(PermissionDenied):
        services.password_reveal(user=bob, account=root_account)


def test_a_password_user_cannot_create_resources(bob):
    with pytest.raises(PermissionDenied):
        services.resource_create(user=bob, name="x", resource_type="server")


def test_the_password_history_keeps_every_previous_password(alice, root_account):
    services.password_change(user=alice, account=root_account, new_password="two")
    services.password_change(user=alice, account=root_account, new_password="three")
    history = [services.version_password(v) for v in root_account.history.all()]
    assert history == ["two", "s3cr3t-Root-pw!"]
    assert services.password_reveal(user=alice, account=root_account) == "three"


def test_bob_finds_no_resource_by_the_login_name_of_an_account_he_may_not_see(
        client, alice, bob, server, root_account):
    services.account_create(user=alice, resource=server, login_name="backup-operator",
                            password="other-pw")
    services.share_grant(user=alice, target=root_account, grantee_user=bob,
                         permission=Permission.VIEW)
    assert list(selectors.resources_for_user(user=bob, search="root")) == [server]
    assert not selectors.resources_for_user(user=bob, search="backup-operator").exists()
    client.force_login(bob)
    assert b"db-prod-1" not in client.get("/", {"q": "backup-operator"}).content
    # Who sees the whole resource still finds it by any of its login names.
    assert list(selectors.resources_for_user(user=alice, search="backup-operator")) == [server]
