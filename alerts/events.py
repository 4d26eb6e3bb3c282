"""The four HA events and what an alert about each one says (R-H8).

Every text says what happened, on which node, since when, and what to do."""
from __future__ import annotations

from datetime import datetime

HA_ALIVE = "ha_alive"
HA_FAILED = "ha_failed"
REPLICATION_ALIVE = "replication_alive"
REPLICATION_FAILED = "replication_failed"

EVENT_TITLES = {
    HA_ALIVE: "High Availability Alive",
    HA_FAILED: "High Availability Failed",
    REPLICATION_ALIVE: "Replication Alive",
    REPLICATION_FAILED: "Replication Failed",
}
EVENTS = list(EVENT_TITLES)
FAILED_EVENTS = frozenset({HA_FAILED, REPLICATION_FAILED})

WHAT_HAPPENED = {
    HA_FAILED: "{node} cannot talk to its peer {peer}: the replication connection is down "
               "or the primary's heartbeat stopped arriving.",
    HA_ALIVE: "{node} and its peer {peer} talk again: the replication connection is up and "
              "the primary's heartbeat is fresh.",
    REPLICATION_FAILED: "{node} stopped applying the changes it receives from {peer}: the "
                        "replica's SQL thread stopped on an error. Its copy of the vault is "
                        "frozen at the change that failed.",
    REPLICATION_ALIVE: "{node} applies the changes from {peer} again, without error.",
}
WHAT_TO_DO = {
    HA_FAILED: "Check that MariaDB runs on {peer} and that {node} can reach it (network, "
               "firewall, port, TLS certificate), then run `manage.py ha_status` on both "
               "nodes. If the primary is lost for good, promote the secondary (README, "
               "disaster recovery). Until the pair is back, changes made on the primary "
               "do not reach the secondary.",
    HA_ALIVE: "Nothing to do. Check on the High Availability page that the lag falls back "
              "to normal.",
    REPLICATION_FAILED: "Read the database error below and the MariaDB error log on {node}. "
                        "Fix the conflicting row and restart replication, or rebuild the "
                        "secondary from a new pack made on the primary (README, "
                        "High availability). Until then the secondary serves stale data.",
    REPLICATION_ALIVE: "Nothing to do. The secondary catches up by itself; check the lag on "
                       "the High Availability page.",
}


def alert_subject(*, event: str, node: str) -> str:
    return f"[Strongroom] {EVENT_TITLES[event]} on {node}"


def alert_text(*, event: str, node: str, peer: str, since: datetime, detail: str) -> str:
    """One text for every channel: what happened, where, since when, what to do."""
    values = {"node": node, "peer": peer or "its peer"}
    lines = [
        f"{EVENT_TITLES[event]} on {node} since {since:%Y-%m-%d %H:%M:%S} UTC.",
        WHAT_HAPPENED[event].format(**values),
    ]
    if detail:
        lines.append(f"Detail: {detail}")
    lines.append(f"What to do: {WHAT_TO_DO[event].format(**values)}")
    return "\n".join(lines)
