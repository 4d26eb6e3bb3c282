"""The audit trail at scale: python -m bench.audit_scale [--quick].

A node of its own (MariaDB with the bench's durable settings, Redis, migrated; no web,
Celery or beat, so nothing else seals or reads meanwhile) is filled with N audit rows
(real content hashes, bulk INSERTs), sealed, and then measured, each part in a fresh
process configured by the node's env file, so each peak RSS is that part's own:
- the audit page (first page, a page deep in the trail, actor + action + date range):
  server time = the Django test client's request in-process against the node's
  database (middleware, session, queries, template; no socket), median of 5;
- the CSV export of every row: duration and the process's peak RSS;
- sealing: catching up N rows, and sustained while 2,000 rows/s are inserted
  (the unsealed backlog sampled every second);
- audit_verify of every row: its time and peak RSS.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

FULL = {"audit_rows": 1_000_000, "sustain_seconds": 60, "seal_every": 10.0, "horizon": 5.0}
QUICK = {"audit_rows": 20_000, "sustain_seconds": 3, "seal_every": 1.0, "horizon": 1.0}
RATE = 2000  # audit rows/s during the sustained sealing run
ACTORS = 200
SEARCH = {"actor": "user007", "action": "password_reveal", "days": (10, 17)}
INSERT_BATCH = 2000


# --- the orchestrator (any process) ---------------------------------------------------

def audit_scale(size: dict) -> dict:
    """Build the node, run every part, tear the node down; the figures as a dict."""
    from localservices.node import VAR, Profile, services_down, services_up
    from localservices.process import free_port
    from localservices.processes import manage

    rows = size.get("audit_rows", QUICK["audit_rows"])
    profile = Profile("audit-scale", mariadb_port=free_port(), redis_port=free_port(),
                      web_port=free_port(), server_id=51, base_dir=VAR / "bench-audit")
    shutil.rmtree(profile.base_dir, ignore_errors=True)
    try:
        services_up(profile)
        manage(profile, "master_key_create", str(profile.master_key_file))
        manage(profile, "migrate", "--noinput")
        manage(profile, "migrate", "--noinput", "--database", "local")
        manage(profile, "collectstatic", "--noinput")  # the page's template names them
        figure = {"rows": rows}
        figure.update(_part(profile, "load", rows))  # one process: fill, seal, pages
        figure["export"] = _part(profile, "export")
        figure["verify"] = _part(profile, "verify")
        figure["sustained_sealing"] = _part(
            profile, "sustain", size.get("sustain_seconds", QUICK["sustain_seconds"]),
            size.get("seal_every", QUICK["seal_every"]), size.get("horizon", QUICK["horizon"]))
    finally:
        services_down(profile)
    return figure


def _part(profile, name: str, *args) -> dict:
    from localservices.node import ROOT
    from localservices.processes import PYTHON, node_environment

    started = time.monotonic()
    result = subprocess.run([PYTHON, "-m", "bench.audit_scale", "--part", name,
                             *map(str, args)], cwd=ROOT, env=node_environment(profile),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"audit_scale {name} failed: {result.stderr[-1500:]}")
    print(f"[audit_scale] {name}: {time.monotonic() - started:.1f} s", file=sys.stderr,
          flush=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def table_lines(figure: dict) -> list[str]:
    rows = format(figure["rows"], ",")
    pages, export = figure["pages"], figure["export"]
    verify, sustained = figure["verify"], figure["sustained_sealing"]
    catch_up = figure["seal_catch_up"]
    return [
        f"{'Audit page, ' + rows + ' rows: first page':44} {pages['first_ms']:>7.1f} ms "
        f"(a page mid-trail {pages['deep_ms']:.1f} ms; COUNT(*) alone {pages['count_ms']:.0f} ms)",
        f"{'Audit search actor+action+dates, ' + rows:44} {pages['search_ms']:>7.1f} ms "
        f"({pages['search_rows']} rows on the page)",
        f"{'Audit CSV export, ' + rows + ' rows':44} {export['seconds']:>7.1f} s, peak RSS "
        f"{export['peak_rss_mb']:.0f} MB (at start {export['start_rss_mb']:.0f} MB)",
        f"{'Audit sealing, ' + format(RATE, ',') + ' rows/s inserted':44} "
        f"{sustained['sealed_per_s_busy']:>7.0f} rows/s while sealing, busy "
        f"{sustained['sealer_busy_share']:.0%}; backlog after each run (every "
        f"{sustained['seal_every_s']:.0f} s) {_first_last(sustained['backlog_after_runs'])} "
        f"(max {sustained['backlog_max']:,}); catch-up of {rows}: {catch_up['seconds']:.1f} s",
        f"{'audit_verify, ' + rows + ' rows':44} {verify['seconds']:>7.1f} s, peak RSS "
        f"{verify['peak_rss_mb']:.0f} MB",
    ]


def _first_last(values: list[int]) -> str:
    return f"{values[0]:,}→{values[-1]:,}" if values else "none"


# --- the parts (a process configured for the node) -------------------------------------

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@functools.cache
def _actions() -> list[str]:
    from audit.models import Action

    return list(Action.values)


def _event_values(i: int, occurred_at, node: str) -> dict:
    actions = _actions()  # half of them reveals, as in a vault's real trail
    action = ("password_reveal" if (i // ACTORS) % 2 == 0
              else actions[(i // (2 * ACTORS)) % len(actions)])
    return {"uuid": uuid.uuid4(), "occurred_at": occurred_at, "node": node,
            "actor": f"user{i % ACTORS:03d}", "action": action, "object_type": "account",
            "object_id": str(i % 5000), "object_repr": f"svc{i % 5000} on bench",
            "source_ip": f"10.0.{i % 256 // 16}.{i % 16}", "reason": f"ticket {i % 977}",
            "detail": {}}


def _insert(cursor, rows: list[tuple]) -> None:
    from audit.integrity import HASHED_FIELDS
    from audit.models import AuditEvent

    columns = (*HASHED_FIELDS, "row_hash", "recorded_at")
    cursor.executemany(f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(columns)}) "
                       f"VALUES ({', '.join(['%s'] * len(columns))})", rows)


def _row(values: dict, recorded_at) -> tuple:
    """As audit_record stores it: the hash of the content, times as naive UTC."""
    from audit.integrity import HASHED_FIELDS, event_hash

    stored = {**values, "uuid": str(values["uuid"]), "detail": json.dumps(values["detail"]),
              "occurred_at": values["occurred_at"].replace(tzinfo=None)}
    return (*(stored[name] for name in HASHED_FIELDS), event_hash(values),
            recorded_at.replace(tzinfo=None))


def part_fill(rows: int) -> dict:
    """`rows` events over the last 30 days, oldest first."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    end = timezone.now() - timedelta(hours=1)
    start = end - timedelta(days=30)
    step = (end - start) / rows
    started = time.monotonic()
    for first in range(0, rows, INSERT_BATCH):
        batch = []
        for i in range(first, min(first + INSERT_BATCH, rows)):
            occurred_at = start + step * i
            batch.append(_row(_event_values(i, occurred_at, settings.NODE_NAME), occurred_at))
        with transaction.atomic(), connection.cursor() as cursor:
            _insert(cursor, batch)
    took = time.monotonic() - started
    return {"seconds": took, "rows_per_s": rows / took}


