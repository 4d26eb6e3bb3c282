"""Syslog as RFC 5424 over UDP (RFC 5426) or TCP (RFC 6587 octet counting).

A small formatter rather than a library: the maintained Python handlers are logging
handlers (one message per log record, no per-message structured data we control)."""
from __future__ import annotations

import os
import re
import socket
from datetime import datetime, timezone
from logging.handlers import SysLogHandler

from django.conf import settings

from alerts.channels import ChannelError
from alerts.events import FAILED_EVENTS, alert_text
from alerts.models import AlertDelivery, AlertTargets

APP_NAME = "strongroom"
SEVERITY_ERROR = 3
SEVERITY_NOTICE = 5
BOM = "\ufeff"
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")


def _header_field(value: str, *, limit: int) -> str:
    """PRINTUSASCII without spaces, bounded; '-' is the RFC's nil value."""
    cleaned = _NOT_PRINTABLE.sub("_", value)[:limit]
    return cleaned or "-"


def _param_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def structured_data(*, enterprise: int, params: dict[str, str]) -> str:
    pairs = " ".join(f'{name}="{_param_value(value)}"' for name, value in params.items())
    return f"[{APP_NAME}@{enterprise} {pairs}]"


def format_message(*, facility: int, severity: int, timestamp: datetime, hostname: str,
                   msgid: str, params: dict[str, str], text: str, enterprise: int) -> str:
    """HEADER SP STRUCTURED-DATA SP MSG, MSG in UTF-8 with its BOM (RFC 5424 §6)."""
    stamp = timestamp.astimezone(timezone.utc).isoformat(timespec="microseconds")
    header = " ".join([
        f"<{facility * 8 + severity}>1", stamp.replace("+00:00", "Z"),
        _header_field(hostname, limit=255), APP_NAME, _header_field(str(os.getpid()), limit=128),
        _header_field(msgid, limit=32)])
    return f"{header} {structured_data(enterprise=enterprise, params=params)} {BOM}{text}"


def _facility() -> int:
    name = settings.ALERT_SYSLOG_FACILITY.lower()
    if name not in SysLogHandler.facility_names:
        raise ChannelError(f"STRONGROOM_ALERT_SYSLOG_FACILITY={name!r} is not a facility")
    return SysLogHandler.facility_names[name]


def alert_message(delivery: AlertDelivery) -> bytes:
    text = alert_text(event=delivery.event, node=delivery.node, peer=delivery.peer,
                      since=delivery.since, detail=delivery.detail)
    return format_message(
        facility=_facility(),
        severity=SEVERITY_ERROR if delivery.event in FAILED_EVENTS else SEVERITY_NOTICE,
        timestamp=datetime.now(timezone.utc), hostname=delivery.node, msgid=delivery.event,
        params={"event": delivery.event, "node": delivery.node, "peer": delivery.peer,
                "since": delivery.since.astimezone(timezone.utc).isoformat(),
                "transition": str(delivery.transition_id)},
        text=text, enterprise=settings.ALERT_ENTERPRISE_NUMBER).encode()


def send(*, delivery: AlertDelivery, targets: AlertTargets) -> None:
    if not targets.syslog_host:
        raise ChannelError("no syslog host: set it on the alerts page")
    message = alert_message(delivery)
    address = (targets.syslog_host, targets.syslog_port)
    if targets.syslog_transport == targets.Transport.TCP:
        with socket.create_connection(address, timeout=settings.ALERT_SEND_TIMEOUT) as sock:
            sock.sendall(b"%d %s" % (len(message), message))
        return
    family = socket.getaddrinfo(*address, type=socket.SOCK_DGRAM)[0][0]
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(settings.ALERT_SEND_TIMEOUT)
        sock.sendto(message, address)
