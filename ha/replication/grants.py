"""The app account's grants for the node's role, computed from the live table list.

MariaDB has no "deny": the audit trail is append-only in the database only if the
app account holds table-level grants that leave UPDATE and DELETE out on it.
Re-applied after every migrate (ha's migrate command), as the admin account, never
binlogged (grants are node-local, like the accounts). Grants are added before the
surplus is revoked, so a running app never loses a right it keeps.
"""
from __future__ import annotations

from django.conf import settings

from ha.replication.dbconnect import admin_cursor, query_dicts
from ha.role import READ_ONLY_ROLES, current_role
from ha.replication.sql import NOT_LOGGED, quote_identifier, with_parameters

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
# The local outbox is marked delivered, and master key rotation re-encrypts the seal
# key in place, so these stay updatable; the trail and its seals never change.
UPDATABLE_AUDIT_TABLES = frozenset({"audit_auditoutbox", "audit_outboxseal",
                                    "audit_auditsealkey"})
# mysql.db / mysql.tables_priv spellings that differ from the GRANT keyword.
PRIVILEGE_NAMES = {"CREATE TMP TABLE": "CREATE TEMPORARY TABLES", "GRANT": "GRANT OPTION",
                   "DELETE VERSIONING ROWS": "DELETE HISTORY"}


def is_append_only(table: str) -> bool:
    """Every audit table of the replicated schema (trail, seals, any new one)."""
    return table.startswith("audit_") and table not in UPDATABLE_AUDIT_TABLES


def wanted_table_grants(*, tables: list[str]) -> dict[str, tuple[str, ...]]:
    return {table: APPEND_ONLY if is_append_only(table) else READ_WRITE for table in tables}


def app_grants_apply(*, role: str | None = None) -> None:
    """Primary/standalone: read-write on every replicated table but the audit tables
    (SELECT, INSERT), and no READ_ONLY ADMIN; secondary and fenced: SELECT on the
    replicated schema, writes only in the local one (READ_ONLY ADMIN lets it while
    read_only=ON: with no write grant there, it cannot bypass read_only on the
    replicated data). Both: all on local."""
    role = role or current_role()
    replicated = settings.DATABASES["default"]["NAME"]
    local = settings.DATABASES["local"]["NAME"]
    user = settings.DATABASES["default"]["USER"]
    with admin_cursor() as cursor:
        cursor.execute(NOT_LOGGED)
        hosts = [row["Host"] for row in query_dicts(
            cursor, "SELECT Host FROM mysql.user WHERE User = %s", (user,))]
        tables = [row["name"] for row in query_dicts(
            cursor, "SELECT table_name AS name FROM information_schema.tables "
                    "WHERE table_schema = %s", (replicated,))]
        for host in hosts:
            who = (user, host)
            _grant(cursor, "ALL PRIVILEGES", f"{quote_identifier(local)}.*", who)
            if role in READ_ONLY_ROLES:
                _grant(cursor, "SELECT", f"{quote_identifier(replicated)}.*", who)
                _grant(cursor, "READ_ONLY ADMIN, SLAVE MONITOR", "*.*", who)
                # SELECT per table too: a running connection sees a schema-level grant
                # only after its next USE, so a node turning read-only would otherwise
                # lose SELECT for a moment when the table grants are narrowed.
                wanted_schema = {"SELECT"}
                wanted_tables = {table: ("SELECT",) for table in tables}
                for table in tables:
                    _grant(cursor, "SELECT",
                           f"{quote_identifier(replicated)}.{quote_identifier(table)}", who)
            else:
                # A writable node's account must not bypass read_only: if this node
                # is ever fenced, read_only must stop it whatever grants remain.
                _revoke_global(cursor, "READ_ONLY ADMIN", who)
                wanted_tables = wanted_table_grants(tables=tables)
                for table, privileges in wanted_tables.items():
                    _grant(cursor, ", ".join(privileges),
                           f"{quote_identifier(replicated)}.{quote_identifier(table)}", who)
                wanted_schema = set()
            _revoke_surplus(cursor, user=user, host=host, schema=replicated,
                            wanted_schema=wanted_schema, wanted_tables=wanted_tables)


def _grant(cursor, privileges: str, target: str, who: tuple[str, str]) -> None:
    cursor.execute(with_parameters(f"GRANT {privileges} ON {target}") + " TO %s@%s", who)


def _revoke_global(cursor, privilege: str, who: tuple[str, str]) -> None:
    cursor.execute("SHOW GRANTS FOR %s@%s", who)
    if any(" ON *.* " in grant and privilege in grant for (grant,) in cursor.fetchall()):
        _revoke(cursor, {privilege}, "*.*", who)


def _revoke(cursor, privileges: set[str], target: str, who: tuple[str, str]) -> None:
    cursor.execute(with_parameters(f"REVOKE {', '.join(sorted(privileges))} ON {target}")
                   + " FROM %s@%s", who)


def _privilege(column_or_word: str) -> str:
    word = column_or_word.removesuffix("_priv").replace("_", " ").upper()
    return PRIVILEGE_NAMES.get(word, word)


def _revoke_surplus(cursor, *, user: str, host: str, schema: str, wanted_schema: set[str],
                    wanted_tables: dict[str, tuple[str, ...]]) -> None:
    who = (user, host)
    for row in query_dicts(cursor, "SELECT * FROM mysql.db WHERE User = %s AND Host = %s "
                                   "AND Db = %s", (user, host, schema)):
        held = {_privilege(column) for column, value in row.items()
                if column.endswith("_priv") and value == "Y"}
        surplus = held - wanted_schema
        if surplus:
            _revoke(cursor, surplus, f"{quote_identifier(schema)}.*", who)
    for row in query_dicts(cursor, "SELECT Table_name AS name, Table_priv AS privileges "
                                   "FROM mysql.tables_priv WHERE User = %s AND Host = %s "
                                   "AND Db = %s", (user, host, schema)):
        words = row["privileges"]
        words = words.split(",") if isinstance(words, str) else words  # a SET column
        held = {_privilege(word) for word in words if word}
        surplus = held - set(wanted_tables.get(row["name"], ()))
        if surplus:
            _revoke(cursor, surplus,
                    f"{quote_identifier(schema)}.{quote_identifier(row['name'])}", who)