def part_seal() -> dict:
    from audit.sealing import audit_seal_all

    started = time.monotonic()
    sealed = audit_seal_all(horizon_seconds=0)
    took = time.monotonic() - started
    return {"sealed": sealed, "seconds": took, "rows_per_s": sealed / took if took else 0}


def part_load(rows: int) -> dict:
    return {"fill": part_fill(rows), "seal_catch_up": part_seal(), "pages": part_pages()}


def _auditor_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from accounts.roles import AUDITOR

    user, _ = get_user_model().objects.get_or_create(username="bench-auditor")
    user.groups.add(Group.objects.get(name=AUDITOR))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _median_ms(client, path: str, params: dict, runs: int = 5) -> tuple[float, bytes]:
    response = client.get(path, params)  # warm: the session and the first query plan
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, params)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), response.content


def part_pages() -> dict:
    from django.utils import timezone

    from audit.models import AuditEvent

    client = _auditor_client()
    first_ms, _ = _median_ms(client, "/audit/", {})
    middle = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() // 2
    deep_ms, _ = _median_ms(client, "/audit/", {"before": middle})
    now = timezone.now()
    since, until = (now - timedelta(days=SEARCH["days"][1]), now - timedelta(days=SEARCH["days"][0]))
    search = {"actor": SEARCH["actor"], "action": SEARCH["action"],
              "since": since.strftime("%Y-%m-%d %H:%M"), "until": until.strftime("%Y-%m-%d %H:%M")}
    search_ms, body = _median_ms(client, "/audit/", search)
    started = time.perf_counter()
    AuditEvent.objects.count()  # what the page's old Paginator paid on every view
    count_ms = (time.perf_counter() - started) * 1000
    return {"first_ms": first_ms, "deep_ms": deep_ms, "search_ms": search_ms,
            "search_rows": body.decode().count("<td>" + SEARCH["actor"] + "</td>"),
            "search_plan": _plan(since, until), "count_ms": count_ms}


