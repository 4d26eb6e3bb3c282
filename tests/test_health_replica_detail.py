"""/health/replica needs no session, so it must not hand MariaDB's error text (duplicate
key values, host names, addresses) to anyone who asks: outside STATUS_NETWORKS it gives
the verdict and a fixed phrase; monitors inside them and /ha/status keep the detail
(issue 19, item 6)."""
import ipaddress

import pytest
from django.utils import timezone

from ha.monitoring.observe import ALIVE, FAILED, Observation
from ha.monitoring.status import _store

pytestmark = pytest.mark.django_db(databases="__all__")
ERROR = ("Could not execute Write_rows_v1 event on table strongroom.accounts_team; "
         "Duplicate entry 'payroll-db7.corp.example' for key 'name', master 10.1.2.3:3306")


@pytest.fixture
def broken_secondary(settings):
    settings.NODE_ROLE = "secondary"
    settings.STATUS_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    _store(Observation(ha=ALIVE, replication=FAILED, replication_reason=ERROR,
                       immediate=True, peer="db-a.corp.example:3306",
                       details={"lag_ms": 12}), now=timezone.now())


def test_an_outside_client_sees_the_verdict_without_the_database_error(client,
                                                                       broken_secondary):
    response = client.get("/health/replica", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["replication_status"] == FAILED
    text = response.content.decode()
    for detail in ("payroll-db7", "10.1.2.3", "Duplicate entry", "db-a.corp.example"):
        assert detail not in text
    assert "Replication Status is failed" in body["reason"]


def test_a_monitor_inside_the_status_networks_sees_the_database_error(client,
                                                                      broken_secondary):
    response = client.get("/health/replica", REMOTE_ADDR="10.20.0.5")
    assert response.status_code == 503
    assert "Duplicate entry 'payroll-db7.corp.example'" in response.json()["reason"]
    status = client.get("/ha/status", REMOTE_ADDR="10.20.0.5").json()
    assert "payroll-db7" in status["replication"]["reason"]
