"""The crash harness of zero-data-loss mode (R-H12): clients change passwords through the
API as fast as they can while the primary's MariaDB is killed -9 at a random point;
then the secondary applies what it received and we count the changes the primary had
acknowledged (HTTP 200) that the secondary does not hold.

Each acknowledged change is known by its commit's GTID (the `Strongroom-Gtid` answer
header): the secondary holds it when its gtid_slave_pos has reached that sequence
number in that domain (GTID strict mode: one ordered stream per domain)."""
from __future__ import annotations

import http.client
import json
import random
import signal
import threading
import time
from dataclasses import dataclass, field

from bench.cluster import BenchPair
from localservices.node import Profile
from localservices.processes import manage

WRITERS = 4


@dataclass
class CrashRun:
    changes: int  # asked for
    acknowledged: list[str] = field(default_factory=list)  # GTIDs of the HTTP 200s
    failed: int = 0
    not_sent: int = 0
    kill_after: int = 0  # acknowledged changes before the kill
    write_seconds: float = 0.0  # from the first change to the kill


class _Writer:
    """One keep-alive API connection; a refused or broken request is a failure, never
    retried (a retry could succeed twice)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.connection: http.client.HTTPConnection | None = None

    def change(self, account_id: str, password: str) -> tuple[int, str]:
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                             timeout=60)
            self.connection.request("POST", f"/api/v1/accounts/{account_id}/password/",
                                    body=json.dumps({"password": password}),
                                    headers={"Authorization": f"Bearer {self.token}",
                                             "Content-Type": "application/json"})
            response = self.connection.getresponse()
            response.read()
            return response.status, response.getheader("Strongroom-Gtid", "")
        except (OSError, http.client.HTTPException):
            self.connection = None
            return 0, ""


def write_until_crash(pair: BenchPair, *, changes: int, rng: random.Random,
                      link_down_before_kill: float = 0.0) -> CrashRun:
    """`changes` password changes from WRITERS clients; the primary's MariaDB is killed
    -9 once a random number of them (between a fifth and four fifths) was acknowledged.
    With `link_down_before_kill`, the link to the secondary is frozen that many seconds
    before the kill (and stays frozen): the crash of a primary whose secondary lags."""
    run = CrashRun(changes=changes)
    kill_at = rng.randint(max(1, changes // 5), max(1, changes * 4 // 5))
    lock = threading.Lock()
    next_change = iter(range(changes))
    killed = threading.Event()
    started = time.monotonic()

    def kill() -> None:
        run.write_seconds = time.monotonic() - started
        run.kill_after = len(run.acknowledged)
        if link_down_before_kill:
            pair.link.freeze()
            time.sleep(link_down_before_kill)
        pair.primary.mariadb.stop(sig=signal.SIGKILL)
        killed.set()

    def writer() -> None:
        client = _Writer(pair.primary.web_port, pair.token)
        while not killed.is_set():  # after the kill every change fails: stop asking
            with lock:
                number = next(next_change, None)
            if number is None:
                return
            account_id = pair.account_ids[number % len(pair.account_ids)]
            status, gtid = client.change(account_id, f"Crash-{number}-{rng.random():.12f}")
            with lock:
                if status == 200:
                    run.acknowledged.append(gtid)
                else:
                    run.failed += 1
                if len(run.acknowledged) == kill_at and not killed.is_set():
                    threading.Thread(target=kill).start()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not killed.is_set():  # fewer successes than planned: kill at the end
        kill()
    killed.wait()
    run.not_sent = changes - len(run.acknowledged) - run.failed
    return run


def relay_log_applied(secondary: Profile, *, timeout: float = 120) -> str:
    """What a promotion does with the data first, without the promotion: stop receiving
    from the dead primary and apply everything already received (the relay log), so
    the pair can be restored and crash again. Returns the secondary's gtid_slave_pos."""
    mariadb = secondary.mariadb
    mariadb.query("STOP SLAVE IO_THREAD")
    received = _slave_status(mariadb)["Gtid_IO_Pos"]
    waited = mariadb.query("SELECT MASTER_GTID_WAIT(%s, %s)", (received, timeout))[0][0]
    if waited != 0:
        raise RuntimeError(f"the secondary did not apply its relay log up to {received} "
                           f"within {timeout} s")
    return mariadb.query("SELECT @@gtid_slave_pos")[0][0]


