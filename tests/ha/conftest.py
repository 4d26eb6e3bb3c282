"""A real HA pair for the integration tests: two MariaDB servers with TLS replication,
two Redis, and for each node gunicorn, a Celery worker and beat — built with the same
commands an operator runs. The secondary reaches the primary's database through a
LinkProxy on 127.0.0.1, so tests can cut the link. Helpers live in tests/ha/support.py."""
from __future__ import annotations

import uuid

import pytest

from localservices.installer import install
from localservices.linkproxy import LinkProxy
from localservices.processes import start_processes
from localservices.stack import loopback_pair, pair_down, prepare_secondary
from tests.ha.support import Node, Pair, WebClient


@pytest.fixture(scope="session")
def pair(tmp_path_factory) -> Pair:
    primary, secondary = loopback_pair(tmp_path_factory.mktemp("ha"), server_id=11)
    install(primary)
    link = LinkProxy(primary.mariadb_port)
    try:
        output = prepare_secondary(secondary, primary, primary_port=link.port)
        start_processes(primary)
        start_processes(secondary)
        yield Pair(Node(primary), Node(secondary), link, output)
    finally:
        link.close()
        pair_down(primary, secondary)


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
