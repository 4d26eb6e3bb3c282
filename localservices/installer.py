"""The node installer (`scripts/strongroom-node`): one node of Strongroom on a Debian
host, from nothing to serving, and the two steps that pair a primary with a
secondary. `make run` builds its pair with the same steps (stack.py), so the README's
guide cannot drift from what is tested.

    strongroom-node install --role primary|secondary --name FQDN   (as root)
    strongroom-node pack SECONDARY_FQDN --address PRIMARY_ADDRESS   (on the primary)
    strongroom-node join HAPack.zip master.key                      (on the secondary)
    strongroom-node manage COMMAND ...   (manage.py as the node's service user)
    strongroom-node start | stop

Re-running `install` is safe: it never overwrites a secret, a key or an account's
grants. Everything of the node lives under its directory (/var/lib/strongroom).
"""
from __future__ import annotations

import argparse
import dataclasses
import filecmp
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

from ha.replication import tls
from localservices.files import owned_directory, owned_file
from localservices.nginx import NginxServer
from localservices.node import ROOT, Profile, services_up
from localservices.process import ServiceError, as_user, systemctl
from localservices.processes import (PYTHON, manage, node_environment, start_processes,
                                     stop_processes)
from localservices.units import UNIT_DIR, render_units

DEFAULT_NODE_DIR = Path("/var/lib/strongroom")
# On root's PATH (Debian's and sudo's), for programs the administrator installs.
DEFAULT_BIN_DIR = Path("/usr/local/sbin")
COMMAND = ROOT / "scripts" / "strongroom-node"
SERVICE_USER = "strongroom"
APP_SERVICES = ("web", "worker", "beat")


def admin_password_file(profile: Profile) -> Path:
    return profile.secrets_dir / "admin_password"


def pack_file(profile: Profile) -> Path:
    """Where `pack` (ha_setup) writes the HA pack on the primary."""
    return profile.ha_dir / "replication" / "HAPack.zip"


# --- The steps ---------------------------------------------------------------------

def install(profile: Profile) -> None:
    """A primary: serving, with its master key and first administrator. A secondary:
    its database (read-only) and Redis running, waiting for its HA pack."""
    if profile.service_user:
        ensure_service_user(profile.service_user, home=profile.base_dir)
        check_code_readable(profile.service_user)
    if profile.services == "systemd":
        write_units(profile)
    services_up(profile)
    save_profile(profile)
    if not profile.secondary:
        if not profile.master_key_file.exists():
            manage(profile, "master_key_create", str(profile.master_key_file))
        manage(profile, "migrate", "--noinput")
        manage(profile, "migrate", "--noinput", "--database", "local")
    # read_only forbids the rest on a secondary: its pack brings schema and users.
    manage(profile, "collectstatic", "--noinput")
    if not profile.secondary:
        manage(profile, "bootstrap_admin", "--password-file", str(admin_password_file(profile)))
    if not profile.secondary or joined(profile):
        start(profile)


def joined(secondary: Profile) -> bool:
    """Its pack is installed (ha_install_pack wrote its role into ha.env)."""
    ha_env = secondary.ha_dir / "ha.env"
    return ha_env.exists() and "STRONGROOM_ROLE=secondary" in ha_env.read_text()


def make_pack(primary: Profile, *, secondary_name: str, address: str,
              primary_port: int | None = None) -> str:
    """`ha_setup` on the primary; its app restarts to serve as the primary (ha.env).
    `primary_port` lets tests route the secondary through a link proxy."""
    output = manage(primary, "ha_setup", primary.node_name, secondary_name,
                    "--primary-address", address,
                    "--primary-port", str(primary_port or primary.mariadb_port),
                    "--output", str(pack_file(primary)), "--caller-restarts")
    start(primary, restart=True)
    return output + "\nRestarted this node's web and Celery processes: they serve as the primary."


def join(secondary: Profile, *, pack: Path, master_key: Path) -> str:
    """The secondary takes the vault's master key and installs its pack, then serves."""
    install_master_key(secondary, master_key)
    # The service user installs it, so it gets a copy it can read.
    incoming = owned_file(secondary.ha_dir / "HAPack.zip", pack.read_bytes(),
                          user=secondary.service_user, mode=0o600)
    output = manage(secondary, "ha_install_pack", str(incoming), "--caller-restarts")
    incoming.unlink()
    # Running processes (a rebuild) hold the old pack's settings (ha.env).
    start(secondary, restart=True)
    return output + "\nStarted this node's web and Celery processes: it serves read-only."


