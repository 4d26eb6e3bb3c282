"""R-H15: the epoch notice ha_promote writes for the old primary fences it only when it
is genuine (signed with this vault's master key) and newer than the node's own epoch."""
import json

import pytest
from django.utils import timezone

from ha.failover.fencing import notice_read, notice_write, superseding_notice
from ha.models import Epoch, ReplicaReport

pytestmark = pytest.mark.django_db(databases=["default", "local"])


def _epoch(number: int, node: str) -> Epoch:
    return Epoch.objects.create(number=number, node=node, promoted_at=timezone.now(),
                                promoted_by="test")


def test_a_signed_notice_of_a_newer_epoch_supersedes_this_node(settings, tmp_path):
    settings.HA_DIR = tmp_path
    path = notice_write(Epoch(number=3, node="vault-b.example.com",
                              promoted_at=timezone.now()))
    assert oct(path.stat().st_mode)[-3:] == "600"
    _epoch(2, settings.NODE_NAME)
    notice = superseding_notice()
    assert (notice.epoch, notice.node) == (3, "vault-b.example.com")
    assert "notice file" in notice.source


def test_an_altered_or_unsigned_notice_fences_nothing(settings, tmp_path):
    settings.HA_DIR = tmp_path
    path = notice_write(Epoch(number=3, node="vault-b.example.com",
                              promoted_at=timezone.now()))
    forged = json.loads(path.read_text())
    forged["epoch"] = 9
    path.write_text(json.dumps(forged))
    assert notice_read(path) is None and superseding_notice() is None
    path.write_text(json.dumps({"epoch": 9, "node": "x", "promoted_at": "now"}))
    assert notice_read(path) is None


def test_an_older_or_own_epoch_does_not_supersede(settings, tmp_path):
    settings.HA_DIR = tmp_path
    _epoch(4, settings.NODE_NAME)
    notice_write(Epoch(number=3, node="vault-b.example.com", promoted_at=timezone.now()))
    assert superseding_notice() is None
    ReplicaReport.objects.create(node="vault-b.example.com", reported_at=timezone.now(),
                                 ha_status="", replication_status="", role="primary", epoch=4)
    assert superseding_notice() is None  # the same epoch is not newer
    ReplicaReport.objects.create(node="vault-b.example.com", reported_at=timezone.now(),
                                 ha_status="", replication_status="", role="primary", epoch=5)
    notice = superseding_notice()
    assert notice.epoch == 5 and "announced" in notice.source
