"""Each workload measures one thing users feel and returns plain figures."""
from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from bench.cluster import BenchPair, install_for_pack, pack_profiles, seed
from bench.loadgen import Target, measure
from bench.openbao import OpenBao
from localservices.process import stop_pid
from localservices.installer import pack_file
from localservices.node import ROOT
from localservices.processes import manage, node_environment, start_processes
from localservices.stack import pair_down


# --- Reads and writes under load (wrk) -------------------------------------------

def floor(pair: BenchPair, profile, *, seconds: float, runs: int,
          warm_up: bool = True) -> dict:
    """The same stack's cheapest JSON answer (/health/live: every middleware, no
    database): what any request here costs at least."""
    return measure(Target(pair.url(profile), ["live"], "/health/%s"), seconds=seconds,
                   runs=runs, warm_up=warm_up)


def api_read(pair: BenchPair, profile, *, seconds: float, runs: int,
             warm_up: bool = True) -> dict:
    return measure(Target(pair.url(profile), pair.account_ids,
                          "/api/v1/accounts/%s/password/?reason=bench",
                          headers={"Authorization": f"Bearer {pair.token}"}),
                   seconds=seconds, runs=runs, warm_up=warm_up)


def api_write(pair: BenchPair, profile, *, seconds: float, runs: int,
              warm_up: bool = True) -> dict:
    return measure(Target(pair.url(profile), pair.account_ids,
                          "/api/v1/accounts/%s/password/", method="POST",
                          body='{"password": "Bench-change-%d!"}',
                          headers={"Authorization": f"Bearer {pair.token}",
                                   "Content-Type": "application/json"}),
                   seconds=seconds, runs=runs, warm_up=warm_up)


def web_reveal(pair: BenchPair, profile, *, seconds: float, runs: int,
               warm_up: bool = True) -> dict:
    session, csrf = _web_session(pair.url(profile), "admin",
                                 (pair.primary.secrets_dir / "admin_password").read_text().strip())
    return measure(Target(pair.url(profile), pair.account_ids, "/accounts/%s/reveal/",
                          method="POST", body=f"csrfmiddlewaretoken={csrf}&reason=bench-%d",
                          headers={"Cookie": f"sessionid={session}; csrftoken={csrf}",
                                   "Content-Type": "application/x-www-form-urlencoded"}),
                   seconds=seconds, runs=runs, warm_up=warm_up)


