"""Issue 19 item 3: the other node's switchover requests (ha_peerrequest, local schema)
do not keep whole encrypted packs, nor pile up: a handled request loses its payload at
once, and requests past PEER_REQUEST_KEEP are deleted."""
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.db.models.functions import Length
from django.utils import timezone

from ha.models import PeerRequest
from ha.failover.switchover import PEER_REQUEST_KEEP, _request_mac, peer_requests_handle

pytestmark = pytest.mark.django_db(databases=["default", "local"])

NODE = "vault-b.example.com"


def _request(*, kind: str, payload: bytes, age: timedelta = timedelta(0),
             handled: bool = False) -> PeerRequest:
    sent = timezone.now() - age
    return PeerRequest.objects.create(kind=kind, node=NODE, epoch=7, payload=payload,
                                      mac=_request_mac(kind, NODE, 7, payload),
                                      reported_at=sent, handled_at=sent if handled else None)


def _stored() -> tuple[int, int]:
    totals = PeerRequest.objects.aggregate(bytes=Sum(Length("payload")))
    return PeerRequest.objects.count(), totals["bytes"] or 0


def test_a_handled_request_keeps_no_pack_and_old_requests_are_deleted():
    # A pack for a node that is not the one to rejoin (this standalone test node):
    # handled by being ignored, like a forged or late one.
    pack = _request(kind=PeerRequest.PACK, payload=b"\x00encrypted pack" * 100_000)
    _request(kind=PeerRequest.SWITCHOVER, payload=b"", handled=True,
             age=PEER_REQUEST_KEEP + timedelta(minutes=1))
    _request(kind=PeerRequest.PACK, payload=b"stale, never handled",
             age=PEER_REQUEST_KEEP + timedelta(hours=1))
    assert _stored() == (3, 1_500_000 + 20)

    peer_requests_handle()

    assert _stored() == (1, 0)
    kept = PeerRequest.objects.get()
    assert kept.id == pack.id and kept.handled_at is not None


def test_a_request_with_a_bad_signature_keeps_no_payload_either():
    forged = _request(kind=PeerRequest.PACK, payload=b"someone else's bytes" * 1000)
    PeerRequest.objects.filter(id=forged.id).update(mac="0" * 64)
    peer_requests_handle()
    assert _stored() == (1, 0)
