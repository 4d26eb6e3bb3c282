"""Tamper evidence: each event's own content hash, and the chain of keyed seals over
them (see SealFields for what a seal covers)."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from audit import idsets
from audit.models import AuditEvent, AuditSeal, SealWitness
from audit.sealkey import seal_key

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


def seal_mac(*, key: bytes, previous_hash: str, last_event_id: int, pending_ids: str,
             rows: list[tuple[int, str]]) -> str:
    """HMAC-SHA-256 of one seal: what it follows, how far it reaches, what it leaves
    in flight, and every (id, row hash) it covers in id order."""
    mac = hmac.new(key, f"{previous_hash}|to:{last_event_id}|pending:{pending_ids}".encode(),
                   hashlib.sha256)
    for event_id, row_hash in sorted(rows):
        mac.update(f"|{event_id}:{row_hash}".encode())
    return mac.hexdigest()


@dataclass
class VerifyReport:
    events_checked: int = 0
    seals_checked: int = 0
    unsealed_events: int = 0
    late_events: int = 0  # sealed after a later event was: slow transactions, not tampering
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_trail(*, chunk_size: int = 2000, events=AuditEvent, seals=AuditSeal
                 ) -> VerifyReport:
    """Recompute every event hash and every seal, then compare the newest seal with
    this node's witness; stop at the first broken link."""
    report = VerifyReport()
    report.problem = (_check_rows(report, events, chunk_size)
                      or _SealWalk(report, events, seals).run()
                      or _check_witness(seals))
    return report


def _check_rows(report: VerifyReport, events, chunk_size: int) -> str:
    last_id = 0
    while chunk := list(events.objects.filter(id__gt=last_id).order_by("id")
                        .values("id", "row_hash", *HASHED_FIELDS)[:chunk_size]):
        for values in chunk:
            if event_hash(values) != values["row_hash"]:
                return f"audit event {values['id']} does not match its hash: its content was edited"
        report.events_checked += len(chunk)
        last_id = chunk[-1]["id"]
    return ""


class _SealWalk:
    """Walks the seals in order, tracking the high-water mark and the ids in flight."""

    def __init__(self, report: VerifyReport, events, seals) -> None:
        self.report, self.events, self.seals = report, events, seals
        self.previous, self.high = GENESIS_HASH, 0
        self.pending: set[int] = set()
        self.dropped: set[int] = set()  # in flight once, then rolled back: must never appear
        self.key: bytes | None = None

    def run(self) -> str:
        for seal in self._seals_in_order():
            if seal.previous_hash != self.previous:
                return (f"seal {seal.id} does not follow the seal before it "
                        f"(a seal was deleted or edited)")
            problem = self._check(seal)
            if problem:
                return problem
            self.previous, self.high = seal.seal_hash, max(self.high, seal.last_event_id)
            self.report.seals_checked += 1
        appeared = self.events.objects.filter(id__in=self.dropped).order_by("id").first()
        if appeared is not None:
            return (f"audit event {appeared.id} appeared after the sealer saw its id unused: "
                    f"it was inserted")
        self.report.unsealed_events = (self.events.objects.filter(id__gt=self.high).count()
                                       + self.events.objects.filter(id__in=self.pending).count())
        return ""

    def _seals_in_order(self, chunk_size: int = 500):
        """Keyset chunks: .iterator() would still buffer every seal client-side."""
        last_id = 0
        while chunk := list(self.seals.objects.filter(id__gt=last_id).order_by("id")
                            [:chunk_size]):
            yield from chunk
            last_id = chunk[-1].id

    def _check(self, seal) -> str:
        if self.key is None:
            self.key = seal_key(trail=self.seals.TRAIL)
            if self.key is None:
                return f"seal {seal.id} exists but this database holds no audit seal key"
        ids = idsets.decode(seal.event_ids)
        new_pending = set(idsets.decode(seal.pending_ids))
        in_range = dict(self.events.objects.filter(id__gt=self.high, id__lte=seal.last_event_id)
                        .values_list("id", "row_hash"))
        inserted = sorted(set(in_range) - set(ids) - new_pending)
        if inserted:
            return (f"audit event {inserted[0]} was inserted into the range of seal {seal.id}: "
                    f"it was neither sealed nor in flight when that seal was made")
        late = [event_id for event_id in ids if event_id <= self.high]
        found = {**in_range, **dict(self.events.objects.filter(id__in=late)
                                    .values_list("id", "row_hash"))}
        rows = [(event_id, found[event_id]) for event_id in ids if event_id in found]
        mac = seal_mac(key=self.key, previous_hash=self.previous,
                       last_event_id=seal.last_event_id, pending_ids=seal.pending_ids, rows=rows)
        if len(rows) != len(ids) or len(ids) != seal.event_count or mac != seal.seal_hash:
            return self._broken(seal, len(rows))
        self.report.late_events += len(late)
        self.dropped |= self.pending - set(late) - new_pending
        self.pending = new_pending
        return ""

    @staticmethod
    def _broken(seal, found: int) -> str:
        return (f"seal {seal.id} over events {seal.first_event_id}..{seal.last_event_id} "
                f"is broken: an event it covers was edited, deleted or inserted, or the seal "
                f"itself was edited ({found} events found, {seal.event_count} when sealed)")


def _check_witness(seals) -> str:
    witness = SealWitness.objects.filter(trail=seals.TRAIL).order_by("-seal_id").first()
    if witness is None:
        return ""
    seal = seals.objects.filter(id=witness.seal_id).first()
    if seal is None:
        return (f"the trail was truncated: seal {witness.seal_id}, which this node saw at "
                f"{witness.witnessed_at:%Y-%m-%d %H:%M:%S} UTC, is gone")
    if seal.seal_hash != witness.seal_hash:
        return f"seal {seal.id} is not the seal this node saw with that id: it was replaced"
    return ""
