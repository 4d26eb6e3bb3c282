"""Helpers the tests share (conftest.py keeps only fixtures). Every process a test
starts is started here, one way each: `run_manage` for a manage.py command and
`start_web_process` for a web process's start-up, each either as a node (its env file
only) or with the test run's own settings plus overrides. In-process command tests use
Django's `call_command` instead."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import django.test
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group, User
from django.db import connections, transaction
from django.test.client import ClientHandler

from accounts.decorators import SESSION_AUTH_AT
from localservices.node import ROOT, Profile
from localservices.processes import node_environment
from strongroom.handlers import ApiMiddlewareMixin, is_api_path

PASSWORD = "Correct-horse-battery-9"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
T = TypeVar("T")


class Client(django.test.Client):
    """Django's test client with /api/ through the API's own middleware chain, as the
    WSGI application sends it (strongroom.handlers.PathDispatch)."""

    def __init__(self, enforce_csrf_checks: bool = False, **options) -> None:
        super().__init__(enforce_csrf_checks, **options)
        self.web_handler = self.handler
        self.api_handler = _ApiClientHandler(enforce_csrf_checks)

    def force_login(self, user, backend=None, *, password_typed: bool = True) -> None:
        """Signed in as the login form signs a person in: with the password just typed,
        so the re-authentication windows start now; `password_typed=False` is a session
        from long ago (no password typed in it)."""
        super().force_login(user, backend)
        if password_typed:
            session = self.session
            session[SESSION_AUTH_AT] = int(time.time())
            session.save()

    def request(self, **request):
        api = is_api_path(request["PATH_INFO"])
        self.handler = self.api_handler if api else self.web_handler
        return super().request(**request)


class _ApiClientHandler(ApiMiddlewareMixin, ClientHandler):
    pass


def handler_reads(using: str = "default") -> int:
    """Rows this connection's statements have read so far (MariaDB's Handler_read_*
    counters; the SHOW itself adds one)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
        return sum(int(value) for _, value in cursor.fetchall())


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2, same algorithm name and format, at 1,000 iterations instead of a
    million, for the test process only (tests/conftest.py): a hash cost ~0.3 s here and
    every person a test makes and every login it does paid one, half of the unit tests'
    time. A node the HA tests start keeps the real cost, and verifies these hashes too
    (the iteration count is part of each hash)."""

    iterations = 1000


def person(*, username: str, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.test", PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user


def process_environment(*, node: Profile | None = None, test_databases: bool = False,
                        env: Mapping[str, str] | None = None,
                        unset: Iterable[str] = ()) -> dict[str, str]:
    """The environment of a process a test starts. As a node: that node's env file only
    (the test's own settings must not leak in). Otherwise the test run's settings, on the
    current test databases if asked (a test database exists only while the test runs);
    then `unset` names are dropped and `env` overrides."""
    if node is not None:
        environment = node_environment(node)
    else:
        environment = dict(os.environ)
        if test_databases:
            from django.conf import settings

            environment["DB_NAME"] = settings.DATABASES["default"]["NAME"]
            environment["DB_LOCAL_NAME"] = settings.DATABASES["local"]["NAME"]
    for name in unset:
        environment.pop(name, None)
    return {**environment, **(env or {})}


def run_manage(*args: str, node: Profile | None = None, test_databases: bool = False,
               env: Mapping[str, str] | None = None,
               unset: Iterable[str] = ()) -> subprocess.CompletedProcess:
    """`manage.py *args` in a fresh process, as an operator runs it; its exit code and
    output are kept for the test."""
    environment = process_environment(node=node, test_databases=test_databases, env=env,
                                      unset=unset)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def start_web_process(*, key_file: Path, node: Profile | None = None,
                      test_databases: bool = False,
                      env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """A fresh web process's start-up with this master key file configured: it imports
    the WSGI application as gunicorn does, then exits."""
    environment = process_environment(node=node, test_databases=test_databases,
                                      env={"STRONGROOM_MASTER_KEY_FILE": str(key_file),
                                           **(env or {})})
    return subprocess.run([sys.executable, "-c", "import strongroom.wsgi"], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=60)


def wait_until(condition: Callable[[], T], *, timeout: float = 20,
               what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def _account_row_waiters() -> int:
    """Statements of another connection that lock or write an account row and have not
    finished (the same database account, so visible without PROCESS)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.processlist "
                       "WHERE id <> CONNECTION_ID() AND command = 'Query' "
                       "AND info LIKE '%%vault_account%%' "
                       "AND (info LIKE '%%FOR UPDATE%%' OR info LIKE 'UPDATE%%')")
        return cursor.fetchone()[0]


def second_waits_for_first(first: Callable[[], object], second: Callable[[], object],
                           then: Callable[[], object] = lambda: None) -> list[Exception]:
    """`first` runs in a transaction on a connection of its own and holds it open until
    `second`, on another, is blocked on the account row; then `then` runs in the same
    transaction and both finish. Returns what either raised (a transactional test:
    each thread commits for real)."""
    done, blocked, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                first()
                done.set()
                blocked.wait(20)
                then()
        except Exception as exc:  # reported to the caller
            errors.append(exc)
        finally:
            connections.close_all()

    def wait() -> None:
        try:
            second()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    if not done.wait(20):
        blocked.set()
        holder.join(20)
        return errors or [AssertionError("the first change never finished")]
    waiter = threading.Thread(target=wait)
    waiter.start()
    try:
        wait_until(lambda: _account_row_waiters() >= 1, timeout=10,
                   what="the second change blocked on the account row")
    finally:
        blocked.set()
        holder.join(20)
        waiter.join(20)
    return errors
