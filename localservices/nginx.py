"""The TLS reverse proxy: `render_site`, the one renderer of the shipped nginx site
(deploy/nginx/), and `NginxServer`, a private nginx serving that site on loopback."""
from __future__ import annotations

import os
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from string import Template

from localservices.process import ServiceError, pid_alive, start_detached, stop_pid_file, wait_for

SITE_DIR = Path(__file__).resolve().parent.parent / "deploy" / "nginx"
NGINX = "/usr/sbin/nginx"
# Started as root, nginx runs its workers as Debian's does: as www-data, in
# /var/lib/nginx for the bodies it buffers to disk (its compiled-in temp paths).
WORKER_USER = "www-data"
DEBIAN_TEMP_DIR = Path("/var/lib/nginx")


class _SiteTemplate(Template):
    delimiter = "@@"  # nginx's own variables start with `$`


# Each value becomes one word of nginx's configuration: whitespace, quotes, `;`,
# braces, `$` or `#` would end it early or change what the configuration says.
_NGINX_WORD = re.compile(r"[^\s;{}'\"$#\\]+")


def render_site(*, server_name: str, listen_address: str, certificate: Path,
                certificate_key: Path, upstream: str, https_port: int = 443,
                http_port: int | None = 80) -> str:
    """The site file for Debian's nginx: TLS on `listen_address:https_port` in front of
    gunicorn at `upstream` (its --bind host:port); with `http_port`, plain HTTP there
    is redirected to the HTTPS site. A value unfit for the configuration raises a
    ValueError that names it."""
    origin = f"https://{server_name}" + ("" if https_port == 443 else f":{https_port}")
    values: dict[str, object] = {
        "server_name": server_name, "listen_address": listen_address,
        "certificate": certificate, "certificate_key": certificate_key,
        "upstream": upstream, "https_port": https_port, "https_origin": origin}
    parts = ["strongroom.conf"]
    if http_port is not None:
        values["http_port"] = http_port
        parts.append("strongroom-http-redirect.conf")
    for name, value in values.items():
        if not _NGINX_WORD.fullmatch(str(value)):
            raise ValueError(f"nginx site: {name}={value!r} is not a single nginx word")
    for name, port in (("https_port", https_port), ("http_port", http_port)):
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"nginx site: {name}={port} is not a TCP port")
    for name, path in (("certificate", certificate), ("certificate_key", certificate_key)):
        if not Path(path).is_absolute():
            # nginx would look for a relative path under its own prefix, not here.
            raise ValueError(f"nginx site: {name}={path} is not an absolute path")
    return "\n".join(_SiteTemplate((SITE_DIR / part).read_text()).substitute(values)
                     for part in parts)


@dataclass
class NginxServer:
    """nginx as a process of its own (`-p base_dir -c nginx.conf`, not the system
    service) serving the shipped site, on 127.0.0.1 unless told; its configuration, pid file,
    logs and (unless started as root) temporary files all live under `base_dir`."""
    base_dir: Path
    server_name: str
    certificate: Path
    certificate_key: Path
    upstream: str
    https_port: int
    http_port: int | None = None
    listen_address: str = "127.0.0.1"

    @property
    def pid_file(self) -> Path:
        return self.base_dir / "nginx.pid"

    @property
    def error_log(self) -> Path:
        return self.base_dir / "error.log"

    @property
    def access_log(self) -> Path:
        return self.base_dir / "access.log"

    def site(self) -> str:
        return render_site(server_name=self.server_name, listen_address=self.listen_address,
                           certificate=self.certificate, certificate_key=self.certificate_key,
                           upstream=self.upstream, https_port=self.https_port,
                           http_port=self.http_port)

    @property
    def connect_address(self) -> str:
        return "127.0.0.1" if self.listen_address in ("0.0.0.0", "[::]") else self.listen_address

    def is_running(self) -> bool:
        if not (self.pid_file.exists() and pid_alive(int(self.pid_file.read_text()))):
            return False  # the port may be someone else's
        try:
            with socket.create_connection((self.connect_address, self.https_port), timeout=0.5):
                return True
        except OSError:
            return False

    def ensure_started(self) -> None:
        base = self.base_dir.resolve()
        if self.is_running():
            return
        for directory in (base, self.temp_dir(base)):
            directory.mkdir(parents=True, exist_ok=True)
        (base / "site.conf").write_text(self.site())
        (base / "nginx.conf").write_text(self._main_config(base))
        command = [NGINX, "-p", f"{base}/", "-c", str(base / "nginx.conf"),
                   "-e", str(self.error_log.resolve())]
        checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise ServiceError(f"nginx refused its configuration:\n{checked.stderr.strip()}")
        log = open(base / "nginx.out", "ab")
        pid = start_detached(command, pid_file=self.pid_file, log=log)
        wait_for(self.is_running, what=f"nginx on {self.connect_address}:{self.https_port}", timeout=20,
                 log_file=self.error_log, alive=lambda: pid_alive(pid))

    def stop(self) -> None:
        stop_pid_file(self.pid_file)

    @staticmethod
    def temp_dir(base: Path) -> Path:
        """Where the workers write request bodies and responses too big for memory.
        As root, Debian's: the workers (www-data) could not enter a private base_dir,
        and the master (root) gives the directories it makes there to them. Otherwise
        the workers are the caller and base_dir is theirs."""
        return DEBIAN_TEMP_DIR if os.geteuid() == 0 else base / "temp"

    def _main_config(self, base: Path) -> str:
        """What Debian's /etc/nginx/nginx.conf is on a host: the http block the site is
        included in, with Debian's defaults that the site must override itself (TLS 1.0
        and 1.1, gzip). In the foreground, so the pid we started is nginx's master.
        Only the master opens the logs, the certificate and its key (before the
        workers start): the workers need nothing under base_dir."""
        # Ignored by nginx unless started as root.
        user = f"user {WORKER_USER} {WORKER_USER};" if os.geteuid() == 0 else ""
        temp = self.temp_dir(base)
        return f"""daemon off;
{user}
worker_processes 1;
pid {self.pid_file.resolve()};
events {{
    worker_connections 64;
}}
http {{
    include /etc/nginx/mime.types;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    gzip on;
    access_log {self.access_log.resolve()};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {base}/site.conf;
}}
"""
