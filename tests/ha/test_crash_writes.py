"""R-H12: in zero-data-loss mode, a password change the primary acknowledged survives
a kill -9 of the primary's database at a random point of a stream of changes: once the
secondary has applied what it received, it holds every acknowledged change, and the
last crash ends with ha_promote. Without the mode, a crash while the secondary lags
loses acknowledged changes: make bench runs that pair and reports the count."""
import pytest

from bench.cluster import build_pair
from bench.crash import crash_writes, restore_after_crash

pytestmark = pytest.mark.ha
CHANGES = 200
# Shorter than the semi-sync timeout (5 s): the primary has not fallen back yet.
LINK_DOWN_SECONDS = 1.5


# The asynchronous pair's losses are measured by make bench (bench/crash.py).
@pytest.fixture(scope="module")
def crash_pair(tmp_path_factory):
    pair = build_pair(accounts=20, base=tmp_path_factory.mktemp("crash"), tag="crash",
                      server_id=51, zero_data_loss=True)
    try:
        yield pair
    finally:
        pair.close()


def test_no_acknowledged_password_change_is_lost_when_the_primary_crashes(crash_pair):
    result = crash_writes(crash_pair, changes=CHANGES)
    restore_after_crash(crash_pair)
    assert result["killed_after_acknowledged"] > 0
    assert result["lost"] == 0, result


def test_a_crash_while_the_secondary_lags_loses_only_unacknowledged_changes_in_the_mode(
        crash_pair):
    # The pair's last crash: the secondary is promoted with ha_promote, and every
    # acknowledged change must be on the new primary.
    result = crash_writes(crash_pair, changes=CHANGES,
                          link_down_before_kill=LINK_DOWN_SECONDS, promote=True)
    assert result["killed_after_acknowledged"] > 0
    assert result["lost"] == 0, result
