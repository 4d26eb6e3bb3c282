"""The status machinery on one node, with its real MariaDB: the confirmation window,
Unknown when the checks stop, the health codes, who may read /ha/status and /metrics,
and who sees the page. The pair's behaviour is in test_status_pair.py."""
import ipaddress
from datetime import timedelta

import pytest
from django.utils import timezone

from ha.models import NodeStatus, Transition
from ha.monitoring.observe import ALIVE, FAILED, Observation
from ha.monitoring.status import _store

pytestmark = pytest.mark.django_db(databases="__all__")


def _observe(ha: str, *, immediate: bool = False) -> Observation:
    return Observation(ha=ha, replication=ALIVE, ha_reason="" if ha == ALIVE else "link down",
                       immediate=immediate, peer="db-b:3306", details={"lag_ms": 12})


def test_a_one_check_flap_is_not_a_transition_but_a_held_failure_is():
    start = timezone.now()
    _store(_observe(ALIVE), now=start)  # the first status is history, not news
    _store(_observe(FAILED), now=start + timedelta(seconds=1))
    _store(_observe(ALIVE), now=start + timedelta(seconds=2))
    assert NodeStatus.objects.get().ha_status == ALIVE
    _store(_observe(FAILED), now=start + timedelta(seconds=3))
    _store(_observe(FAILED), now=start + timedelta(seconds=4))
    status = NodeStatus.objects.get()
    assert status.ha_status == FAILED and status.ha_reason == "link down"
    assert status.ha_since == start + timedelta(seconds=3)  # when it was first seen
    changes = [(t.kind, t.old, t.new, t.alerted) for t in
               Transition.objects.order_by("confirmed_at", "kind")]
    assert changes == [("ha", "unknown", ALIVE, False), ("replication", "unknown", ALIVE, False),
                       ("ha", ALIVE, FAILED, True)]


def test_a_stale_heartbeat_fails_at_once_and_alive_needs_the_longer_window():
    start = timezone.now()
    _store(_observe(ALIVE), now=start)
    _store(_observe(FAILED, immediate=True), now=start + timedelta(seconds=1))
    assert NodeStatus.objects.get().ha_status == FAILED
    _store(_observe(ALIVE), now=start + timedelta(seconds=2))
    _store(_observe(ALIVE), now=start + timedelta(seconds=3))
    assert NodeStatus.objects.get().ha_status == FAILED  # 1 s < the 1.5 s window
    _store(_observe(ALIVE), now=start + timedelta(seconds=4))
    assert NodeStatus.objects.get().ha_status == ALIVE
    assert Transition.objects.filter(kind="ha", alerted=True).count() == 2


def test_checks_that_stopped_make_the_statuses_unknown_never_a_stale_alive(client):
    start = timezone.now() - timedelta(minutes=1)
    _store(_observe(ALIVE), now=start)
    body = client.get("/ha/status").json()
    assert body["ha"]["status"] == body["replication"]["status"] == "unknown"
    assert "Celery" in body["ha"]["reason"] and body["checks_running"] is False


def test_a_standalone_node_is_healthy_and_primary_but_not_a_replica(client):
    for path, code in (("/health", 200), ("/health/primary", 200), ("/health/replica", 503)):
        response = client.get(path)
        assert response.status_code == code, path
        assert response.json()["ok"] is (code == 200) and response.json()["node"]
        assert client.head(path).status_code == code
    assert client.get("/health/replica?max_lag_ms=soon").status_code == 400
    assert client.post("/health").status_code == 405


def test_liveness_answers_without_reading_a_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["role"] == "standalone"
    assert client.post("/health/live").status_code == 405


def test_status_json_and_metrics_are_open_only_to_the_status_networks(client, settings):
    _store(_observe(ALIVE), now=timezone.now())
    body = client.get("/ha/status").json()
    assert body["ha"]["status"] == ALIVE and body["details"]["lag_ms"] == 12
    assert body["history"] and "error_log" in body
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics["Content-Type"].startswith("text/plain")
    text = metrics.content.decode()
    assert "strongroom_ha_status_alive 1.0" in text
    assert "strongroom_replication_lag_seconds 0.012" in text
    settings.STATUS_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert client.get("/ha/status").status_code == 403
    assert client.get("/metrics").status_code == 403
    assert client.get("/health").status_code == 200  # load balancers need no allow-list


def test_only_administrators_see_the_high_availability_page(client, alice, bob):
    _store(_observe(FAILED, immediate=True), now=timezone.now())
    client.force_login(bob)
    assert client.get("/ha/").status_code == 403
    client.force_login(alice)
    page = client.get("/ha/").content.decode()
    assert 'id="ha-status">Failed' in page and "link down" in page
    assert "ha_reconfigure" in page and "ha_install_pack" in page and "error.log" in page
