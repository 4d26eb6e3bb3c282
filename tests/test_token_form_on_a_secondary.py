"""A token form posted on a read-only secondary (a page loaded before a switchover, a
script) gets the read-only answer of every write (503) saying that no token was
created and why, before it asks for a password it could not use: it redirected with
no word (issue 19, item 13)."""
import pytest

from accounts.models import ApiToken
from audit.models import AuditOutbox

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.mark.parametrize("reauth_seconds", [0, 60])
def test_a_token_posted_on_a_secondary_says_none_was_created(client, alice, settings,
                                                             reauth_seconds):
    settings.NODE_ROLE = "secondary"
    settings.SENSITIVE_REAUTH_SECONDS = reauth_seconds
    client.force_login(alice, password_typed=False)
    response = client.post("/accounts/tokens/new/", {"name": "backup script"})
    page = response.content.decode()
    assert response.status_code == 503
    assert "No API token was created" in page and "read-only" in page
    assert not ApiToken.objects.exists()
    assert not AuditOutbox.objects.filter(action="token_create").exists()
