"""SQL text for account statements, which MariaDB does not take as parameters
everywhere: quoted identifiers and accounts, and password hashes computed here so
that no plaintext password is ever part of a statement. Free of Django: the local
stack (localservices) uses it too."""
from __future__ import annotations

import hashlib

# Account statements never enter the binlog: accounts are node-local, and a
# replicated ALTER USER would overwrite the other node's password.
NOT_LOGGED = "SET SESSION sql_log_bin = 0"


def quote_identifier(name: str) -> str:
    """A schema or table name in backticks (a backtick inside is doubled)."""
    if not name or "\x00" in name:
        raise ValueError(f"not an SQL identifier: {name!r}")
    return "`" + name.replace("`", "``") + "`"


def quote_string(value: str) -> str:
    """A string literal for statements that take no parameters (account names)."""
    if "\x00" in value:
        raise ValueError("NUL in an SQL string")
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def account(user: str, host: str) -> str:
    return f"{quote_string(user)}@{quote_string(host)}"


def native_password_hash(password: str) -> str:
    """mysql_native_password's stored form: '*' + upper hex of SHA1(SHA1(password)),
    for `IDENTIFIED BY PASSWORD '<hash>'`."""
    inner = hashlib.sha1(password.encode()).digest()
    return "*" + hashlib.sha1(inner).hexdigest().upper()
