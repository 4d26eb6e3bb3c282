"""How the primary judges its zero-data-loss mode from MariaDB's semi-sync variables
(ha/monitoring/semisync.py); on real servers in test_zero_data_loss.py."""
from dataclasses import replace

from ha.monitoring.semisync import ALIVE, FAILED, UNKNOWN, SemiSyncState, semisync_judgement

ON = SemiSyncState(expected=True, enabled=True, on=True, wait_point="AFTER_SYNC",
                   timeout_ms=5000, clients=1, no_tx=0, yes_tx=40)


def _with(**changes) -> SemiSyncState:
    return replace(ON, **changes)


def test_the_mode_off_is_unknown_and_never_alerts():
    status, reason = semisync_judgement(_with(expected=False, enabled=False, on=False))
    assert status == UNKNOWN and "HA_ZERO_DATA_LOSS" in reason


def test_acknowledged_commits_are_alive():
    assert semisync_judgement(ON) == (ALIVE, "")


def test_a_fall_back_to_asynchronous_is_failed_with_the_unacknowledged_commits():
    status, reason = semisync_judgement(_with(on=False, no_tx=3, clients=0))
    assert status == FAILED
    assert "fell back to asynchronous" in reason and "3 commits" in reason
    assert _with(on=False).mode == "async"


def test_a_server_set_up_without_the_mode_or_with_after_commit_is_failed():
    for state in (_with(enabled=False, on=False), _with(wait_point="AFTER_COMMIT")):
        status, reason = semisync_judgement(state)
        assert status == FAILED and "--zero-data-loss" in reason
