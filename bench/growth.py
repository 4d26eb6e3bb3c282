"""How cost grows with the vault: python -m bench.growth [--quick].

One standalone primary (durable MariaDB, gunicorn, no Celery: the beat's sealing of a
million fresh audit rows would compete for the two cores) is measured in stages that
grow it: the small vault, the large vault, then the large vault with a large audit
trail. Each stage measures
- API retrieval (audited) and web search under load, with wrk (bench.loadgen);
- the server time of the resource list (first page, a page in the middle, a search),
  and of the user list (first and a later page).

Server time is taken in-process with Django's test Client in a process configured by the
node's env file, against the node's own database: it is the whole Django request
(middleware, view, queries, template) without the network, gunicorn's queue or the
load generator, which on a shared 2-core box would add noise larger than the figure.
Each page is asked 20 times (3 in the quick run) after two warm-ups; the median is
reported, with the number of SQL statements it ran (which must not change with the
vault's size).

Seeding: accounts go in through bench.seed (bulk inserts, each account sealed as the
services seal it: the ciphertext is bound to the account's id, so no copy of one
sealed value can stand in), one resource per account, so the resource list has as
many rows as there are accounts. Users and audit rows are generated in SQL.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.loadgen import Target, measure
from localservices.node import VAR, Profile

FULL = {"sizes": [1000, 100000], "audit_rows": 1_000_000, "seconds": 10, "runs": 3,
        "warm_up": True, "probe_repeats": 20}
# make test's run: every stage once, on small numbers (the statement counts still
# compare; the times mean little).
QUICK = {"sizes": [200, 2000], "audit_rows": 20_000, "seconds": 1, "runs": 1,
         "warm_up": False, "probe_repeats": 3}
GROWTH_DIR = VAR / "bench-growth"
USERS_PER_ACCOUNTS = 20  # one user per 20 accounts: 50 and 5,000 at full size


def growth(size: dict, *, node: Profile | None = None) -> dict:
    """Figures for each stage. `node`: a serving primary with an `admin` to reuse (it is
    grown, not emptied); otherwise one is built under var/bench-growth and removed."""
    from localservices.installer import install, stop
    from localservices.processes import manage, stop_processes
    from localservices.stack import loopback_pair

    own = node is None
    if own:
        import shutil

        shutil.rmtree(GROWTH_DIR, ignore_errors=True)
        node, _ = loopback_pair(GROWTH_DIR, server_id=51, tag="growth")
    try:
        if own:
            install(node)
            stop_processes(node, ("worker", "beat"))
        token = manage(node, "api_token_create", "--user", "admin", "--name",
                       f"growth-{time.monotonic_ns()}").strip().splitlines()[-1]
        stages, seeded = [], 0
        for accounts in size["sizes"]:
            _say(f"growth: seeding up to {accounts:,} accounts")
            took = _seed(node, accounts=accounts - seeded,
                         users=(accounts - seeded) // USERS_PER_ACCOUNTS)
            seeded = accounts
            stages.append({"accounts": accounts, "audit_rows": _audit_rows(node),
                           "seed_s": took, **_measure(node, size, token)})
        _say(f"growth: adding {size['audit_rows']:,} audit rows")
        took = _fill_audit(node, size["audit_rows"])
        stages.append({"accounts": seeded, "audit_rows": _audit_rows(node),
                       "seed_s": took, **_measure(node, size, token)})
        return {"stages": stages, "concurrency": stages[0]["api_read"]["concurrency"],
                "probe_repeats": size["probe_repeats"]}
    finally:
        if own:
            stop(node)


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- Filling the node ------------------------------------------------------------------

def _seed(node: Profile, *, accounts: int, users: int) -> float:
    started = time.monotonic()
    _node_python(node, "--seed-accounts", str(accounts), "--seed-users", str(users))
    return time.monotonic() - started


def _fill_audit(node: Profile, rows: int) -> float:
    """`rows` audit events in one INSERT … SELECT over MariaDB's sequence engine: a
    spread of actors, actions and a year of times, so that filters have something to
    choose from. Not in the binary log (a standalone node; nothing replicates)."""
    actions = ["password_reveal"] * 6 + ["login", "password_change", "account_update",
                                         "logout"]
    action_list = ", ".join(f"'{a}'" for a in actions)
    started = time.monotonic()
    node.mariadb.run_sql(f"""
        SET SESSION sql_log_bin = 0;
        INSERT INTO strongroom.audit_auditevent
          (uuid, occurred_at, node, actor, action, object_type, object_id, object_repr,
           source_ip, reason, detail, row_hash, recorded_at)
        SELECT UUID(), UTC_TIMESTAMP(6) - INTERVAL (seq * 31) SECOND, 'growth.bench',
               CONCAT('user', seq % 500), ELT(1 + seq % {len(actions)}, {action_list}),
               'account', CONCAT('bench-', seq), CONCAT('svc', seq % 100000, '@bench'),
               '10.0.0.1', 'bench', '{{}}', SHA2(CONCAT('bench-audit-', seq), 256),
               UTC_TIMESTAMP(6)
        FROM seq_1_to_{rows};""", database="strongroom")
    return time.monotonic() - started


def _audit_rows(node: Profile) -> int:
    return node.mariadb.query("SELECT COUNT(*) FROM strongroom.audit_auditevent")[0][0]


# --- Measuring one stage ---------------------------------------------------------------

def _measure(node: Profile, size: dict, token: str) -> dict:
    from bench.workloads import _web_session
    from localservices.installer import admin_password_file

    url = f"http://127.0.0.1:{node.web_port}"
    load = {"seconds": size["seconds"], "runs": size["runs"], "warm_up": size["warm_up"]}
    sample = [str(row[0]) for row in node.mariadb.query(
        "SELECT id FROM strongroom.vault_account ORDER BY RAND() LIMIT 5000")]
    logins = [row[0] for row in node.mariadb.query(
        "SELECT login_name FROM strongroom.vault_account ORDER BY RAND() LIMIT 500")]
    api_read = measure(Target(url, sample, "/api/v1/accounts/%s/password/?reason=bench",
                              headers={"Authorization": f"Bearer {token}"}), **load)
    session, csrf = _web_session(url, "admin", admin_password_file(node).read_text().strip())
    search = measure(Target(url, logins, "/?q=%s",
                            headers={"Cookie": f"sessionid={session}; csrftoken={csrf}"}),
                     **load)
    pages = _node_python(node, "--probe", str(size["probe_repeats"]))
    return {"api_read": api_read, "search": search,
            "pages": json.loads(pages.strip().splitlines()[-1])}


def _node_python(node: Profile, *args: str) -> str:
    from localservices.node import ROOT
    from localservices.processes import PYTHON, node_environment

    result = subprocess.run([PYTHON, "-m", "bench.growth", *args], cwd=ROOT,
                            env=node_environment(node), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"bench.growth {' '.join(args)} failed: {result.stderr[-1500:]}")
    return result.stdout


# --- Inside the node's own process (its env file configures Django) ---------------------

def _seed_here(*, accounts: int, users: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.roles import PASSWORD_USER
    from bench.seed import seed

    seed(accounts=accounts, owner="admin", per_resource=1, batch=2000)
    user_model = get_user_model()
    run = time.time_ns()
    password = make_password(None)  # unusable: these users never log in
    created = user_model.objects.bulk_create(
        [user_model(username=f"bench{run}-{n:06}", password=password) for n in range(users)],
        batch_size=2000)
    role = Group.objects.get(name=PASSWORD_USER)
    membership = user_model.groups.through
    membership.objects.bulk_create([membership(user_id=user.pk, group_id=role.pk)
                                    for user in created], batch_size=2000)


def _probe_here(repeats: int) -> dict:
    """Median server time (ms) and statement count of each page, in-process."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from strongroom.keyset import AFTER, encode_cursor
    from vault.models import Resource

    admin = get_user_model().objects.get(username="admin")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    middle = Resource.objects.order_by("name", "id")[Resource.objects.count() // 2]
    users = get_user_model().objects.order_by("username", "id")
    later_user = users[users.count() // 2]
    login = Resource.objects.order_by("id").values_list("accounts__login_name",
                                                        flat=True).last()
    pages = {
        "resource_list_first": "/",
        "resource_list_middle": "/?page=" + encode_cursor(AFTER, (middle.name,)),
        "search": f"/?q={login}",
        "user_list_first": "/accounts/users/",
        "user_list_later": "/accounts/users/?page=" + encode_cursor(
            AFTER, (later_user.username,)),
    }
    overhead = -_rows_read(connection) + _rows_read(connection)  # what asking costs
    figures = {}
    for name, path in pages.items():
        for _ in range(2):
            if client.get(path).status_code != 200:
                raise RuntimeError(f"{path} did not answer 200")
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        before = _rows_read(connection)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        rows_read = _rows_read(connection) - before - overhead
        figures[name] = {"median_ms": statistics.median(times), "max_ms": max(times),
                         "queries": len(captured), "rows_read": rows_read}
    return figures


def _rows_read(connection) -> int:
    """Rows and index entries this session's statements have read so far (MariaDB's
    Handler_read_* counters): a measure of a page's database work that, unlike its
    time, is not blurred by the other processes on a shared box."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
        return sum(int(value) for _, value in cursor.fetchall())


# --- The table --------------------------------------------------------------------------

def table_lines(figure: dict) -> list[str]:
    lines = []
    for stage in figure["stages"]:
        title = f"{stage['accounts']:,} accounts, {stage['audit_rows']:,} audit rows"
        for key, label in (("api_read", "API retrieval"), ("search", "web search")):
            load = stage[key]
            lines.append(f"{'Growth: ' + label + ', ' + title:60} "
                         f"{load['rps']['median']:>7.0f} req/s, p99 "
                         f"{load['p99_ms']['median']:.1f} ms, {load['errors']} errors")
        pages = stage["pages"]
        lines.append(f"{'  server ms / statements / rows read':60} " + ", ".join(
            f"{name.replace('resource_list_', 'resources ').replace('user_list_', 'users ')} "
            f"{page['median_ms']:.0f}/{page['queries']}/{page['rows_read']}"
            for name, page in pages.items()))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--seed-accounts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed-users", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=int, metavar="REPEATS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
    if args.seed_accounts is not None or args.probe is not None:
        import django

        django.setup()
        if args.probe is not None:
            print(json.dumps(_probe_here(args.probe)))
        else:
            _seed_here(accounts=args.seed_accounts, users=args.seed_users)
        return 0
    started = time.monotonic()
    figure = growth(QUICK if args.quick else FULL)
    figure["took_s"] = time.monotonic() - started
    if args.output:
        args.output.write_text(json.dumps(figure, indent=2))
    print("\n".join(table_lines(figure)))
    print(f"(took {figure['took_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
