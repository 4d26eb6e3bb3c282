"""R-H3: on the secondary each layer refuses a write on its own, so neither hides a
hole in the other: the app refuses before any SQL is sent, and the database refuses
a write that bypasses the app's router, both for the app account (no write grant)
and for an account that holds one (read_only is ON)."""
import json

import MySQLdb
import pytest

from tests.support import run_manage

pytestmark = pytest.mark.ha

APP_LAYER = """
import json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from accounts.models import Team
from ha.router import ReadOnlyNode
with CaptureQueriesContext(connection) as sent:
    try:
        Team.objects.create(name="app-layer")
        outcome = "written"
    except ReadOnlyNode:
        outcome = "refused by the app"
print(json.dumps({"outcome": outcome, "queries": len(sent.captured_queries)}))
"""

DATABASE_LAYER = """
import json
from django.db import OperationalError
from accounts.models import Team
try:
    Team(name="db-layer").save(using="default")  # `using` skips the router
    outcome = None
except OperationalError as exc:
    outcome = exc.args[0]
print(json.dumps({"error": outcome}))
"""


def _last_json_line(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _teams_named(pair, name: str) -> int:
    return pair.secondary.sql("SELECT COUNT(*) FROM strongroom.accounts_team WHERE name = %s",
                              (name,))[0][0]


def test_the_secondarys_database_is_read_only(pair):
    assert pair.secondary.sql("SELECT @@global.read_only")[0][0] == 1
    assert pair.primary.sql("SELECT @@global.read_only")[0][0] == 0


def test_the_app_refuses_a_write_on_the_secondary_before_any_sql_is_sent(pair):
    result = _last_json_line(run_manage("shell", "-c", APP_LAYER,
                                        node=pair.secondary.profile))
    assert result == {"outcome": "refused by the app", "queries": 0}
    assert _teams_named(pair, "app-layer") == 0


def test_the_database_refuses_the_apps_write_that_bypasses_the_router(pair):
    result = _last_json_line(run_manage("shell", "-c", DATABASE_LAYER,
                                        node=pair.secondary.profile))
    assert result == {"error": 1142}  # INSERT command denied: no write grant on the replica
    assert _teams_named(pair, "db-layer") == 0


def test_read_only_refuses_even_an_account_that_may_write(pair):
    """Were the grants ever wrong, read_only still holds (error 1290)."""
    root = MySQLdb.connect(unix_socket=str(pair.secondary.profile.mariadb.socket.resolve()),
                           user="root", autocommit=True)
    try:
        with root.cursor() as cursor:
            cursor.execute("SET SESSION sql_log_bin = 0")  # nothing of this test replicates
            cursor.execute("CREATE OR REPLACE USER 'layer_probe'@'127.0.0.1' "
                           "IDENTIFIED BY 'probe-only'")
            cursor.execute("GRANT INSERT ON strongroom.accounts_team "
                           "TO 'layer_probe'@'127.0.0.1'")
        writer = MySQLdb.connect(host="127.0.0.1", port=pair.secondary.profile.mariadb_port,
                                 user="layer_probe", password="probe-only", autocommit=True)
        try:
            with writer.cursor() as cursor, pytest.raises(MySQLdb.OperationalError) as error:
                cursor.execute("INSERT INTO strongroom.accounts_team (name) "
                               "VALUES ('probe-layer')")
            assert error.value.args[0] == 1290  # --read-only option
        finally:
            writer.close()
    finally:
        with root.cursor() as cursor:
            cursor.execute("DROP USER IF EXISTS 'layer_probe'@'127.0.0.1'")
        root.close()
    assert _teams_named(pair, "probe-layer") == 0
