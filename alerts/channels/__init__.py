"""One module per channel, each with `send(*, delivery, targets)` that raises on failure."""
from __future__ import annotations

from alerts.models import AlertDelivery, AlertTargets, Channel


class ChannelError(Exception):
    """A channel could not deliver (or is not configured); the message says why."""


def send(*, delivery: AlertDelivery, targets: AlertTargets) -> None:
    from alerts.channels import email, snmp, syslog

    senders = {Channel.EMAIL: email.send, Channel.SYSLOG: syslog.send, Channel.SNMP: snmp.send}
    senders[Channel(delivery.channel)](delivery=delivery, targets=targets)
