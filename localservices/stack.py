"""`make run` / `make stop`: the local HA pair on loopback — for each node its MariaDB,
Redis, web (gunicorn), Celery worker and beat — built with the node installer's own
steps (installer.py), as the README's two-host guide builds one: `install` both,
`pack` on the primary, `join` on the secondary. Here everything runs as the caller,
on loopback, without systemd or the TLS proxy."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from localservices.installer import (env_flag, admin_password_file, install, join, joined,
                                     make_pack, pack_file, stop)
from localservices.node import PROFILES, ROOT, Profile
from localservices.process import free_port


def prepare_secondary(secondary: Profile, primary: Profile, *,
                      primary_port: int | None = None) -> str:
    """Install the secondary, build the pack on the primary and join; returns what the
    commands printed. `primary_port` lets tests route through a link proxy."""
    install(secondary)
    setup_output = make_pack(primary, secondary_name=secondary.node_name, address="127.0.0.1",
                             primary_port=primary_port)
    return setup_output + "\n" + join(secondary, pack=pack_file(primary),
                                      master_key=primary.master_key_file)


def pair_up(primary: Profile, secondary: Profile) -> None:
    install(primary)
    if joined(secondary):
        install(secondary)  # starts what is not running
    else:
        prepare_secondary(secondary, primary)


def pair_down(primary: Profile, secondary: Profile) -> None:
    for profile in (secondary, primary):
        stop(profile)


def print_welcome(primary: Profile, secondary: Profile) -> None:
    password_file = admin_password_file(primary).relative_to(ROOT)
    print(f"Strongroom HA pair is up on loopback:\n"
          f"  primary   (read/write): http://127.0.0.1:{primary.web_port}/\n"
          f"  secondary (read-only):  http://127.0.0.1:{secondary.web_port}/\n"
          f"  log in as: admin   password: cat {password_file}\n"
          f"  logs:      var/primary/run/*.log, var/secondary/run/*.log\n"
          f"  stop with: make stop")


def default_pair() -> tuple[Profile, Profile]:
    """make run's pair; `STRONGROOM_ZERO_DATA_LOSS=true make run` turns the mode on."""
    zero_data_loss = env_flag("STRONGROOM_ZERO_DATA_LOSS")
    return tuple(replace(PROFILES[role], zero_data_loss=zero_data_loss)
                 for role in ("primary", "secondary"))


def loopback_pair(base: Path, *, server_id: int, tag: str = "",
                  zero_data_loss: bool = False) -> tuple[Profile, Profile]:
    """A throw-away primary and secondary on free loopback ports under `base` (the
    tests' and the benchmark's pairs); the secondary's server id follows the primary's."""
    prefix = f"{tag}-" if tag else ""
    primary, secondary = (
        Profile(f"{prefix}{role}", mariadb_port=free_port(), redis_port=free_port(),
                web_port=free_port(), server_id=server_id + offset,
                base_dir=base / f"{prefix}{role}", node_name=f"{role}.strongroom.test",
                secondary=role == "secondary", zero_data_loss=zero_data_loss)
        for offset, role in enumerate(("primary", "secondary")))
    return primary, secondary
