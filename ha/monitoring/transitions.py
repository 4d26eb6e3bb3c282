"""What a confirmed transition sets off besides its history row: the alerts (R-H8),
sent by the alerts app."""
from __future__ import annotations

import logging

from alerts.services import alert_transition

logger = logging.getLogger(__name__)


def on_transition(transition) -> None:
    """Called once per stored transition, after its row is committed."""
    logger.warning("%s status on %s: %s -> %s since %s (%s)", transition.kind,
                   transition.node, transition.old, transition.new,
                   transition.since.isoformat(), transition.reason or "no problem")
    if not transition.alerted:
        return
    alert_transition(event=f"{transition.kind}_{transition.new}",
                     node=transition.node, since=transition.since, peer=transition.peer,
                     detail=transition.reason, transition_id=str(transition.uuid))
