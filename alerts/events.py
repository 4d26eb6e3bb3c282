"""The HA events and what an alert about each one says (R-H8, R-H12).

Every text says what happened, on which node, since when, and what to do."""
from __future__ import annotations

from datetime import datetime, timezone

HA_ALIVE = "ha_alive"
HA_FAILED = "ha_failed"
REPLICATION_ALIVE = "replication_alive"
REPLICATION_FAILED = "replication_failed"
# Zero-data-loss mode (ha/monitoring/semisync.py): semi-synchronous again / fell back to asynchronous.
SEMISYNC_ALIVE = "semisync_alive"
SEMISYNC_FAILED = "semisync_failed"

EVENT_TITLES = {
    HA_ALIVE: "High Availability Alive",
    HA_FAILED: "High Availability Failed",
    REPLICATION_ALIVE: "Replication Alive",
    REPLICATION_FAILED: "Replication Failed",
    SEMISYNC_ALIVE: "Zero-Data-Loss Alive",
    SEMISYNC_FAILED: "Zero-Data-Loss Failed",
}
EVENTS = list(EVENT_TITLES)
FAILED_EVENTS = frozenset({HA_FAILED, REPLICATION_FAILED, SEMISYNC_FAILED})

# Either node may observe a transition (the primary through the secondary's reports),
# so the texts name the roles, and {node} is the observer.
WHAT_HAPPENED = {
    HA_FAILED: "{node} and its peer {peer} cannot talk: the replication link is down, or "
               "the primary's heartbeat no longer reaches the secondary.",
    HA_ALIVE: "{node} and its peer {peer} talk again: the replication link is up and the "
              "primary's heartbeat is fresh on the secondary.",
    REPLICATION_FAILED: "The secondary stopped applying the primary's changes (seen by "
                        "{node}): its SQL thread stopped on an error. Its copy of the vault "
                        "is frozen at the change that failed.",
    REPLICATION_ALIVE: "The secondary applies the primary's changes again, without error "
                       "(seen by {node}).",
    SEMISYNC_FAILED: "The primary {node} fell back from semi-synchronous to asynchronous "
                     "replication: its secondary {peer} did not acknowledge a commit within "
                     "the timeout. Writes go on, but a write acknowledged now may be lost if "
                     "the primary crashes before the secondary has it.",
    SEMISYNC_ALIVE: "The primary {node} replicates semi-synchronously again: every write it "
                    "acknowledges is on its secondary {peer} first.",
}
WHAT_TO_DO = {
    HA_FAILED: "Check that MariaDB runs on both nodes and that the secondary reaches the "
               "primary's database port (network, firewall, TLS certificate), then run "
               "`manage.py ha_status` on both. Until the pair is back, changes made on the "
               "primary do not reach the secondary; if the primary cannot come back, the "
               "secondary keeps serving read-only while you rebuild the pair (README, High "
               "availability).",
    HA_ALIVE: "Nothing to do. Check on the High Availability page that the lag falls back "
              "to normal.",
    REPLICATION_FAILED: "Read the database error below and the MariaDB error log on the "
                        "secondary. Fix the conflicting row and restart replication, or "
                        "rebuild the secondary from a new pack made on the primary (README, "
                        "When replication breaks). Until then the secondary serves stale "
                        "data.",
    REPLICATION_ALIVE: "Nothing to do. The secondary catches up by itself; check the lag on "
                       "the High Availability page.",
    SEMISYNC_FAILED: "Bring the secondary back: check its MariaDB, its replica threads and "
                     "the link (`manage.py ha_status` on both nodes; a High Availability "
                     "Failed alert usually came first). The mode returns by itself once the "
                     "secondary has caught up. Until then, avoid changes you could not make "
                     "again after losing the primary, and do not fail over to a secondary "
                     "that was not in sync.",
    SEMISYNC_ALIVE: "Nothing to do: zero-data-loss mode holds again.",
}


def alert_subject(*, event: str, node: str) -> str:
    return f"[Strongroom] {EVENT_TITLES[event]} on {node}"


def alert_text(*, event: str, node: str, peer: str, since: datetime, detail: str) -> str:
    """One text for every channel: what happened, where, since when, what to do."""
    values = {"node": node, "peer": peer or "its peer"}
    since_utc = since.astimezone(timezone.utc)
    lines = [
        f"{EVENT_TITLES[event]} on {node} since {since_utc:%Y-%m-%d %H:%M:%S} UTC.",
        WHAT_HAPPENED[event].format(**values),
    ]
    if detail:
        lines.append(f"Detail: {detail}")
    lines.append(f"What to do: {WHAT_TO_DO[event].format(**values)}")
    return "\n".join(lines)