def _plan(since, until) -> list[str]:
    """The index MariaDB picks for the page's search query, per table access."""
    from django.db import connection

    from audit.selectors import PAGE_SIZE, events_filtered

    events = events_filtered(actor=SEARCH["actor"], action=SEARCH["action"], since=since,
                             until=until)[:PAGE_SIZE + 1]
    sql, params = events.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        names = [column[0] for column in cursor.description]
        return [f"key={row['key']} rows={row['rows']} {row['Extra']}"
                for row in (dict(zip(names, values)) for values in cursor.fetchall())]


def part_export() -> dict:
    client = _auditor_client()
    client.get("/audit/")  # the process as a web worker would be before the export
    start_rss = _peak_rss_mb()
    started = time.monotonic()
    response = client.get("/audit/export.csv")
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    return {"seconds": time.monotonic() - started, "lines": lines, "mb": size / 2**20,
            "start_rss_mb": start_rss, "peak_rss_mb": _peak_rss_mb()}


def part_verify() -> dict:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    started = time.monotonic()
    call_command("audit_verify", stdout=out)
    return {"seconds": time.monotonic() - started, "output": out.getvalue().strip(),
            "peak_rss_mb": _peak_rss_mb()}


def part_sustain(seconds: float, seal_every: float, horizon: float) -> dict:
    """Insert RATE rows/s on one thread while this one seals every `seal_every` s (as
    beat does every 10 s) and samples the backlog (rows not sealed) every second."""
    from django.db import connection

    from audit.sealing import audit_seal_all

    stop = threading.Event()
    inserted = threading.Thread(target=_insert_at_rate, args=(stop,), daemon=True)
    samples, after_runs, busy, sealed = [], [], 0.0, 0
    started = time.monotonic()
    next_seal = started + seal_every
    inserted.start()
    try:
        while (now := time.monotonic()) - started < seconds:
            if now >= next_seal:
                next_seal += seal_every
                began = time.monotonic()
                sealed += audit_seal_all(horizon_seconds=horizon)
                busy += time.monotonic() - began
                after_runs.append(_backlog())
            samples.append(_backlog())
            time.sleep(max(0.0, 1 - (time.monotonic() - now)))
    finally:
        stop.set()
        inserted.join()
        connection.close()
    return {"seconds": seconds, "seal_every_s": seal_every, "horizon_s": horizon,
            "sealed": sealed, "sealed_per_s_busy": sealed / busy if busy else 0.0,
            "sealer_busy_share": busy / seconds, "backlog": samples,
            "backlog_after_runs": after_runs, "backlog_max": max(samples)}


def _backlog() -> int:
    """Rows above the newest seal's high-water mark: not sealed yet."""
    from audit.models import AuditEvent, AuditSeal

    high = AuditSeal.objects.order_by("-id").values_list("last_event_id", flat=True).first()
    return AuditEvent.objects.filter(id__gt=high or 0).count()


def _insert_at_rate(stop: threading.Event) -> None:
    """RATE rows/s in tenths of a second, each tenth one durable commit."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    i, tick = 0, time.monotonic()
    try:
        while not stop.is_set():
            batch = []
            for _ in range(RATE // 10):
                now = timezone.now()
                batch.append(_row(_event_values(i, now, settings.NODE_NAME), now))
                i += 1
            with transaction.atomic(), connection.cursor() as cursor:
                _insert(cursor, batch)
            tick += 0.1
            time.sleep(max(0.0, tick - time.monotonic()))
    finally:
        connection.close()


PARTS = {"load": (part_load, int), "export": (part_export,), "verify": (part_verify,),
         "sustain": (part_sustain, float, float, float)}


def _run_part(name: str, args: list[str]) -> None:
    import django

    django.setup()
    from vault.startup import start_up

    start_up()  # the master key: the seals' HMAC key is sealed by it
    function, *types = PARTS[name]
    print(json.dumps(function(*(kind(value) for kind, value in zip(types, args)))))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_scale")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['audit_rows']:,} rows")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
    if options.part:
        _run_part(options.part, options.args)
        return 0
    figure = audit_scale(QUICK if options.quick else FULL)
    print("\n".join(table_lines(figure)))
    print(json.dumps(figure, default=str), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