def _web_session(base_url: str, username: str, password: str) -> tuple[str, str]:
    host = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    response.read()
    csrf = _cookie(response, "csrftoken")
    body = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrfmiddlewaretoken": csrf})
    connection.request("POST", "/accounts/login/", body=body, headers={
        "Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"bench login failed: {response.status}")
    return _cookie(response, "sessionid"), csrf


def _cookie(response, name: str) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no {name} cookie")


def openbao_read_write(bao: OpenBao, names: list[str], *, seconds: float, runs: int,
                       warm_up: bool = True) -> dict:
    headers = {"X-Vault-Token": bao.token}
    read = measure(Target(bao.url, names, "/v1/secret/data/%s", headers=headers),
                   seconds=seconds, runs=runs, warm_up=warm_up)
    write = measure(Target(bao.url, names, "/v1/secret/data/%s", method="POST",
                           body='{"data": {"password": "Bench-change-%d!"}}',
                           headers={**headers, "Content-Type": "application/json"}),
                    seconds=seconds, runs=runs, warm_up=warm_up)
    return {"read": read, "write": write, "audit_log_lines": bao.audit_lines()}


# --- Replication lag --------------------------------------------------------------

class _Api:
    """One keep-alive connection to a node's API."""

    def __init__(self, base_url: str, token: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.token = parts.hostname, parts.port, token
        self.connection = None

    def call(self, method: str, path: str, body: dict | None = None) -> int:
        for _ in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port,
                                                                 timeout=5)
                self.connection.request(method, path, body=json.dumps(body) if body else None,
                                        headers={"Authorization": f"Bearer {self.token}",
                                                 "Content-Type": "application/json"})
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                self.connection = None
        return 0


def replication_lag(pair: BenchPair, *, rate: float, seconds: float) -> dict:
    """Password changes at a steady rate on the primary; a prober on the secondary
    reads each change's primary-written timestamp and notes when it arrived."""
    pair.wait_replicated()
    since = pair.secondary.mariadb.query("SELECT UTC_TIMESTAMP(6)")[0][0]
    lags: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        import MySQLdb

        connection = MySQLdb.connect(unix_socket=str(pair.secondary.mariadb.socket.resolve()),
                                     user="root", autocommit=True)
        newest = since
        with connection.cursor() as cursor:
            while not stop.is_set():
                cursor.execute("SELECT password_changed_at, UTC_TIMESTAMP(6) FROM "
                               "strongroom.vault_account WHERE password_changed_at > %s",
                               (newest,))
                for changed_at, now in cursor.fetchall():
                    lags.append((now - changed_at).total_seconds() * 1000)
                    newest = max(newest, changed_at)
                time.sleep(0.002)
        connection.close()

    prober = threading.Thread(target=probe)
    prober.start()
    clients = threading.local()
    statuses: list[int] = []

    def change(account_id: str) -> None:
        if not hasattr(clients, "api"):
            clients.api = _Api(pair.url(pair.primary), pair.token)
        statuses.append(clients.api.call("POST", f"/api/v1/accounts/{account_id}/password/",
                                         {"password": f"Lag-{time.monotonic_ns()}"}))

    total = int(rate * seconds)
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        for i in range(total):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(change, pair.account_ids[i % len(pair.account_ids)])
    elapsed = time.monotonic() - started
    pair.wait_replicated()
    time.sleep(0.1)
    stop.set()
    prober.join()
    lags.sort()
    return {"target_rate": rate, "achieved_rate": len(statuses) / elapsed,
            "changes": len(statuses), "failed": sum(1 for s in statuses if s != 200),
            "samples": len(lags), "p50_ms": _percentile(lags, 50),
            "p99_ms": _percentile(lags, 99), "max_ms": lags[-1] if lags else None}


def _percentile(values: list[float], pct: float):
    if not values:
        return None
    return values[min(len(values) - 1, int(len(values) * pct / 100))]


# --- Availability during a primary kill --------------------------------------------

def primary_kill(pair: BenchPair, *, outage: float, settle: float = 2.0) -> dict:
    """Readers hit the secondary's API while the primary's MariaDB and web are killed
    -9 and restarted: the longest gap between successful reads (from a second before
    the kill until `settle` seconds after the primary writes again), and how long after
    the restart the primary serves a write again."""
    successes: list[float] = []
    failures = [0]
    stop = threading.Event()

    def reader(n: int) -> None:
        api = _Api(pair.url(pair.secondary), pair.token)
        i = n
        while not stop.is_set():
            i += 7
            status = api.call("GET", f"/api/v1/accounts/{pair.account_ids[i % len(pair.account_ids)]}/password/")
            if status == 200:
                successes.append(time.monotonic())
            else:
                failures[0] += 1

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for thread in readers:
        thread.start()
    time.sleep(max(1.0, settle))
    killed_at = time.monotonic()
    pair.primary.mariadb.stop(sig=signal.SIGKILL)
    stop_pid(int((pair.primary.base_dir / "run" / "web.pid").read_text()), sig=signal.SIGKILL)
    time.sleep(outage)
    restart_at = time.monotonic()
    pair.primary.mariadb.start()
    start_processes(pair.primary, ("web",))
    writer = _Api(pair.url(pair.primary), pair.token)
    while writer.call("POST", f"/api/v1/accounts/{pair.account_ids[0]}/password/",
                      {"password": "After-restart-1"}) != 200:
        if time.monotonic() - restart_at > 120:
            stop.set()
            raise RuntimeError("the primary took no write 120 s after its restart")
        time.sleep(0.05)
    writes_back = time.monotonic() - restart_at
    time.sleep(settle)
    stop.set()
    for thread in readers:
        thread.join()
    window = sorted(t for t in successes if t >= killed_at - 1)
    gaps = [b - a for a, b in zip(window, window[1:])]
    return {"outage_s": outage, "reads_ok": len(window), "reads_failed": failures[0],
            "longest_read_gap_ms": max(gaps) * 1000 if gaps else None,
            "primary_writes_again_after_restart_s": writes_back}


# --- HA pack --------------------------------------------------------------------------

def ha_pack(accounts: int) -> dict:
    primary, secondary = pack_profiles(f"pack{accounts}")
    try:
        install_for_pack(primary, secondary)
        seed(primary, accounts)
        started = time.monotonic()
        manage(primary, "ha_setup", primary.node_name, secondary.node_name,
               "--primary-address", "127.0.0.1", "--primary-port", str(primary.mariadb_port),
               "--output", str(pack_file(primary)))
        built = time.monotonic() - started
        started = time.monotonic()
        manage(secondary, "ha_install_pack", str(pack_file(primary)))
        installed = time.monotonic() - started
        rows = secondary.mariadb.query("SELECT COUNT(*) FROM strongroom.vault_account")[0][0]
        return {"accounts": accounts, "build_s": built, "install_s": installed,
                "pack_mb": pack_file(primary).stat().st_size / 1e6,
                "accounts_on_secondary": rows}
    finally:
        pair_down(primary, secondary)


# --- Audit flow-back --------------------------------------------------------------------

def audit_flowback(pair: BenchPair, rows: int) -> dict:
    """An isolated secondary holds `rows` audit rows; the link returns: how long until
    all of them are in the primary's trail."""
    import subprocess

    from localservices.processes import PYTHON

    marker = f"bench-flowback-{int(time.time())}"
    pair.link.freeze()
    try:
        result = subprocess.run([PYTHON, "-m", "bench.outbox_fill", "--rows", str(rows),
                                 "--actor", marker], cwd=ROOT,
                                env=node_environment(pair.secondary), capture_output=True,
                                text=True)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-800:])
    finally:
        restored = time.monotonic()
        pair.link.resume()
    count = 0
    while count < rows:
        count = pair.primary.mariadb.query(
            "SELECT COUNT(*) FROM strongroom.audit_auditevent WHERE actor = %s", (marker,))[0][0]
        if time.monotonic() - restored > 120:
            break
        time.sleep(0.05)
    return {"rows": rows, "arrived": count, "seconds": time.monotonic() - restored}

