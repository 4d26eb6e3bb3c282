"""Settings come strictly from the environment; deployment rules are system checks."""
import os
import subprocess
import sys

import pytest
from django.conf import settings

from vault import keyring

PRODUCTION_LIKE = {"HTTPS": "true", "ALLOWED_HOSTS": "vault.example.com",
                   "CSRF_TRUSTED_ORIGINS": "https://vault.example.com", "DEBUG": "false"}


def manage(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture
def private_key(tmp_path) -> str:
    path = tmp_path / "master.key"
    keyring.new_key_file(path)
    return str(path)


def test_check_deploy_is_clean_with_production_like_settings(private_key):
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    STRONGROOM_MASTER_KEY_FILE=private_key, **PRODUCTION_LIKE)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_key_file_others_can_read(private_key):
    os.chmod(private_key, 0o640)
    result = manage("check", "--deploy", STRONGROOM_MASTER_KEY_FILE=private_key,
                    **PRODUCTION_LIKE)
    assert result.returncode != 0 and "strongroom.E003" in result.stderr


@pytest.mark.parametrize("name, value, expected", [
    ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT='five' is not a valid int"),
    ("DB_PORT", "", "DB_PORT='' is not a valid int"),
    ("STRONGROOM_ROLE", "leader", "STRONGROOM_ROLE='leader'"),
    ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
])
def test_a_value_that_does_not_parse_stops_start_up_naming_it(name, value, expected):
    result = manage("check", **{name: value})
    assert result.returncode != 0 and expected in result.stderr


def test_a_missing_required_variable_is_named(tmp_path):
    env_file = tmp_path / "node.env"
    env_file.write_text("DB_PORT=3306\n")
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE"}}
    environment["STRONGROOM_ENV_FILE"] = str(env_file)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR,
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
