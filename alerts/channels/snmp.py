"""SNMP v2c trap with pysnmp. The OIDs are those of docs/STRONGROOM-MIB.txt; pysnmp puts
sysUpTime.0 and snmpTrapOID.0 first, then our objects follow."""
from __future__ import annotations

import asyncio
import time
from datetime import timezone

from django.conf import settings
from pysnmp.hlapi.v3arch.asyncio import (CommunityData, ContextData, NotificationType,
                                         ObjectIdentity, SnmpEngine, UdpTransportTarget,
                                         send_notification)
from pysnmp.proto.rfc1902 import OctetString, TimeTicks

from alerts.channels import ChannelError
from alerts.events import (HA_ALIVE, HA_FAILED, REPLICATION_ALIVE, REPLICATION_FAILED,
                           SEMISYNC_ALIVE, SEMISYNC_FAILED, alert_text)
from alerts.models import AlertDelivery, AlertTargets

# STRONGROOM-MIB::strongroomMIB, under the documentation enterprise number (RFC 5612).
MIB_ROOT = "1.3.6.1.4.1.32473"
NOTIFICATIONS = {HA_ALIVE: f"{MIB_ROOT}.0.1", HA_FAILED: f"{MIB_ROOT}.0.2",
                 REPLICATION_ALIVE: f"{MIB_ROOT}.0.3", REPLICATION_FAILED: f"{MIB_ROOT}.0.4",
                 SEMISYNC_ALIVE: f"{MIB_ROOT}.0.5", SEMISYNC_FAILED: f"{MIB_ROOT}.0.6"}
OBJECTS = {"node": f"{MIB_ROOT}.1.1.0", "peer": f"{MIB_ROOT}.1.2.0",
           "since": f"{MIB_ROOT}.1.3.0", "text": f"{MIB_ROOT}.1.4.0",
           "transition": f"{MIB_ROOT}.1.5.0"}
SYS_UP_TIME = "1.3.6.1.2.1.1.3.0"
# sysUpTime is this sender's: the process's age (a fresh pysnmp engine would say 0).
_STARTED = time.monotonic()
# The MIB's sizes, in octets: SnmpAdminString (255) and StrongroomLongText (1024).
SIZES = {"node": 255, "peer": 255, "since": 64, "text": 1024, "transition": 64}


def _octets(value: str, limit: int) -> bytes:
    return value.encode()[:limit].decode(errors="ignore").encode()  # never half a character


def trap_values(delivery: AlertDelivery) -> dict[str, str]:
    return {"node": delivery.node, "peer": delivery.peer,
            "since": delivery.since.astimezone(timezone.utc).isoformat(),
            "text": alert_text(event=delivery.event, node=delivery.node, peer=delivery.peer,
                               since=delivery.since, detail=delivery.detail),
            "transition": str(delivery.transition_id)}


async def _send(*, delivery: AlertDelivery, host: str, port: int) -> None:
    engine = SnmpEngine()
    try:
        target = await UdpTransportTarget.create((host, port),
                                                 timeout=settings.ALERT_SEND_TIMEOUT, retries=0)
        notification = NotificationType(ObjectIdentity(NOTIFICATIONS[delivery.event]))
        uptime = TimeTicks(int((time.monotonic() - _STARTED) * 100) % 2 ** 32)
        ours = [(OBJECTS[name], OctetString(_octets(value, SIZES[name])))
                for name, value in trap_values(delivery).items()]
        notification.add_varbinds((SYS_UP_TIME, uptime), *ours)
        error, _status, _index, _binds = await send_notification(
            engine, CommunityData(settings.ALERT_SNMP_COMMUNITY, mpModel=1), target,
            ContextData(), "trap", notification)
    finally:
        engine.close_dispatcher()
    if error:
        raise ChannelError(f"SNMP trap to {host}:{port} failed: {error}")


def send(*, delivery: AlertDelivery, targets: AlertTargets) -> None:
    if not targets.snmp_host:
        raise ChannelError("no SNMP trap receiver: set it on the alerts page")
    asyncio.run(_send(delivery=delivery, host=targets.snmp_host, port=targets.snmp_port))
