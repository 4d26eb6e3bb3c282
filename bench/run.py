"""make bench: python -m bench.run [--quick]

Starts its own HA pair (durable MariaDB: innodb_flush_log_at_trx_commit=1,
sync_binlog=1; DEBUG off; gunicorn with STRONGROOM_WEB_WORKERS sync workers), one
standalone node built the same way, and an OpenBao node, runs every workload, prints
one table and writes bench/results/latest.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.audit_scale import table_lines as audit_scale_lines
from bench.detection import table_lines
from bench.growth import table_lines as growth_lines

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

FULL = {"accounts": 1000, "seconds": 20, "runs": 3, "warm_up": True, "lag_seconds": 20,
        "pack_sizes": [10000, 100000], "flowback_rows": 10000, "outage": 3.0,
        "kill_settle": 2.0, "detection_trials": 5, "crash_changes": 1000}
# Every group once, on small numbers: what make test checks is that each figure is
# produced, never its value.
QUICK = {"accounts": 200, "seconds": 1, "runs": 1, "warm_up": False, "lag_seconds": 2,
         "pack_sizes": [1000], "flowback_rows": 1000, "outage": 1.0, "kill_settle": 1.0,
         "detection_trials": 1, "crash_changes": 100}


def _version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except OSError:
        return "missing"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) \
        else "unknown"


def machine(bao_version: str) -> dict:
    import django

    return {"cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "django": django.get_version(),
            "mariadb": _version(["mariadbd", "--version"]),
            "redis": _version(["redis-server", "--version"]),
            "wrk": _version(["wrk", "--version"]), "openbao": bao_version,
            "web_workers": os.environ.get("STRONGROOM_WEB_WORKERS", "4")}


GROUPS = ("load", "lag", "flowback", "kill", "detection", "crash", "pack", "audit", "growth")
PAIR_GROUPS = frozenset({"load", "lag", "flowback", "kill", "detection", "crash"})


def run(quick: bool, only: frozenset[str] = frozenset(GROUPS)) -> dict:
    """Every workload of the groups in `only` (all by default). The quick run checks
    that every figure is produced, not what it is: there the groups that build nodes
    of their own (pack, audit, growth) run beside the pair's, using the core that the
    pair's groups leave idle while they wait on heartbeats and restarts. The full run
    runs one group at a time."""
    size = QUICK if quick else FULL
    started = time.monotonic()
    with ThreadPoolExecutor(1) as beside:
        apart = beside.submit(_without_pair, size, only, quick) if quick else None
        figures = _with_pair(size, only, quick)
        if "crash" in only and not quick:
            figures["crash_writes"]["on"] = _crash_zero_data_loss(size)
        figures.update(apart.result() if apart else _without_pair(size, only, quick))
    return {"quick": quick, "only": sorted(only),
            "machine": machine(figures.get("openbao", {}).get("version", "not run")),
            "took_s": time.monotonic() - started, "figures": figures}


def _with_pair(size: dict, only: frozenset[str], quick: bool) -> dict:
    """The groups on the bench's HA pair, the single node and OpenBao."""
    from bench import workloads
    from bench.cluster import BENCH_DIR
    from bench.crash import crash_scenarios
    from bench.detection import bench_detection
    from bench.openbao import OpenBao

    figures: dict = {}
    bao = OpenBao(BENCH_DIR.parent / "bench-openbao")
    pair = single = None
    try:
        pair, single, names = _build(size, only, bao)
        if "load" in only:
            figures.update(_load(size, pair, single, bao, names))
            bao.stop()  # neither idles beside the groups that follow
            single.close()
            single = None
        if "lag" in only:
            _say("replication lag at 200 changes/s")
            figures["replication_lag"] = workloads.replication_lag(
                pair, rate=200, seconds=size["lag_seconds"])
        if "flowback" in only:
            _say("audit flow-back")
            figures["audit_flowback"] = workloads.audit_flowback(pair, size["flowback_rows"])
        if "kill" in only:
            _say("primary kill -9 during secondary reads")
            figures["primary_kill"] = workloads.primary_kill(pair, outage=size["outage"],
                                                             settle=size["kill_settle"])
        if "detection" in only:
            _say("HA status detection: link freeze and primary kill")
            figures["ha_detection"] = bench_detection(pair, trials=size["detection_trials"])
        # make test runs its own short crash test (test_zero_data_loss): full bench only
        if "crash" in only and not quick:
            _say("primary kill -9 during password changes (asynchronous replication)")
            figures["crash_writes"] = {"off": crash_scenarios(pair,
                                                              changes=size["crash_changes"])}
    finally:
        bao.stop()
        for built in (single, pair):
            if built is not None:
                built.close()
    return figures


def _crash_zero_data_loss(size: dict) -> dict:
    from bench.cluster import BENCH_DIR, build_pair
    from bench.crash import crash_scenarios

    _say("primary kill -9 during password changes (zero-data-loss mode)")
    pair = build_pair(accounts=size["accounts"], base=BENCH_DIR / "zero-data-loss",
                      tag="zdl", server_id=41, zero_data_loss=True)
    try:
        return crash_scenarios(pair, changes=size["crash_changes"])
    finally:
        pair.close()


