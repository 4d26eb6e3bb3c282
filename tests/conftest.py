"""Named people and a master key for every test. The databases are the real
MariaDB the project starts (make test runs `python -m localservices up test`)."""
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from accounts.roles import ADMINISTRATOR, AUDITOR, PASSWORD_ADMINISTRATOR, PASSWORD_USER
from vault import keyring

PASSWORD = "Correct-horse-battery-9"


@pytest.fixture(scope="session")
def master_key_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("key") / "master.key"
    keyring.new_key_file(path)
    return path


@pytest.fixture(autouse=True)
def master_key(master_key_path) -> keyring.MasterKey:
    key = keyring.read_key_file(master_key_path)
    keyring.install(key)
    return key


def _person(username: str, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.test", PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def alice(db) -> User:
    return _person("alice", ADMINISTRATOR)


@pytest.fixture
def dave(db) -> User:
    return _person("dave", PASSWORD_ADMINISTRATOR)


@pytest.fixture
def bob(db) -> User:
    return _person("bob", PASSWORD_USER)


@pytest.fixture
def carol(db) -> User:
    return _person("carol", AUDITOR)


@pytest.fixture
def mallory(db) -> User:
    return _person("mallory", PASSWORD_USER)


@pytest.fixture
def server(alice):
    from vault.services import resource_create

    return resource_create(user=alice, name="db-prod-1", resource_type="database",
                           address="db1.example.test")


@pytest.fixture
def root_account(alice, server):
    from vault.services import account_create

    return account_create(user=alice, resource=server, login_name="root",
                          password="s3cr3t-Root-pw!", notes="rack 4")
