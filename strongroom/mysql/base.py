"""Django's MySQL backend without a ping per request (issue 12).

With CONN_HEALTH_CHECKS, Django pings a reused connection before its first query in
every request: a round trip each time. Here the first statement in a request (or
Celery task) finds out itself: a read that meets a connection the server dropped
(MariaDB restarted, wait_timeout) reconnects and runs again, once. That is safe
only where nothing can have happened: outside a transaction, and for a statement
that writes nothing. A write that comes first still pings before it runs, as
before, and a transaction still pings when it begins (Django's set_autocommit):
neither is ever sent twice."""
from django.db.backends.mysql import base as mysql

Database = mysql.Database
# The server has gone away (2006), the connection was lost during the query (2013).
CONNECTION_LOST = frozenset({2006, 2013})
READ_ONLY_PREFIXES = ("SELECT", "SHOW")


class CursorWrapper(mysql.CursorWrapper):
    def __init__(self, cursor, db: "DatabaseWrapper") -> None:
        super().__init__(cursor)
        self.db = db

    def execute(self, query, args=None):
        if not self._first_use(query):
            return super().execute(query, args)
        try:
            return super().execute(query, args)
        except Database.OperationalError as error:
            if error.args[0] not in CONNECTION_LOST:
                raise
            self.cursor = self.db.reconnected_cursor()
            return super().execute(query, args)

    def executemany(self, query, args):
        self._first_use(query, retry=False)
        return super().executemany(query, args)

    def _first_use(self, query: str, *, retry: bool = True) -> bool:
        """True when this statement may be run again on a new connection if the old one
        is found dead; a write coming first checks the connection before it runs."""
        db = self.db
        if db.health_check_done or db.in_atomic_block:
            return False
        db.health_check_done = True  # only the first statement of a request is checked
        if retry and query.lstrip()[:6].upper().startswith(READ_ONLY_PREFIXES):
            return True
        if not db.is_usable():
            self.cursor = db.reconnected_cursor()
        return False


class DatabaseWrapper(mysql.DatabaseWrapper):
    def _cursor(self, name=None):
        # The health check moved into CursorWrapper.execute, where the statement is known.
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(self.create_cursor(name))

    def create_cursor(self, name=None):
        return CursorWrapper(self.connection.cursor(), self)

    def reconnected_cursor(self):
        """A cursor on a new connection, the dead one dropped (closing it may fail)."""
        try:
            self.connection.close()
        except Database.Error:
            pass  # already gone: that is why we are here
        self.connection = None
        self.connect()
        self.health_check_done = True
        return self.connection.cursor()
