"""Django's MySQL backend without a ping per request (issue 12).

With CONN_HEALTH_CHECKS, Django pings a reused connection before its first query in
every request: a round trip each time. Here the check costs no round trip: a
connection the server closed (MariaDB restarted or stopped, wait_timeout, KILL) has
its end-of-file waiting on the socket, which a zero-timeout poll sees; such a
connection is replaced before the request's first statement. A server that goes away
between that look and the statement is caught too, for a read: outside a transaction,
a request's first statement that writes nothing runs again, once, on a new connection
when the old one is found lost (errors 2006, 2013). A write is never sent twice."""
import select

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
        self._first_use(query)
        return super().executemany(query, args)

    def _first_use(self, query: str) -> bool:
        """True when this statement may run again on a new connection should the old
        one turn out lost: the request's first, outside a transaction, a read."""
        db = self.db
        if db.health_check_done or db.in_atomic_block:
            return False
        db.health_check_done = True  # only the first statement of a request is checked
        if not db.looks_alive():
            self.cursor = db.reconnected_cursor()
            return False
        return query.lstrip()[:6].upper().startswith(READ_ONLY_PREFIXES)


class DatabaseWrapper(mysql.DatabaseWrapper):
    def _cursor(self, name=None):
        # The health check moved into CursorWrapper.execute, where the statement is known.
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(self.create_cursor(name))

    def create_cursor(self, name=None):
        return CursorWrapper(self.connection.cursor(), self)

    def close_if_health_check_failed(self):
        """Django's check before a transaction begins, without the ping."""
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self.looks_alive():
            self.close()
        self.health_check_done = True

    def looks_alive(self) -> bool:
        """No round trip: an idle connection has nothing to read unless the server
        closed it (end-of-file) or it failed."""
        # poll(), not select(): select() cannot take a descriptor above 1023.
        poller = select.poll()
        try:
            poller.register(self.connection.fileno(), select.POLLIN)
            return not poller.poll(0)
        except (Database.Error, OSError, ValueError):
            return False

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
