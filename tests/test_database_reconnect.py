"""Issue 12: no ping per request (strongroom.mysql), and still a connection the server
closed since the last request is replaced before the request uses it, whether the
request begins with a read, a write or a transaction. The server closes it here with
KILL CONNECTION, from another connection (the restart itself: tests/ha/
test_database_restart.py)."""
import MySQLdb
import pytest
from django.db import connections, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from tests.support import wait_until

# serialized_rollback, as every transactional test here: the flush after it must not
# leave post_migrate's fresh rows for the next serialized test to collide with.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True,
                                   databases="__all__")
Action = AuditEvent.Action


@pytest.fixture
def killed_between_requests():
    """Ends one "request" on `default`, has the server close its connection, and starts
    the next request, as Django's request_started handler does."""
    connection = connections["default"]

    def kill() -> int:
        connection.ensure_connection()
        thread_id = connection.connection.thread_id()
        connection.close_if_unusable_or_obsolete()  # request_started: check again
        with connections["local"].cursor() as cursor:
            cursor.execute("KILL CONNECTION %s", [thread_id])
        wait_until(lambda: not connection.looks_alive(), what="the server closing it")
        return thread_id

    return kill


def _thread_id() -> int:
    return connections["default"].connection.thread_id()


def test_a_request_that_begins_with_a_read_gets_a_new_connection(killed_between_requests):
    old = killed_between_requests()
    assert AuditEvent.objects.count() == 0
    assert _thread_id() != old


def test_a_request_that_begins_with_a_write_gets_a_new_connection(killed_between_requests):
    old = killed_between_requests()
    audit_record(action=Action.LOGIN, actor_name="alice")
    assert _thread_id() != old
    assert AuditEvent.objects.filter(actor="alice").count() == 1  # written once


def test_a_request_that_begins_with_a_transaction_gets_a_new_connection(
        killed_between_requests):
    old = killed_between_requests()
    with transaction.atomic():
        audit_record(action=Action.LOGIN, actor_name="bob")
    assert _thread_id() != old
    assert AuditEvent.objects.filter(actor="bob").count() == 1


def test_a_connection_lost_after_the_first_statement_is_an_error(killed_between_requests):
    """Only the first statement of a request is looked after: a later one that finds
    the connection gone fails as before (it cannot know what the request did)."""
    killed_between_requests()
    AuditEvent.objects.count()  # the request's first statement, on a new connection
    with connections["local"].cursor() as cursor:
        cursor.execute("KILL CONNECTION %s", [_thread_id()])
    with pytest.raises(Exception) as caught:
        AuditEvent.objects.count()
    assert isinstance(caught.value.__cause__, MySQLdb.OperationalError)
    connections["default"].close()  # as the end of the request would
