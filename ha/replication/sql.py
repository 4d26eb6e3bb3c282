"""SQL text for account statements: identifiers quoted (they cannot be parameters;
values always are), and password hashes computed here so that no plaintext password
is ever part of a statement. Free of Django: the local stack (localservices) uses it."""
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


def with_parameters(statement: str) -> str:
    """Statement text sent with parameters: MySQLdb formats it with %, so a literal
    % (a host or schema pattern in an identifier) is doubled."""
    return statement.replace("%", "%%")


def native_password_hash(password: str) -> str:
    """mysql_native_password's stored form: '*' + upper hex of SHA1(SHA1(password)),
    for `IDENTIFIED BY PASSWORD '<hash>'`."""
    inner = hashlib.sha1(password.encode()).digest()
    return "*" + hashlib.sha1(inner).hexdigest().upper()
