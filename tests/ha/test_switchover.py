"""Issue 10 item 4, issue 19 items 12 and 15: a planned switchover there and back (fail
back) while a client keeps writing to both nodes and a monitor keeps probing both nodes'
/health/primary. No acknowledged write is lost; at no instant do both nodes take writes
or call themselves primary; neither node ever answers with an error (the one being
rebuilt from the other's snapshot says "rejoining"). The gap in which neither node took
a write, as the client saw it, is printed beside the command's own figure.
Its own pair: these tests change roles."""
from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest

from tests.ha.support import Node, Pair, WebClient, fetch, running_pair, status_of
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha

A, B = 0, 1


@pytest.fixture(scope="module")
def switch_pair(tmp_path_factory) -> Pair:
    with running_pair(tmp_path_factory.mktemp("switchover"), server_id=51) as pair:
        yield pair


@dataclass(frozen=True)
class Answer:
    node: int
    asked: float  # time.monotonic() when the request was sent
    answered: float
    status: int
    body: str
    name: str = ""  # the resource a write tried to create


class Asker(threading.Thread):
    """Asks one node the same kind of question again and again, remembering every
    answer with when it was asked and when it came."""

    def __init__(self, node: int, ask: Callable[[], tuple[int, str, str]]) -> None:
        super().__init__(daemon=True)
        self.node, self.ask = node, ask
        self.answers: list[Answer] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            asked = time.monotonic()
            try:
                status, body, name = self.ask()
            except OSError as error:
                status, body, name = 0, str(error), ""
            self.answers.append(Answer(self.node, asked, time.monotonic(), status,
                                       body[:300], name))
            self.stop.wait(0.02)


def _writer(index: int, node: Node, password: str) -> Asker:
    """Alice creating resources on one node as fast as it lets her."""
    alice = WebClient(node.url)
    alice.login("admin", password)

    def write() -> tuple[int, str, str]:
        name = f"sw-{uuid.uuid4().hex[:10]}"
        status, body, headers = alice.post("/resources/new/", {"name": name,
                                                               "resource_type": "server"})
        return status, headers.get("Location", "") if status == 302 else body, name
    return Asker(index, write)


def _prober(index: int, node: Node) -> Asker:
    """A load balancer's health check: is this node the writable primary?"""
    return Asker(index, lambda: (*fetch(node, "/health/primary"), ""))


def _taken(answer: Answer) -> bool:
    """A write the node acknowledged: sent on to the new resource's page. (A node whose
    tables were being reloaded sent Alice to the login page instead: not a write.)"""
    return answer.status == 302 and bool(re.search(r"/resources/[0-9a-f-]+/$", answer.body))


def _more_acknowledged(writers: list[Asker], count: int = 10) -> None:
    def acknowledged() -> int:
        return sum(_taken(answer) for writer in writers for answer in writer.answers)
    target = acknowledged() + count
    wait_until(lambda: acknowledged() >= target, timeout=30,
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


def _overlapping(answers: list[Answer]) -> list[tuple[Answer, Answer]]:
    """Pairs of answers from different nodes whose request-to-answer intervals
    overlap: both nodes said yes at what may have been the same instant."""
    on_a = [answer for answer in answers if answer.node == A]
    on_b = [answer for answer in answers if answer.node == B]
    return [(a, b) for a in on_a for b in on_b
            if a.asked < b.answered and b.asked < a.answered]


def _owners(answers: list[Answer]) -> list[int]:
    """The nodes that said yes, in the order they did, each run counted once."""
    owners: list[int] = []
    for answer in sorted(answers, key=lambda answer: answer.answered):
        if not owners or owners[-1] != answer.node:
            owners.append(answer.node)
    return owners


def _gaps(acknowledged: list[Answer]) -> list[float]:
    """For each change of the node taking writes: from the old node's last acknowledged
    write to the new node's first, as the client saw them (answer times)."""
    ordered = sorted(acknowledged, key=lambda answer: answer.answered)
    return [after.answered - before.answered for before, after in zip(ordered, ordered[1:])
            if before.node != after.node]


def test_switchover_there_and_back_loses_no_write_and_never_has_two_primaries(switch_pair):
    pair = switch_pair
    a, b = pair.primary, pair.secondary
    pair.wait_replicated()
    writers = [_writer(A, a, a.admin_password()), _writer(B, b, a.admin_password())]
    probers = [_prober(A, a), _prober(B, b)]
    for asker in writers + probers:
        asker.start()
    try:
        _more_acknowledged(writers)
        there = _switch(b, a)
        assert status_of(b)["role"] == "primary"
        _more_acknowledged(writers)
        back = _switch(a, b)
        _more_acknowledged(writers)
    finally:
        for asker in writers + probers:
            asker.stop.set()
        for asker in writers + probers:
            asker.join(timeout=30)
    writes = [answer for writer in writers for answer in writer.answers]
    probes = [answer for prober in probers for answer in prober.answers]
    acknowledged = [answer for answer in writes if _taken(answer)]
    said_primary = [answer for answer in probes if answer.status == 200]
    claimed = [re.search(r"[Cc]hanges were refused for ([0-9.]+) s", output).group(1)
               for output in (there, back)]
    print(f"\nswitchover: {len(writes)} writes ({len(acknowledged)} acknowledged), "
          f"{len(probes)} probes; neither node took a write for "
          f"{', '.join(f'{gap:.2f}' for gap in _gaps(acknowledged))} s as the client saw "
          f"it; the command said {', '.join(claimed)} s")

    # Never an error from either node, the rebuilt one included: a write is taken or
    # refused with a 503, a probe says yes or no.
    assert [answer for answer in writes if not _taken(answer) and answer.status != 503] == []
    assert [answer for answer in probes if answer.status not in (200, 503)] == []
    # One writable node at a time: A, then B, then A again, never both at once.
    assert _owners(acknowledged) == [A, B, A]
    assert _overlapping(acknowledged) == []
    assert _owners(said_primary) == [A, B, A]
    assert _overlapping(said_primary) == []

    assert "secondary.strongroom.test is the primary now (epoch 1)" in there
    assert "primary.strongroom.test is the primary now (epoch 2)" in back
    for output in (there, back):
        # A clean handover risks nothing: none of ha_promote's warnings.
        assert "--force" not in output and "are lost" not in output, output
        assert "handed over" in output, output

    names = [answer.name for answer in acknowledged]
    assert len(names) > 20 and {answer.node for answer in writes if answer.status == 503} \
        == {A, B}
    # Every acknowledged write is on the primary again, and on its secondary.
    assert _names_on(a, names) == len(names)
    wait_until(lambda: _names_on(b, names) == len(names),
               what="the acknowledged writes on the secondary")
    assert a.sql("SELECT number, node FROM strongroom.ha_epoch ORDER BY number") == [
        (1, "secondary.strongroom.test"), (2, "primary.strongroom.test")]
    assert a.sql("SELECT @@global.read_only")[0][0] == 0
    assert b.sql("SELECT @@global.read_only")[0][0] == 1


def test_a_handled_request_keeps_no_pack(switch_pair):
    """Each node was asked to hand over once and sent one pack (test above): the two
    requests are kept as a record, the pack inside them is not."""
    for node in (switch_pair.primary, switch_pair.secondary):
        rows = node.sql("SELECT kind, handled_at IS NOT NULL, LENGTH(payload) "
                        "FROM strongroom_local.ha_peerrequest ORDER BY id")
        assert rows == [("switchover", 1, 0), ("pack", 1, 0)], node.profile.name
