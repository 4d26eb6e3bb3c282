"""Detection times of the HA status (issue 9): seconds from a link freeze or a primary
kill to "High Availability Failed" on the secondary's /ha/status, and from the
restoration to "Alive". Used by make bench: timings are measured there, never
asserted in a test."""
from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from typing import Callable


def ha_status(url: str) -> str:
    try:
        with urllib.request.urlopen(url + "/ha/status", timeout=2) as response:
            return json.load(response)["ha"]["status"]
    except (OSError, ValueError, KeyError):
        return ""


def seconds_until(url: str, wanted: str, *, since: float, timeout: float = 60) -> float:
    while True:
        if ha_status(url) == wanted:
            return time.monotonic() - since
        if time.monotonic() - since > timeout:
            raise TimeoutError(f"{url}: HA status not {wanted} after {timeout}s")
        time.sleep(0.05)


def summary(values: list[float]) -> dict:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2),
            "max": round(max(values), 2), "trials": [round(v, 2) for v in values]}


def detection(*, secondary_url: str, cut: Callable[[], None], restore: Callable[[], None],
              trials: int = 5) -> dict:
    to_failed, to_alive = [], []
    for _ in range(trials):
        seconds_until(secondary_url, "alive", since=time.monotonic())
        time.sleep(1.5)  # a settled heartbeat, at a phase unrelated to the checks
        started = time.monotonic()
        cut()
        to_failed.append(seconds_until(secondary_url, "failed", since=started))
        restore()
        restored = time.monotonic()
        to_alive.append(seconds_until(secondary_url, "alive", since=restored))
    return {"to_failed": summary(to_failed), "to_alive": summary(to_alive)}


def bench_detection(pair, *, trials: int) -> dict:
    """Both scenarios on make bench's pair (bench.cluster.BenchPair)."""
    import signal

    secondary_url = pair.url(pair.secondary)
    mariadb = pair.primary.mariadb
    try:
        freeze = detection(secondary_url=secondary_url, cut=pair.link.freeze,
                           restore=pair.link.resume, trials=trials)
    finally:
        pair.link.resume()
    try:
        kill = detection(secondary_url=secondary_url,
                         cut=lambda: mariadb.stop(sig=signal.SIGKILL), restore=mariadb.start,
                         trials=trials)
    finally:
        if not mariadb.is_running():
            mariadb.start()
    return {"link_freeze": freeze, "primary_kill": kill}


def table_lines(figures: dict) -> list[str]:
    lines = []
    for name, title in (("link_freeze", "link freeze"), ("primary_kill", "primary kill")):
        for phase, label in (("to_failed", "→ HA Failed"), ("to_alive", "restored → Alive")):
            value = figures[name][phase]
            lines.append(f"{'HA detection, ' + title + ' ' + label:44} median "
                         f"{value['median']:.2f} s (min {value['min']:.2f}, max "
                         f"{value['max']:.2f}, {len(value['trials'])} trials)")
    return lines
