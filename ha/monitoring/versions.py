"""Version skew: the migrations this code was written for against the ones each schema
records. A node whose code and schema differ (the primary upgraded first, or new code
deployed before `migrate`) must refuse to serve rather than fail on a missing column.

This code's migrations are read once per process (they change only with a restart);
each schema's record is re-read at most every VERSION_CHECK_SECONDS, so requests in
between cost nothing."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from ha.router import is_read_only_node

logger = logging.getLogger(__name__)

Key = tuple[str, str]

# What each schema is, in the words the advice uses.
SCHEMA_NAMES = {"default": "replicated schema", "local": "node's local schema"}


@dataclass(frozen=True)
class SchemaSkew:
    database: str
    unknown: tuple[str, ...]  # recorded in the schema, absent from this code: schema newer
    missing: tuple[str, ...]  # in this code, not applied to the schema: code newer

    @property
    def schema(self) -> str:
        return SCHEMA_NAMES.get(self.database, self.database)

    def describe(self) -> str:
        parts = []
        if self.unknown:
            parts.append(f"the {self.schema} has migrations this node's code does not know "
                         f"({', '.join(self.unknown)})")
        if self.missing:
            parts.append(f"this node's code expects migrations the {self.schema} has not "
                         f"applied ({', '.join(self.missing)})")
        return "; ".join(parts)

    def advice(self) -> str:
        if self.unknown:
            return ("The schema is newer than this node's code: upgrade this node to the "
                    "release the primary runs, then restart it.")
        if self.database == "local":
            return "Run `manage.py migrate --database local` on this node, then restart it."
        if is_read_only_node():
            return ("This node's code is newer than the schema: upgrade and migrate the "
                    "primary; replication brings the new schema here.")
        return "Run `manage.py migrate` on this node (the primary), then restart it."

    def as_json(self) -> dict:
        return {"database": self.database, "schema": self.schema,
                "unknown_to_this_code": list(self.unknown),
                "not_applied_to_schema": list(self.missing), "advice": self.advice()}


class _CodeMigrations:
    """The migrations on disk, loaded once: what a schema must have applied (a
    squashed migration counts as applied when all it replaces are) and every name
    this code knows."""

    def __init__(self) -> None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        self.required = {key: tuple(migration.replaces or ())
                         for key, migration in loader.graph.nodes.items()}
        self.known = set(loader.disk_migrations)
        for replaces in self.required.values():
            self.known.update(replaces)


_lock = threading.Lock()
_code: _CodeMigrations | None = None
_checked: dict[str, tuple[float, SchemaSkew | None]] = {}


def _code_migrations() -> _CodeMigrations:
    global _code
    if _code is None:
        _code = _CodeMigrations()
    return _code


def _compare(*, database: str) -> SchemaSkew | None:
    code = _code_migrations()
    applied = set(MigrationRecorder(connections[database]).applied_migrations())
    missing = sorted(f"{app}.{name}" for (app, name), replaces in code.required.items()
                     if (app, name) not in applied
                     and not (replaces and all(key in applied for key in replaces)))
    unknown = sorted(f"{app}.{name}" for app, name in applied - code.known)
    if not missing and not unknown:
        return None
    return SchemaSkew(database=database, unknown=tuple(unknown), missing=tuple(missing))


def schema_skew(*, database: str) -> SchemaSkew | None:
    """How `database` differs from this code, or None; re-read at most every
    VERSION_CHECK_SECONDS. A schema that cannot be read is not called skewed (the
    request then fails on its own, with its own error)."""
    now = time.monotonic()
    cached = _checked.get(database)
    if cached and now - cached[0] < settings.VERSION_CHECK_SECONDS:
        return cached[1]
    with _lock:
        cached = _checked.get(database)  # another thread may have just re-read it
        if cached and now - cached[0] < settings.VERSION_CHECK_SECONDS:
            return cached[1]
        try:
            skew = _compare(database=database)
        except DatabaseError as error:
            logger.warning("could not read the migrations of %s: %s", database, error)
            return None
        if skew:
            logger.error("version skew: %s", skew.describe())
        _checked[database] = (now, skew)
        return skew


def node_skew() -> list[SchemaSkew]:
    """Every schema this node serves from that differs from its code."""
    return [skew for database in SCHEMA_NAMES
            if (skew := schema_skew(database=database)) is not None]


def forget() -> None:
    """Drop the remembered answers (tests, and after an upgrade in place)."""
    _checked.clear()