def _without_pair(size: dict, only: frozenset[str], quick: bool) -> dict:
    """The groups that build their own nodes: the HA pack, the audit trail, growth."""
    from bench import workloads

    figures: dict = {}
    if "pack" in only:
        figures["ha_pack"] = []
        for accounts in size["pack_sizes"]:
            _say(f"HA pack with {accounts} accounts")
            figures["ha_pack"].append(workloads.ha_pack(accounts))
    if "audit" in only:
        from bench import audit_scale

        _say("the audit trail at scale")
        figures["audit_scale"] = audit_scale.audit_scale(audit_scale.QUICK if quick
                                                         else audit_scale.FULL)
    if "growth" in only:
        from bench import growth

        _say("how cost grows with the vault")
        figures["growth"] = growth.growth(growth.QUICK if quick else growth.FULL)
    return figures


def _build(size: dict, only: frozenset[str], bao) -> tuple:
    """The HA pair (for the groups that use it), the single node and OpenBao with its
    seeded names (for the load group; None where not needed), built side by side:
    building waits on process start-ups more than it computes, and nothing is
    measured until all are up. When one build fails, the others are closed here."""
    from bench.cluster import build_pair, build_single

    def openbao() -> list[str]:
        bao.start()
        return bao.seed(size["accounts"])

    jobs = {}
    wanted = [name for name, needed in (("the HA pair", only & PAIR_GROUPS),
                                        ("the single node and OpenBao", "load" in only))
              if needed]
    if wanted:
        _say("building " + " and ".join(wanted))
    with ThreadPoolExecutor(3) as pool:
        if only & PAIR_GROUPS:
            jobs["pair"] = pool.submit(build_pair, accounts=size["accounts"])
        if "load" in only:
            jobs["single"] = pool.submit(build_single, accounts=size["accounts"])
            jobs["openbao_names"] = pool.submit(openbao)
    built, failure = {}, None
    for name, job in jobs.items():
        try:
            built[name] = job.result()
        except Exception as error:  # noqa: BLE001 - raised below, once the rest is closed
            failure = failure or error
    if failure is not None:
        for name in ("pair", "single"):
            if name in built:
                built[name].close()
        raise failure  # OpenBao: the caller stops it in any case
    return built.get("pair"), built.get("single"), built.get("openbao_names")


def _load(size: dict, pair, single, bao, names: list[str]) -> dict:
    """Reads and writes under wrk, one system at a time: the pair's primary and
    secondary, the single node, OpenBao; and the ratios of both to OpenBao."""
    from bench import workloads
    from bench.cluster import audit_counts, node_facts

    load = {"seconds": size["seconds"], "runs": size["runs"], "warm_up": size["warm_up"]}
    figures = {"node_facts": {"primary": node_facts(pair.primary),
                              "single_node": node_facts(single.node)}}
    _say("the floor: the cheapest JSON answer on the primary")
    figures["floor"] = workloads.floor(pair, pair.primary, **load)
    _say("API retrieval on the primary")
    figures["api_read_primary"] = workloads.api_read(pair, pair.primary, **load)
    _say("API retrieval on the secondary")
    figures["api_read_secondary"] = workloads.api_read(pair, pair.secondary, **load)
    _say("web reveal on the primary")
    figures["web_reveal_primary"] = workloads.web_reveal(pair, pair.primary, **load)
    _say("API password change on the primary")
    figures["api_write_primary"] = workloads.api_write(pair, pair.primary, **load)
    _say("API retrieval and password change on the single node")
    figures["api_read_single_node"] = workloads.api_read(single, single.node, **load)
    figures["api_write_single_node"] = workloads.api_write(single, single.node, **load)
    figures["single_node_audit_rows"] = audit_counts(single.node)
    _say("OpenBao KV v2 read and write")
    figures["openbao"] = workloads.openbao_read_write(bao, names, **load)
    figures["openbao"]["version"] = bao.version()
    bao_rps = {kind: figures["openbao"][kind]["rps"]["median"] for kind in ("read", "write")}
    figures["ratios"] = {
        system: {kind: figures[f"api_{kind}_{where}"]["rps"]["median"] / bao_rps[kind]
                 for kind in ("read", "write")}
        for system, where in (("pair", "primary"), ("single_node", "single_node"))}
    # The names earlier result files used for the pair's ratios.
    figures["ratio_read"] = figures["ratios"]["pair"]["read"]
    figures["ratio_write"] = figures["ratios"]["pair"]["write"]
    return figures


_STARTED = time.monotonic()


def _say(message: str) -> None:
    print(f"[bench {time.monotonic() - _STARTED:5.0f} s] {message}", file=sys.stderr,
          flush=True)


