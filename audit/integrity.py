"""Tamper evidence: each event's own content hash, and the chain of seals over them."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from audit.models import AuditEvent, AuditSeal

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("uuid", "occurred_at", "node", "actor", "action", "object_type",
                 "object_id", "object_repr", "source_ip", "reason", "detail")


def event_hash(values: dict) -> str:
    """SHA-256 of the event's content in a canonical JSON form."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["uuid"] = str(content["uuid"])
    content["occurred_at"] = content["occurred_at"].isoformat(timespec="microseconds")
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


def seal_hash(previous_hash: str, event_ids_and_hashes: list[tuple[int, str]]) -> str:
    digest = hashlib.sha256(previous_hash.encode())
    for event_id, row_hash in event_ids_and_hashes:
        digest.update(f"|{event_id}:{row_hash}".encode())
    return digest.hexdigest()


@dataclass
class VerifyReport:
    events_checked: int = 0
    seals_checked: int = 0
    unsealed_events: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_trail(*, chunk_size: int = 2000, events=AuditEvent, seals=AuditSeal
                 ) -> VerifyReport:
    """Recompute every event hash and every seal; stop at the first broken link."""
    report = VerifyReport()
    last_id = 0
    while True:
        chunk = list(events.objects.filter(id__gt=last_id).order_by("id")
                     .values("id", "row_hash", *HASHED_FIELDS)[:chunk_size])
        if not chunk:
            break
        for values in chunk:
            if event_hash(values) != values["row_hash"]:
                report.problem = (f"audit event {values['id']} does not match its hash: "
                                  f"its content was edited")
                return report
        report.events_checked += len(chunk)
        last_id = chunk[-1]["id"]

    previous = GENESIS_HASH
    sealed_up_to = 0
    for seal in seals.objects.order_by("id").iterator():
        rows = list(events.objects.filter(
            id__gte=seal.first_event_id, id__lte=seal.last_event_id)
            .order_by("id").values_list("id", "row_hash"))
        if seal.previous_hash != previous:
            report.problem = f"seal {seal.id} does not follow the seal before it"
            return report
        if len(rows) != seal.event_count or seal_hash(previous, rows) != seal.seal_hash:
            report.problem = (
                f"seal {seal.id} over events {seal.first_event_id}..{seal.last_event_id} "
                f"is broken: an event in that range was edited, deleted or inserted "
                f"({len(rows)} events now, {seal.event_count} when sealed)")
            return report
        previous = seal.seal_hash
        sealed_up_to = seal.last_event_id
        report.seals_checked += 1
    report.unsealed_events = events.objects.filter(id__gt=sealed_up_to).count()
    return report