def install_master_key(profile: Profile, source: Path) -> None:
    """Copy the key into place, 0400 and the service user's; refuse a different key
    where one is already (a node never silently changes its key)."""
    target = profile.master_key_file
    if target.exists():
        if not filecmp.cmp(source, target, shallow=False):
            raise ServiceError(f"{target} holds another master key; this node keeps it. "
                               f"Remove it first if this node really belongs to this vault.")
        return
    owned_file(target, source.read_bytes(), user=profile.service_user, mode=0o400)


def start(profile: Profile, *, restart: bool = False) -> None:
    """The app's processes and the TLS proxy, once its database is ready; `restart`:
    running ones restart too (they read the node's settings only at start-up)."""
    units = [profile.unit(name) for name in APP_SERVICES]
    if profile.services == "systemd":
        systemctl("enable", *units)
        systemctl("restart" if restart else "start", *units)
    else:
        if restart:
            stop_processes(profile)
        start_processes(profile)
    if profile.https_port:
        start_proxy(profile)


# The commands whose first argument is a pack, and the options of theirs (and of every
# manage.py command) that take a value.
PACK_COMMANDS = ("ha_install_pack", "ha_rejoin")
OPTIONS_WITH_VALUES = ("--max-age-hours", "--settings", "--pythonpath", "-v", "--verbosity")


def manage_as_service_user(profile: Profile, arguments: list[str]) -> int:
    """manage.py as the node's service user, its output the caller's. A pack given to
    ha_rejoin or ha_install_pack is read here, as root, and handed over as a copy the
    service user owns (as join does): a pack in root's home is out of its reach."""
    arguments = list(arguments)
    index = _pack_argument(arguments)
    incoming = None
    if index is not None:
        source = Path(arguments[index])
        owned_directory(profile.ha_dir / "incoming", user=profile.service_user, mode=0o700)
        incoming = owned_file(profile.ha_dir / "incoming" / source.name, source.read_bytes(),
                              user=profile.service_user, mode=0o600)
        arguments[index] = str(incoming)
    try:
        return subprocess.run([PYTHON, "manage.py", *arguments], cwd=ROOT,
                              env=node_environment(profile),
                              **as_user(profile.service_user)).returncode
    finally:
        if incoming:
            incoming.unlink(missing_ok=True)


def _pack_argument(arguments: list[str]) -> int | None:
    """The index of the pack among a pack command's arguments, when it names a file
    root can read (otherwise the command itself says what is wrong with it)."""
    if not arguments or arguments[0] not in PACK_COMMANDS:
        return None
    value_follows = False
    for index, argument in enumerate(arguments[1:], start=1):
        if value_follows or argument.startswith("-"):
            value_follows = not value_follows and argument in OPTIONS_WITH_VALUES
            continue
        path = Path(argument)
        return index if path.is_file() and os.access(path, os.R_OK) else None
    return None


# --- The TLS proxy (nginx.py) ----------------------------------------------------------

def proxy_dir(profile: Profile) -> Path:
    return profile.base_dir / "proxy"


def proxy(profile: Profile) -> NginxServer:
    directory = proxy_dir(profile)
    return NginxServer(base_dir=directory, server_name=profile.node_name,
                       certificate=directory / "server.pem",
                       certificate_key=directory / "server.key",
                       upstream=f"127.0.0.1:{profile.web_port}", https_port=profile.https_port,
                       http_port=80 if profile.https_port == 443 else None,
                       listen_address=profile.bind_address)


def ensure_proxy_certificate(profile: Profile) -> None:
    """Made once, by a CA of the node's own (its ca.pem is what clients may trust), for
    the node's name and its listening address when that is one; replace server.pem and
    server.key with your own certificate at will."""
    directory = owned_directory(proxy_dir(profile), mode=0o700)
    if (directory / "server.pem").exists():
        return
    ca = tls.make_ca(f"Strongroom proxy CA for {profile.node_name}")
    wildcard = profile.bind_address in ("0.0.0.0", "::", "[::]")
    server = tls.issue(ca, common_name=profile.node_name,
                       names=[] if wildcard else [profile.bind_address], server=True)
    owned_file(directory / "ca.pem", ca.cert_pem, mode=0o644)
    owned_file(directory / "server.key", server.key_pem, mode=0o600)
    owned_file(directory / "server.pem", server.cert_pem + ca.cert_pem, mode=0o644)


def start_proxy(profile: Profile) -> None:
    ensure_proxy_certificate(profile)
    nginx = proxy(profile)
    if profile.services != "systemd":
        nginx.ensure_started()
        return
    site = Path("/etc/nginx/sites-available/strongroom")
    site.write_text(nginx.site())
    enabled = Path("/etc/nginx/sites-enabled/strongroom")
    if not enabled.is_symlink():
        enabled.symlink_to(site)
    # Debian's default site would answer on port 80 beside ours.
    Path("/etc/nginx/sites-enabled/default").unlink(missing_ok=True)
    systemctl("enable", "nginx")
    systemctl("reload-or-restart", "nginx")


