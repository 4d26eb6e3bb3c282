"""wrk (Debian's) as the load generator: keep-alive connections, a Lua script that
picks a random account per request and prints wrk's own latency percentiles."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 16
THREADS = 2

LUA = r"""
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local method = os.getenv("BENCH_METHOD")
local path_format = os.getenv("BENCH_PATH")
local body_format = os.getenv("BENCH_BODY") or ""
local counter = 0

init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  for header in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
    local name, value = header:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

request = function()
  counter = counter + 1
  local id = ids[math.random(#ids)]
  local body = nil
  if body_format ~= "" then body = string.format(body_format, math.random(1000000000)) end
  return wrk.format(method, string.format(path_format, id), nil, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "socket_errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.connect + errors.read + errors.write +
    errors.timeout, errors.status, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
end
"""


@dataclass
class Target:
    """What every request of a run does: `path` and `body` are format strings; the
    path gets a random id from `ids`, the body a random number."""

    base_url: str
    ids: list[str]
    path: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] | None = None


def run_wrk(target: Target, *, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(LUA)
        ids = Path(folder) / "ids.txt"
        ids.write_text("\n".join(target.ids) + "\n")
        env = {**os.environ, "BENCH_IDS": str(ids), "BENCH_METHOD": target.method,
               "BENCH_PATH": target.path, "BENCH_BODY": target.body,
               "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in (target.headers or {}).items())}
        result = subprocess.run(
            ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s",
             "--timeout", "10s", "-s", str(script), target.base_url],
            env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {result.stdout[-500:]} {result.stderr[-500:]}")
    raw = json.loads(line[len("BENCH "):])
    seconds_run = raw["duration_us"] / 1e6
    return {"rps": raw["requests"] / seconds_run, "p50_ms": raw["p50_us"] / 1000,
            "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "errors": raw["socket_errors"] + raw["status_errors"], "requests": raw["requests"]}


def measure(target: Target, *, seconds: float, runs: int = 3, warm_up: bool = True) -> dict:
    """A warm-up run (discarded; 3 s, less for short runs), then `runs` runs: the
    median with min and max. The quick bench skips the warm-up: it checks that every
    figure is produced, and wrk's shortest run is a whole second."""
    if warm_up:
        run_wrk(target, seconds=min(3.0, seconds / 2))
    results = [run_wrk(target, seconds=seconds) for _ in range(runs)]
    figure = {"runs": results, "concurrency": CONNECTIONS, "seconds": seconds,
              "warm_up": warm_up}
    for key in ("rps", "p50_ms", "p95_ms", "p99_ms"):
        values = sorted(r[key] for r in results)
        figure[key] = {"median": values[len(values) // 2], "min": values[0], "max": values[-1]}
    figure["errors"] = sum(r["errors"] for r in results)
    return figure
