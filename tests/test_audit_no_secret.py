"""Issue 8 item 18, "no audit, no secret": when the database refuses the audit row,
no password leaves the server, through the service, the web page or the API, on the
primary (canonical trail) and on a read-only secondary (its local outbox). The
refusal is the database's own: a trigger that rejects every insert into the table,
created through the admin account, as a full disk or a revoked grant would."""
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connections

from accounts.services import api_token_create
from audit.models import AuditEvent, AuditOutbox
from ha.replication.dbconnect import admin_cursor
from tests.support import Client
from vault import services

# Real commits: a trigger cannot be created while a test transaction holds the table.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__",
                                   serialized_rollback=True)
SECRET = "s3cr3t-Root-pw!"
REFUSAL = "the audit table refuses new rows"


@contextmanager
def audit_rows_refused(model):
    alias = "local" if model is AuditOutbox else "default"
    schema = connections[alias].settings_dict["NAME"]
    trigger = f"`{schema}`.`refuse_{model._meta.db_table}`"
    with admin_cursor() as cursor:
        cursor.execute(f"CREATE TRIGGER {trigger} BEFORE INSERT ON "
                       f"`{schema}`.`{model._meta.db_table}` FOR EACH ROW "
                       f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'")
    try:
        yield
    finally:
        with admin_cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")


@pytest.fixture
def alice_clients(alice) -> tuple[Client, dict]:
    """Alice's browser (logged in while the trail still takes rows) and API header."""
    web = Client(raise_request_exception=False)
    web.force_login(alice)
    _, token = api_token_create(user=alice, name="script")
    return web, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _reveal_everywhere_refused(alice, account, alice_clients) -> None:
    with pytest.raises(DatabaseError, match=REFUSAL):
        services.password_reveal(user=alice, account=account, reason="outage")
    web, api_auth = alice_clients
    page = web.post(f"/accounts/{account.pk}/reveal/", {"reason": "outage"})
    assert page.status_code == 500 and SECRET.encode() not in page.content
    answer = Client(raise_request_exception=False).get(
        f"/api/v1/accounts/{account.pk}/password/", **api_auth)
    assert answer.status_code == 500 and SECRET.encode() not in answer.content


def test_the_primary_reveals_nothing_when_its_trail_refuses_the_row(alice, root_account,
                                                                    alice_clients):
    with audit_rows_refused(AuditEvent):
        _reveal_everywhere_refused(alice, root_account, alice_clients)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PASSWORD_REVEAL).exists()
    assert services.password_reveal(user=alice, account=root_account) == SECRET  # and back


def test_a_secondary_reveals_nothing_when_its_outbox_refuses_the_row(alice, root_account,
                                                                      alice_clients, settings):
    settings.NODE_ROLE = "secondary"
    with audit_rows_refused(AuditOutbox):
        _reveal_everywhere_refused(alice, root_account, alice_clients)
    assert not AuditOutbox.objects.exists()
    assert services.password_reveal(user=alice, account=root_account) == SECRET  # and back
