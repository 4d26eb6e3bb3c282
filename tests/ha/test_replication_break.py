"""S3: replication breaks on a conflicting row. The operator sees the database's own
error, and the secondary is rebuilt with the same two commands, no file copying."""
import uuid

import pytest

from localservices.installer import pack_file
from localservices.processes import manage, start_processes, stop_processes
from tests.ha.support import WebClient
from tests.support import wait_until

pytestmark = pytest.mark.ha


def test_a_conflicting_row_breaks_replication_visibly_and_a_rebuild_heals_it(pair):
    name = f"conflict-{uuid.uuid4().hex[:6]}"
    # Someone with root on the secondary writes a row the primary will write too.
    pair.secondary.sql("INSERT INTO strongroom.accounts_team (name) VALUES (%s)", (name,))
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    status, _, _ = admin.post("/accounts/teams/new/", {"name": name})
    assert status == 302  # the primary is unaffected
    broken = wait_until(lambda: (r := pair.ha_status()).returncode != 0
                        and "applying changes failed" in r.stderr and r,
                        what="the SQL thread to stop")
    assert "Duplicate entry" in broken.stderr

    primary, secondary = pair.primary.profile, pair.secondary.profile
    manage(primary, "ha_setup", primary.node_name, secondary.node_name,
           "--primary-address", "127.0.0.1", "--primary-port", str(pair.link.port),
           "--output", str(pack_file(primary)))
    manage(secondary, "ha_install_pack", str(pack_file(primary)))
    stop_processes(secondary)  # new credentials are read at start-up
    start_processes(secondary)
    pair.wait_replicated()
    assert pair.secondary.sql("SELECT COUNT(*) FROM strongroom.accounts_team WHERE name = %s",
                              (name,))[0][0] == 1
    healthy = wait_until(lambda: (r := pair.ha_status()).returncode == 0 and r,
                         what="a healthy secondary")
    assert "healthy: replicating and fresh" in healthy.stdout