def stop(profile: Profile) -> None:
    if profile.services == "systemd":
        systemctl("stop", *(profile.unit(name) for name in APP_SERVICES))
    else:
        stop_processes(profile)
        proxy(profile).stop()
    profile.redis.stop()
    profile.mariadb.stop()


def write_units(profile: Profile) -> None:
    for name, text in render_units(profile).items():
        (Path(UNIT_DIR) / name).write_text(text)
    systemctl("daemon-reload")
    systemctl("enable", profile.unit("db"), profile.unit("redis"))


def link_command(bin_dir: Path) -> Path:
    """`strongroom-node` on root's PATH, as the runbook types it: a link to this
    checkout's script, the one the node's services run from. Made again by each
    install, so it follows the checkout that installed last; a file there that is
    not a link is someone else's and stays."""
    link = bin_dir / COMMAND.name
    if link.is_symlink() and Path(os.readlink(link)) == COMMAND:
        return link
    if link.exists() and not link.is_symlink():
        raise ServiceError(f"{link} exists and is not a link: remove it, or run "
                           f"{COMMAND} by its full path")
    bin_dir.mkdir(parents=True, exist_ok=True)
    # A link under a temporary name, then renamed over: never a moment without one.
    staged = bin_dir / f".{COMMAND.name}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(COMMAND)
    staged.rename(link)
    return link


def ensure_service_user(user: str, *, home: Path) -> None:
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["adduser", "--system", "--group", "--no-create-home",
                        "--home", str(home), "--shell", "/usr/sbin/nologin", user],
                       check=True, capture_output=True)


def check_code_readable(user: str) -> None:
    """The service user runs the code from this checkout: it must be able to."""
    try:
        readable = subprocess.run([PYTHON, "-c", "import django, strongroom"], cwd=ROOT,
                                  capture_output=True, **as_user(user)).returncode == 0
    except PermissionError:  # it cannot even reach the interpreter or the directory
        readable = False
    if not readable:
        raise ServiceError(f"the user {user} cannot run the code in {ROOT}: put the "
                           f"checkout where it can read it (such as /opt/strongroom)")


# --- A node's description, kept beside it -----------------------------------------------

def profile_file(node_dir: Path) -> Path:
    return node_dir / "node.json"


def save_profile(profile: Profile) -> None:
    values = {name: str(value) if isinstance(value, Path) else value
              for name, value in dataclasses.asdict(profile).items()}
    owned_file(profile_file(profile.base_dir), json.dumps(values, indent=1) + "\n", mode=0o644)


def load_profile(node_dir: Path) -> Profile:
    path = profile_file(node_dir)
    if not path.is_file():
        raise ServiceError(f"no node is installed in {node_dir} (run `strongroom-node "
                           f"install` first, or set STRONGROOM_NODE_DIR)")
    values = json.loads(path.read_text())
    return Profile(**{**values, "base_dir": Path(values["base_dir"])})


# --- The command line ---------------------------------------------------------------------

