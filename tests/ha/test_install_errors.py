"""ha_install_pack fails, with the real cause, when replication does not start: here
the primary's anonymous accounts (made by mariadb-install-db) match the replica's
login before strongroom_repl@'%' does."""
import pytest

from localservices.installer import install, pack_file
from localservices.node import services_up
from localservices.processes import manage
from localservices.stack import loopback_pair, pair_down
from tests.ha.support import Node
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha
ANONYMOUS = ("''@'localhost'", "''@'127.0.0.1'")


@pytest.fixture
def primary_and_new_secondary(tmp_path):
    primary, secondary = loopback_pair(tmp_path, server_id=21)
    try:
        install(primary)
        services_up(secondary)
        secondary.master_key_file.write_bytes(primary.master_key_file.read_bytes())
        secondary.master_key_file.chmod(0o600)
        yield Node(primary), Node(secondary)
    finally:
        pair_down(primary, secondary)


def test_install_fails_naming_the_refused_login_when_anonymous_accounts_win(
        primary_and_new_secondary):
    primary, secondary = primary_and_new_secondary
    manage(primary.profile, "ha_setup", primary.profile.node_name,
           secondary.profile.node_name, "--primary-address", "127.0.0.1",
           "--output", str(pack_file(primary.profile)))
    # After ha_setup, whose prerequisite check would have named them.
    primary.profile.mariadb.execute_unlogged([(f"CREATE USER {account}", None)
                                              for account in ANONYMOUS])

    result = run_manage("ha_install_pack", str(pack_file(primary.profile)),
                        node=secondary.profile)

    assert result.returncode == 1, result.stdout
    assert "Access denied for user 'strongroom_repl'" in result.stderr
    assert "anonymous" in result.stderr.lower() and "DROP USER ''@'localhost'" in result.stderr
    assert "build a new pack" not in result.stderr  # it would not help

    # The advice is right: dropping them is enough, the replica logs in on its own.
    primary.profile.mariadb.execute_unlogged([(f"DROP USER {account}", None)
                                              for account in ANONYMOUS])
    wait_until(lambda: secondary.sql("SHOW GLOBAL STATUS LIKE 'Slave_running'")[0][1]
               == "ON", what="replication to start")
