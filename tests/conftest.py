"""Named people and a master key for every test. The databases are the real
MariaDB the project starts (make test runs `python -m localservices up test`)."""
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from accounts.roles import ADMINISTRATOR, AUDITOR, PASSWORD_ADMINISTRATOR, PASSWORD_USER
from tests.support import CHROMEDRIVER, CHROMIUM, Client, person
from vault import keyring


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing():
    with override_settings(PASSWORD_HASHERS=["tests.support.QuickPBKDF2PasswordHasher"]):
        yield


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


@pytest.fixture
def client() -> Client:
    """pytest-django's client, with /api/ through the API's middleware as in production."""
    return Client()


@pytest.fixture
def alice(db) -> User:
    return person(username="alice", role=ADMINISTRATOR)


@pytest.fixture
def dave(db) -> User:
    return person(username="dave", role=PASSWORD_ADMINISTRATOR)


@pytest.fixture
def bob(db) -> User:
    return person(username="bob", role=PASSWORD_USER)


@pytest.fixture
def carol(db) -> User:
    return person(username="carol", role=AUDITOR)


@pytest.fixture
def mallory(db) -> User:
    return person(username="mallory", role=PASSWORD_USER)


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


@pytest.fixture
def browser(tmp_path, monkeypatch, settings):
    """Headless Chromium that never reaches the network; always quit."""
    # pytest-django's live server finds static files through the finders, which know
    # strongroom.js but not the manifest's hashed copies (each was a 404, the pages ran
    # without their style and script): the pages name them plainly here.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    for program in (CHROMIUM, CHROMEDRIVER):  # a missing browser fails the run, never skips
        assert Path(program).is_file(), f"{program} is missing: apt-get install chromium-driver"
    # Selenium Manager must not try to download a driver or send usage stats.
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile_dir = tmp_path / "chromium-profile"
    profile_dir.mkdir()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile_dir}", "--window-size=1280,900"):
        options.add_argument(flag)
    # The console, where Chromium reports a Content-Security-Policy violation.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
