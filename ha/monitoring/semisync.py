"""Zero-data-loss mode (R-H12), as the primary sees it: MariaDB's semi-synchronous
replication is on, or has silently fallen back to asynchronous.

MariaDB keeps `rpl_semi_sync_master_enabled` ON after a fall back: the truth is the
status variable Rpl_semi_sync_master_status, and Rpl_semi_sync_master_no_tx counts the
commits no secondary acknowledged. The fall back and the return are the third status
kind of ha/monitoring/status.py: Alive (on), Failed (asynchronous, or not set up as expected),
Unknown (the mode is off: nothing to watch)."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connections, router

from ha.models import NodeStatus

ALIVE, FAILED, UNKNOWN = "alive", "failed", "unknown"
WAIT_POINT = "AFTER_SYNC"
_VARIABLES = ("rpl_semi_sync_master_enabled", "rpl_semi_sync_master_wait_point",
              "rpl_semi_sync_master_timeout")
_STATUS = ("Rpl_semi_sync_master_status", "Rpl_semi_sync_master_no_tx",
           "Rpl_semi_sync_master_yes_tx", "Rpl_semi_sync_master_clients")


@dataclass(frozen=True)
class SemiSyncState:
    """The primary's semi-sync variables and counters, read in one look."""

    expected: bool  # HA_ZERO_DATA_LOSS
    enabled: bool
    on: bool  # Rpl_semi_sync_master_status: off after a fall back
    wait_point: str
    timeout_ms: int
    clients: int  # secondaries acknowledging
    no_tx: int  # commits that were not acknowledged (since the server started)
    yes_tx: int

    @property
    def mode(self) -> str:
        """"off" (not set up), "on", or "async" (fallen back)."""
        if not self.enabled:
            return "off"
        return "on" if self.on else "async"


def semisync_state(cursor) -> SemiSyncState:
    cursor.execute("SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s, %s, %s)", _VARIABLES)
    variables = {name.lower(): value for name, value in cursor.fetchall()}
    cursor.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s, %s, %s, %s)", _STATUS)
    status = {name.lower(): value for name, value in cursor.fetchall()}

    def number(name: str) -> int:
        return int(status.get(name.lower()) or 0)

    return SemiSyncState(
        expected=settings.HA_ZERO_DATA_LOSS,
        enabled=variables.get("rpl_semi_sync_master_enabled") == "ON",
        on=status.get("rpl_semi_sync_master_status") == "ON",
        wait_point=variables.get("rpl_semi_sync_master_wait_point", ""),
        timeout_ms=int(variables.get("rpl_semi_sync_master_timeout") or 0),
        clients=number("Rpl_semi_sync_master_clients"), no_tx=number("Rpl_semi_sync_master_no_tx"),
        yes_tx=number("Rpl_semi_sync_master_yes_tx"))


def semisync_judgement(state: SemiSyncState) -> tuple[str, str]:
    """(status, reason) of the zero-data-loss kind on a primary."""
    if not state.expected:
        return UNKNOWN, "zero-data-loss mode is off (HA_ZERO_DATA_LOSS)"
    if not state.enabled or state.wait_point != WAIT_POINT:
        return FAILED, (f"zero-data-loss mode is expected but this server runs "
                        f"rpl_semi_sync_master_enabled={'ON' if state.enabled else 'OFF'}, "
                        f"wait point {state.wait_point or '-'} (want ON, {WAIT_POINT}): "
                        f"install the node with --zero-data-loss and restart its database")
    if not state.on:
        return FAILED, (f"semi-synchronous replication fell back to asynchronous: "
                        f"{state.no_tx} commits were not acknowledged by the secondary "
                        f"within {state.timeout_ms} ms; until it catches up, a crash of the "
                        f"primary can lose acknowledged writes")
    return ALIVE, ""


def semisync_observe() -> tuple[str, str, dict]:
    """On the primary: the kind's status, its reason, and the details to show."""
    with connections[router.db_for_write(NodeStatus)].cursor() as cursor:
        state = semisync_state(cursor)
    status, reason = semisync_judgement(state)
    details = {"zero_data_loss_expected": state.expected, "semi_sync_mode": state.mode,
               "semi_sync_clients": state.clients, "semi_sync_no_tx": state.no_tx,
               "semi_sync_yes_tx": state.yes_tx} if state.expected or state.enabled else {}
    return status, reason, details

