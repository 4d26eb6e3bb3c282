"""Issue 10, item 4: a planned switchover there and back (fail back) while a client keeps
writing, following the writable node as a load balancer does: no acknowledged write is
lost, and the writes are refused for seconds only, never answered with an error.
Its own pair: these tests change roles."""
import threading
import uuid

import pytest

from tests.ha.support import Node, Pair, WebClient, running_pair, status_of
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def switch_pair(tmp_path_factory) -> Pair:
    with running_pair(tmp_path_factory.mktemp("switchover"), server_id=51) as pair:
        yield pair


class Writer(threading.Thread):
    """Creates resources as fast as it can on whichever node takes them: a 503 (read
    only) sends it to the other node. Remembers what was acknowledged."""

    def __init__(self, nodes: list[Node], password: str) -> None:
        super().__init__(daemon=True)
        self.clients = []
        for node in nodes:
            client = WebClient(node.url)
            client.login("admin", password)
            self.clients.append(client)
        self.acknowledged: list[str] = []
        self.refused = 0
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        current = 0
        while not self.stop.is_set():
            name = f"sw-{uuid.uuid4().hex[:10]}"
            try:
                status, body, _ = self.clients[current].post(
                    "/resources/new/", {"name": name, "resource_type": "server"})
            except OSError as error:
                status, body = 0, str(error)
            if status == 302:
                self.acknowledged.append(name)
            elif status == 503:
                self.refused += 1
                current = 1 - current
                self.stop.wait(0.05)  # back off before trying the other node
            else:
                self.errors.append(f"{status}: {body[:200]}")
                current = 1 - current
                self.stop.wait(0.05)  # back off before trying the other node


def _more_writes(writer: Writer, count: int = 10) -> None:
    """The writer has had `count` more writes acknowledged (by whichever node is primary)."""
    target = len(writer.acknowledged) + count
    wait_until(lambda: len(writer.acknowledged) >= target, timeout=30,
               what=f"{count} more acknowledged writes")


def _switch(node: Node, other: Node) -> str:
    result = run_manage("ha_switchover", "--address", "127.0.0.1",
                        "--port", str(node.profile.mariadb_port), node=node.profile)
    assert result.returncode == 0, result.stdout + result.stderr
    wait_until(lambda: status_of(other).get("role") == "secondary"
               and status_of(other)["replication"]["status"] == "alive", timeout=60,
               what=f"{other.profile.name} to replicate from {node.profile.name}")
    return result.stdout


def _names_on(node: Node, names: list[str]) -> int:
    placeholders = ", ".join(["%s"] * len(names))
    return node.sql(f"SELECT COUNT(*) FROM strongroom.vault_resource "
                    f"WHERE name IN ({placeholders})", tuple(names))[0][0]


def test_switchover_there_and_back_loses_no_acknowledged_write(switch_pair):
    pair = switch_pair
    a, b = pair.primary, pair.secondary
    pair.wait_replicated()
    writer = Writer([a, b], a.admin_password())
    writer.start()
    try:
        _more_writes(writer)
        there = _switch(b, a)
        assert "secondary.strongroom.test is the primary now (epoch 1)" in there
        assert status_of(b)["role"] == "primary"
        _more_writes(writer)
        back = _switch(a, b)
        assert "primary.strongroom.test is the primary now (epoch 2)" in back
        _more_writes(writer)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.errors == []
    assert writer.refused >= 1 and len(writer.acknowledged) > 20
    # Every acknowledged write is on the primary again, and on its secondary.
    assert _names_on(a, writer.acknowledged) == len(writer.acknowledged)
    wait_until(lambda: _names_on(b, writer.acknowledged) == len(writer.acknowledged),
               what="the acknowledged writes on the secondary")
    assert a.sql("SELECT number, node FROM strongroom.ha_epoch ORDER BY number") == [
        (1, "secondary.strongroom.test"), (2, "primary.strongroom.test")]
    assert a.sql("SELECT @@global.read_only")[0][0] == 0
    assert b.sql("SELECT @@global.read_only")[0][0] == 1