def promoted(secondary: Profile, *, timeout: float = 30) -> str:
    """`manage.py ha_promote` on the secondary, as an operator runs it once it has lost
    its primary (it refuses while its replica still looks connected); returns the new
    primary's binlog position, which holds what it applied of the old primary's."""
    deadline = time.monotonic() + timeout
    while _slave_status(secondary.mariadb).get("Slave_IO_Running") == "Yes":
        if time.monotonic() > deadline:
            raise RuntimeError("the secondary still sees its primary: not promoting")
        time.sleep(0.2)
    manage(secondary, "ha_promote", "--reason", "crash test")
    return secondary.mariadb.query("SELECT @@gtid_binlog_pos")[0][0]


def _slave_status(mariadb) -> dict:
    import MySQLdb.cursors

    connection = MySQLdb.connect(unix_socket=str(mariadb.socket.resolve()), user="root",
                                 cursorclass=MySQLdb.cursors.DictCursor)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW SLAVE STATUS")
            return cursor.fetchone() or {}
    finally:
        connection.close()


def missing_gtids(acknowledged: list[str], held_position: str) -> list[str]:
    """The acknowledged GTIDs the position does not include (a GTID the answer did not
    carry counts as missing: nothing proves it is held)."""
    held = {}
    for gtid in filter(None, held_position.split(",")):
        domain, _server, sequence = gtid.strip().split("-")
        held[int(domain)] = int(sequence)
    missing = []
    for gtid in acknowledged:
        try:
            domain, _server, sequence = (int(part) for part in gtid.split("-"))
        except ValueError:
            missing.append(gtid)
            continue
        if held.get(domain, -1) < sequence:
            missing.append(gtid)
    return missing


def crash_writes(pair: BenchPair, *, changes: int, link_down_before_kill: float = 0.0,
                 promote: bool = False, seed: int | None = None) -> dict:
    """One crash run on `pair`; its primary's database is dead afterwards and the
    secondary's replica stopped (`restore_after_crash` brings both back), or, with
    `promote`, the secondary is the primary (ha_promote) and the pair is done."""
    rng = random.Random(seed)
    pair.wait_replicated()
    run = write_until_crash(pair, changes=changes, rng=rng,
                            link_down_before_kill=link_down_before_kill)
    position = promoted(pair.secondary) if promote else relay_log_applied(pair.secondary)
    lost = missing_gtids(run.acknowledged, position)
    return {"zero_data_loss": pair.primary.zero_data_loss, "changes": changes,
            "link_down_before_kill_s": link_down_before_kill,
            "acknowledged": len(run.acknowledged), "failed": run.failed,
            "not_sent": run.not_sent, "killed_after_acknowledged": run.kill_after,
            "write_rate": run.kill_after / run.write_seconds if run.write_seconds else None,
            "lost": len(lost), "lost_gtids": lost[:20], "secondary_position": position,
            "promoted": promote}


def restore_after_crash(pair: BenchPair) -> None:
    """The primary's database restarts (crash recovery keeps what its binary log holds)
    and the secondary fetches what it had missed, so the pair can crash again."""
    pair.link.resume()
    pair.primary.mariadb.start()
    pair.secondary.mariadb.query("START SLAVE IO_THREAD")
    pair.wait_replicated(timeout=120)


# (name, seconds the link is frozen before the kill): a plain crash, and a crash while
# the secondary lags behind (shorter than the semi-sync timeout: no fall back yet).
SCENARIOS = (("kill", 0.0), ("link_down_kill", 1.5))


def crash_scenarios(pair: BenchPair, *, changes: int) -> dict:
    """Every scenario on one pair, restored after each crash but the last, which ends
    with the real promotion (the pair is spent)."""
    results = {}
    for index, (name, link_down) in enumerate(SCENARIOS):
        last = index == len(SCENARIOS) - 1
        results[name] = crash_writes(pair, changes=changes, link_down_before_kill=link_down,
                                     promote=last)
        if not last:
            restore_after_crash(pair)
    return results