def _env_default(name: str, default):
    """One-machine trials set these instead of the options (README)."""
    return type(default)(os.environ.get(name, default))


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strongroom-node", description=__doc__.split("\n")[0])
    parser.add_argument("--node-dir", type=Path,
                        default=Path(os.environ.get("STRONGROOM_NODE_DIR", DEFAULT_NODE_DIR)),
                        help="everything of the node lives here (env STRONGROOM_NODE_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    install_parser = commands.add_parser("install", help="install and start this node")
    install_parser.add_argument("--role", choices=["primary", "secondary"], required=True)
    install_parser.add_argument("--name", required=True,
                                help="this node's fully qualified domain name")
    for option, variable, default, what in (
            ("--db-port", "STRONGROOM_DB_PORT", 3307, "MariaDB's port"),
            ("--redis-port", "STRONGROOM_REDIS_PORT", 6380, "Redis's port (loopback)"),
            ("--web-port", "STRONGROOM_WEB_PORT", 8000, "gunicorn's port (loopback)"),
            ("--https-port", "STRONGROOM_HTTPS_PORT", 443, "the TLS proxy's port"),
            ("--bind-address", "STRONGROOM_BIND_ADDRESS", "0.0.0.0",
             "where MariaDB and the TLS proxy listen for other hosts")):
        install_parser.add_argument(option, type=type(default),
                                    default=_env_default(variable, default),
                                    help=f"{what} (env {variable}, default {default})")
    install_parser.add_argument("--zero-data-loss", action="store_true",
                                default=env_flag("STRONGROOM_ZERO_DATA_LOSS"),
                                help="semi-synchronous replication: a write the primary "
                                     "acknowledged survives its crash; give it to both "
                                     "nodes (env STRONGROOM_ZERO_DATA_LOSS; README)")
    install_parser.add_argument("--services", choices=["systemd", "direct"],
                                default="systemd" if Path("/run/systemd/system").is_dir()
                                else "direct",
                                help="systemd units, or plain processes; chosen by "
                                     "itself (direct where systemd does not run)")
    install_parser.add_argument("--bin-dir", type=Path,
                                default=Path(os.environ.get("STRONGROOM_BIN_DIR",
                                                            DEFAULT_BIN_DIR)),
                                help="where `strongroom-node` is linked, on root's PATH "
                                     f"(env STRONGROOM_BIN_DIR, default {DEFAULT_BIN_DIR})")
    pack_parser = commands.add_parser("pack", help="on the primary: build the HA pack")
    pack_parser.add_argument("secondary_name")
    pack_parser.add_argument("--address", required=True,
                             help="the address the secondary reaches this primary's MariaDB at")
    pack_parser.add_argument("--output", type=Path, default=Path("HAPack.zip"))
    join_parser = commands.add_parser("join", help="on the secondary: install the HA pack")
    join_parser.add_argument("pack", type=Path)
    join_parser.add_argument("master_key", type=Path)
    manage_parser = commands.add_parser("manage", help="manage.py as the node's service user")
    manage_parser.add_argument("arguments", nargs=argparse.REMAINDER)
    commands.add_parser("start", help="start the node's services")
    commands.add_parser("stop", help="stop the node's services")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    node_dir = args.node_dir.resolve()
    try:
        if args.command == "install":
            profile = _install_profile(args, node_dir)
            install(profile)
            link_command(args.bin_dir)
            print(welcome(profile))
            return 0
        profile = load_profile(node_dir)
        if args.command == "pack":
            print(make_pack(profile, secondary_name=args.secondary_name, address=args.address))
            owned_file(args.output, pack_file(profile).read_bytes(), mode=0o600)
            # The next step (join, or ha_rejoin on a replaced primary) is ha_setup's above.
            print(f"\nThe pack: {args.output}; this vault's master key: "
                  f"{profile.master_key_file}")
        elif args.command == "join":
            print(join(profile, pack=args.pack, master_key=args.master_key))
            print(f"\nThe secondary {profile.node_name} serves read-only: {_address(profile)}\n"
                  f"  log in with the primary's accounts and passwords (they replicate): "
                  f"admin's is in secrets/admin_password in the primary's node directory")
        elif args.command == "manage":
            return manage_as_service_user(profile, args.arguments)
        elif args.command == "start":
            profile.mariadb.ensure_started()
            profile.redis.ensure_started()
            start(profile)
        else:
            stop(profile)
    except (ServiceError, subprocess.CalledProcessError, ValueError) as exc:
        print(f"strongroom-node: {exc}", file=sys.stderr)
        return 1
    return 0


def _install_profile(args, node_dir: Path) -> Profile:
    secondary = args.role == "secondary"
    if os.geteuid() != 0:
        raise SystemExit("strongroom-node install: run it as root (it creates the "
                         "service user and gives each file to the user that needs it)")
    return Profile(args.role, mariadb_port=args.db_port, redis_port=args.redis_port,
                   web_port=args.web_port, server_id=2 if secondary else 1,
                   base_dir=node_dir, node_name=args.name, secondary=secondary,
                   service_user=SERVICE_USER, bind_address=args.bind_address,
                   https_port=args.https_port, services=args.services,
                   zero_data_loss=args.zero_data_loss)


def _address(profile: Profile) -> str:
    return (f"{profile.public_url}/" if profile.https_port
            else f"http://127.0.0.1:{profile.web_port}/")


def welcome(profile: Profile) -> str:
    if profile.secondary:
        return (f"Strongroom secondary {profile.node_name} is prepared (database read-only) "
                f"and waits for its HA pack. On the primary run:\n"
                f"  strongroom-node pack {profile.node_name} --address <primary's address>")
    return (f"Strongroom primary {profile.node_name} is serving: {_address(profile)}\n"
            f"  log in as:  admin   password: cat {admin_password_file(profile)}\n"
            f"  master key: {profile.master_key_file}  (keep an offline copy now: "
            f"without it the vault cannot be read)")


if __name__ == "__main__":
    sys.exit(main())
