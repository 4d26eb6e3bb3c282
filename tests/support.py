"""Helpers the tests share (conftest.py keeps only fixtures). Every process a test
starts is started here, one way each: `run_manage` for a manage.py command and
`start_web_process` for a web process's start-up, each either as a node (its env file
only) or with the test run's own settings plus overrides. In-process command tests use
Django's `call_command` instead."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from django.contrib.auth.models import Group, User

from localservices.node import ROOT, Profile
from localservices.processes import node_environment

PASSWORD = "Correct-horse-battery-9"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
T = TypeVar("T")


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
