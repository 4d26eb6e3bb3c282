"""Settings come strictly from the environment; deployment rules are system checks."""
import os

import pytest

from tests.support import run_manage
from vault import keyring

PRODUCTION_LIKE = {"HTTPS": "true", "ALLOWED_HOSTS": "vault.example.com",
                   "CSRF_TRUSTED_ORIGINS": "https://vault.example.com", "DEBUG": "false"}


@pytest.fixture
def private_key(tmp_path) -> str:
    path = tmp_path / "master.key"
    keyring.new_key_file(path)
    return str(path)


def test_check_deploy_is_clean_with_production_like_settings(private_key):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        env={"STRONGROOM_MASTER_KEY_FILE": private_key, **PRODUCTION_LIKE})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_key_file_others_can_read(private_key):
    os.chmod(private_key, 0o640)
    result = run_manage("check", "--deploy",
                        env={"STRONGROOM_MASTER_KEY_FILE": private_key, **PRODUCTION_LIKE})
    assert result.returncode != 0 and "strongroom.E003" in result.stderr


@pytest.mark.parametrize("name, value, expected", [
    ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT='five' is not a valid int"),
    ("DB_PORT", "", "DB_PORT='' is not a valid int"),
    ("STRONGROOM_ROLE", "leader", "STRONGROOM_ROLE='leader'"),
    ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
    ("STRONGROOM_REVEAL_HIDE_SECONDS", "0",
     "STRONGROOM_REVEAL_HIDE_SECONDS must be between 1 and 3600"),
])
def test_a_value_that_does_not_parse_stops_start_up_naming_it(name, value, expected):
    result = run_manage("check", env={name: value})
    assert result.returncode != 0 and expected in result.stderr


def test_a_missing_required_variable_is_named(tmp_path):
    env_file = tmp_path / "node.env"
    env_file.write_text("DB_PORT=3306\n")
    result = run_manage("check", unset={"SECRET_KEY", "SECRET_KEY_FILE"},
                        env={"STRONGROOM_ENV_FILE": str(env_file)})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_check_deploy_flags_static_files_never_collected(private_key, tmp_path):
    result = run_manage("check", "--deploy",
                        env={"STRONGROOM_MASTER_KEY_FILE": private_key,
                             "STATIC_ROOT": str(tmp_path / "static"), **PRODUCTION_LIKE})
    assert result.returncode != 0 and "strongroom.E004" in result.stderr
    assert "manage.py collectstatic" in result.stderr
