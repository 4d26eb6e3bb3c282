"""R-H12: in zero-data-loss mode, a password change the primary acknowledged survives
a kill -9 of the primary's database at a random point of a stream of changes: once the
secondary has applied what it received, it holds every acknowledged change."""
import pytest

from bench.cluster import build_pair
from bench.crash import crash_writes

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def zero_data_loss_pair(tmp_path_factory):
    pair = build_pair(accounts=20, base=tmp_path_factory.mktemp("crash"), tag="crash",
                      server_id=51, zero_data_loss=True)
    try:
        yield pair
    finally:
        pair.close()


def test_no_acknowledged_password_change_is_lost_when_the_primary_crashes(
        zero_data_loss_pair):
    result = crash_writes(zero_data_loss_pair, changes=200)
    assert result["killed_after_acknowledged"] > 0
    assert result["lost"] == 0, result
