"""Writing the audit trail. No audit row ever holds a secret: callers pass
identities and labels, never passwords or notes."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from accounts.client_address import client_ip as resolved_client_ip
from audit.integrity import event_hash
from audit.models import AuditEvent, AuditOutbox, AuditSeal, OutboxSeal
from audit.sealing import audit_seal, audit_witness  # noqa: F401 - their public home
from ha.router import ReadOnlyNode, is_read_only_node
from strongroom import rows

Action = AuditEvent.Action
# What a read-only node may do, hence audit. Anything else there is a write that
# will be refused; auditing it first would ship a false row to the primary (the
# outbox is in the local schema, outside the refused transaction). HA events: a
# secondary alerts on what it observes (the primary may be down).
READ_ONLY_ACTIONS = frozenset({Action.LOGIN, Action.LOGOUT, Action.LOGIN_FAILED,
                               Action.LOCKOUT, Action.PASSWORD_REVEAL, Action.HA_EVENT})


def client_ip(request: HttpRequest | None) -> str | None:
    return resolved_client_ip(request)  # the same address django-axes uses


def audit_record(*, action: str, actor: Any = None, actor_name: str = "",
                 request: HttpRequest | None = None, target: models.Model | None = None,
                 reason: str = "", detail: dict | None = None) -> AuditEvent | AuditOutbox:
    """Append one event. `actor` is a user (or None for anonymous events). A read-only
    secondary writes to its local outbox; the rows reach the primary's trail later."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_name = actor.get_username()
    if is_read_only_node() and action not in READ_ONLY_ACTIONS:
        raise ReadOnlyNode()
    model = AuditOutbox if is_read_only_node() else AuditEvent
    event = model(
        occurred_at=timezone.now(),
        node=settings.NODE_NAME,
        actor=actor_name[:150],
        action=action,
        object_type=target._meta.model_name if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:255] if target is not None else "",
        source_ip=client_ip(request),
        reason=reason[:500],
        detail=detail or {},
    )
    event.row_hash = event_hash(event.__dict__)
    rows.insert(event)
    return event


def this_node_trail() -> tuple[type, type]:
    """(events, seals) this node seals: the canonical trail on a writable node, its
    own outbox on a read-only one (the primary's seals replicate there)."""
    return (AuditOutbox, OutboxSeal) if is_read_only_node() else (AuditEvent, AuditSeal)
