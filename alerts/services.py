"""Recording and sending alerts. `alert_transition` is what the HA checks call: it is
cheap, records one delivery per chosen channel (once per transition), and leaves the
sending, with retries, to a Celery task."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, router, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from alerts import channels, selectors
from alerts.events import EVENT_TITLES
from alerts.models import AlertDelivery, AlertRule, AlertTargets
from audit.models import AuditEvent
from audit.services import audit_record

logger = logging.getLogger(__name__)
Status = AlertDelivery.Status
# A claim older than this is a worker that died mid-send: the sweep sends it again.
STUCK_CLAIM_SECONDS = 120.0


def alert_transition(*, event: str, node: str, since: datetime, peer: str, detail: str,
                     transition_id: str) -> None:
    """Record one pending delivery per channel chosen for `event` and enqueue them.
    Calling it again for the same transition records and sends nothing more."""
    if event not in EVENT_TITLES:
        raise ValueError(f"unknown alert event {event!r}")
    created = []
    database = router.db_for_write(AlertDelivery)
    for channel in selectors.channels_for_event(event=event):
        try:
            with transaction.atomic(using=database):
                delivery, is_new = AlertDelivery.objects.get_or_create(
                    transition_id=uuid.UUID(str(transition_id)), channel=channel,
                    defaults={"event": event, "node": node[:255], "peer": peer[:255],
                              "since": since, "detail": detail,
                              "next_attempt_at": timezone.now()})
        except IntegrityError:
            continue  # a concurrent call recorded it first
        if is_new:
            created.append(delivery.pk)
    if created:
        transaction.on_commit(lambda: _enqueue(created), using=database)


def _enqueue(delivery_ids: list[int]) -> None:
    from alerts.tasks import send_alert_delivery

    for delivery_id in delivery_ids:
        try:
            send_alert_delivery.delay(delivery_id)
        except BrokerError:
            # The checks must go on: the beat sweep sends it once the broker is back.
            logger.warning("alert delivery %s not enqueued: the broker is unreachable",
                           delivery_id)


def retry_delay(*, attempts: int) -> float:
    return min(settings.ALERT_RETRY_SECONDS * 2 ** (attempts - 1),
               settings.ALERT_RETRY_MAX_SECONDS)


def delivery_attempt(*, delivery_id: int) -> float | None:
    """Claim and send one delivery. Returns the seconds to wait before the next attempt,
    or None when there is nothing more to do (sent, failed for good, or not ours)."""
    now = timezone.now()
    claimed = AlertDelivery.objects.filter(
        Q(pk=delivery_id) & selectors.due_filter(now=now, stuck_after_seconds=STUCK_CLAIM_SECONDS)
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = AlertDelivery.objects.get(pk=delivery_id)
    try:
        channels.send(delivery=delivery, targets=selectors.alert_targets())
    # Any failure of one channel (socket, SMTP, SNMP, configuration) is recorded and
    # retried; it must never reach the caller, which sends the other channels.
    except Exception as exc:  # noqa: BLE001
        return _delivery_failed(delivery=delivery, error=f"{type(exc).__name__}: {exc}")
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENT, sent_at=timezone.now(), last_error="")
    _audit(delivery=delivery, outcome="sent")
    return None


def _delivery_failed(*, delivery: AlertDelivery, error: str) -> float | None:
    error = error[:2000]
    logger.warning("alert %s (delivery %s) attempt %s failed: %s", delivery,
                   delivery.pk, delivery.attempts, error)
    if delivery.attempts >= settings.ALERT_MAX_ATTEMPTS:
        AlertDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED,
                                                            last_error=error)
        _audit(delivery=delivery, outcome="failed", error=error)
        return None
    delay = retry_delay(attempts=delivery.attempts)
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.PENDING, last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=delay))
    return delay


def _audit(*, delivery: AlertDelivery, outcome: str, error: str = "") -> None:
    reason = f"Alert {delivery} {outcome}"
    if error:
        reason += f" after {delivery.attempts} attempts"
    audit_record(action=AuditEvent.Action.HA_EVENT, actor_name="system", reason=reason,
                 detail={"alert": delivery.event, "channel": delivery.channel,
                         "outcome": outcome, "attempts": delivery.attempts,
                         "transition": str(delivery.transition_id), "error": error})


def deliveries_sweep() -> int:
    """Send what is due and was never enqueued (or whose task was lost)."""
    due = selectors.deliveries_due(stuck_after_seconds=STUCK_CLAIM_SECONDS)
    for delivery_id in due:
        try:
            delivery_attempt(delivery_id=delivery_id)
        # One delivery's trouble (its audit row, say) must not hold back the others.
        except Exception:  # noqa: BLE001
            logger.exception("alert delivery %s: attempt failed", delivery_id)
    return len(due)


@transaction.atomic
def alert_settings_update(*, admin: User, rules: dict[str, list[str]], targets: dict,
                          request: HttpRequest | None = None) -> None:
    """Save each event's channels and the targets (on the primary: both replicate)."""
    for event in EVENT_TITLES:
        chosen = set(rules.get(event, []))
        AlertRule.objects.update_or_create(event=event, defaults={
            channel: channel in chosen for channel in ("email", "syslog", "snmp")})
    AlertTargets.objects.update_or_create(pk=1, defaults=targets)
    audit_record(action=AuditEvent.Action.HA_EVENT, actor=admin, request=request,
                 reason="Alert settings changed",
                 detail={"rules": {event: sorted(rules.get(event, []))
                                   for event in EVENT_TITLES}, "targets": targets})