def table(result: dict) -> str:
    """The figures that were measured, one line each (a group not run has no line)."""
    f = result["figures"]
    lines = [f"Strongroom benchmark{' (quick)' if result['quick'] else ''} — "
             f"{result['machine']['cores']} cores, {result['machine']['mariadb']}",
             f"{'workload':44} {'req/s median (min–max)':>26} {'p50':>7} {'p95':>7} "
             f"{'p99':>7} {'errors':>6} {'% floor':>7}"]
    if "floor" in f:
        lines += _load_lines(f)
    if "replication_lag" in f:
        lag = f["replication_lag"]
        lines.append(f"{'Replication lag @200 changes/s':44} p50 {lag['p50_ms']:.1f} ms, "
                     f"p99 {lag['p99_ms']:.1f} ms (achieved {lag['achieved_rate']:.0f}/s, "
                     f"{lag['samples']} samples)")
    if "primary_kill" in f:
        kill = f["primary_kill"]
        gap = kill["longest_read_gap_ms"]
        lines.append(f"{'Primary kill -9: longest read gap (secondary)':44} "
                     f"{gap:.0f} ms; primary writes again "
                     f"{kill['primary_writes_again_after_restart_s']:.1f} s "
                     f"after restart; {kill['reads_failed']} failed reads")
    for pack in f.get("ha_pack", ()):
        lines.append(f"{'HA pack, ' + format(pack['accounts'], ',') + ' accounts':44} "
                     f"build {pack['build_s']:.1f} s, install {pack['install_s']:.1f} s, "
                     f"{pack['pack_mb']:.1f} MB")
    if "ha_detection" in f:
        lines += table_lines(f["ha_detection"])
    for mode, title in (("off", "async"), ("on", "zero-data-loss")) \
            if "crash_writes" in f else ():
        for scenario, when in (("kill", "kill -9"), ("link_down_kill", "link down, kill -9")):
            crash = f["crash_writes"][mode][scenario]
            lines.append(f"{'Writes, ' + when + ' (' + title + ')':44} "
                         f"{crash['write_rate'] or 0:>9.0f} changes/s; {crash['lost']} of "
                         f"{crash['acknowledged']} acknowledged changes lost")
    if "audit_scale" in f:
        lines += audit_scale_lines(f["audit_scale"])
    if "growth" in f:
        lines += growth_lines(f["growth"])
    if "audit_flowback" in f:
        flow = f["audit_flowback"]
        lines.append(f"{'Audit flow-back, ' + format(flow['rows'], ',') + ' rows':44} "
                     f"{flow['seconds']:.1f} s until all on the primary "
                     f"({flow['arrived']} arrived)")
    return "\n".join(lines)


def _load_lines(f: dict) -> list[str]:
    floor_rps = f["floor"]["rps"]["median"]

    def load_row(name: str, figure: dict) -> str:
        rps = figure["rps"]
        return (f"{name:44} {rps['median']:>9.0f} ({rps['min']:.0f}–{rps['max']:.0f})"
                f"{'':>4} {figure['p50_ms']['median']:>6.1f}ms "
                f"{figure['p95_ms']['median']:>5.1f}ms"
                f" {figure['p99_ms']['median']:>5.1f}ms {figure['errors']:>6}"
                f" {100 * rps['median'] / floor_rps:>6.0f}%")

    def ratio_rows(kind: str) -> list[str]:
        return [f"{'  ratio ' + system + '/OpenBao (' + kind + ')':44} "
                f"{f['ratios'][key][kind]:>9.2f}"
                for system, key in (("pair primary", "pair"), ("single node", "single_node"))]

    return [load_row("Floor: /health/live (no database)", f["floor"]),
            load_row("API retrieval, audited (primary)", f["api_read_primary"]),
            load_row("API retrieval, audited (secondary)", f["api_read_secondary"]),
            load_row("API retrieval, audited (single node)", f["api_read_single_node"]),
            load_row("Web reveal, audited (primary)", f["web_reveal_primary"]),
            load_row("OpenBao KV v2 read, file audit", f["openbao"]["read"]),
            *ratio_rows("read"),
            load_row("API password change (primary)", f["api_write_primary"]),
            load_row("API password change (single node)", f["api_write_single_node"]),
            load_row("OpenBao KV v2 write, file audit", f["openbao"]["write"]),
            *ratio_rows("write")]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true",
                        help="every group once on small numbers, the pack, audit and growth "
                             "groups beside the pair's (about 1.5 minutes): a check that "
                             "each figure is produced, not a measurement")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated groups to run, of: {', '.join(GROUPS)}")
    args = parser.parse_args()
    only = frozenset(group.strip() for group in args.only.split(",") if group.strip())
    if not only or not only <= set(GROUPS):
        parser.error(f"--only takes groups from: {', '.join(GROUPS)}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strongroom.settings")
    result = run(args.quick, only)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str))
    print(table(result))
    print(f"(took {result['took_s']:.0f} s; figures in {args.output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
