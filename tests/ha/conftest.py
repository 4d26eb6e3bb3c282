"""A real HA pair for the integration tests: two MariaDB servers with TLS replication,
two Redis, and for each node gunicorn, a Celery worker and beat — built with the same
commands an operator runs. The secondary reaches the primary's database through a
LinkProxy on 127.0.0.1, so tests can cut the link. Helpers live in tests/ha/support.py."""
from __future__ import annotations

import uuid

import pytest

from tests.ha.support import Pair, WebClient, running_pair


# Package scope: the pair goes when the last test of tests/ha is done, instead of idling
# (two beats and workers) beside every test that pytest-django orders after them.
@pytest.fixture(scope="package")
def pair(tmp_path_factory) -> Pair:
    with running_pair(tmp_path_factory.mktemp("ha"), server_id=11) as pair:
        yield pair


@pytest.fixture(scope="module")
def shared_account(pair) -> dict:
    """An account the admin made on the primary, replicated to the secondary."""
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    resource_id, account_id = admin.create_account(
        resource=f"core-switch-{uuid.uuid4().hex[:6]}", resource_type="network",
        login_name="enable", password="Sw1tch-secret!")
    pair.wait_replicated()
    return {"resource_id": resource_id, "account_id": account_id}
