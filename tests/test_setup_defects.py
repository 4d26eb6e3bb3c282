"""The set-up defects of issue 11, each as an operator meets it: the env file copied
from .env.example, a secret file with a trailing newline, a bad value at each entry
point (manage.py, the WSGI import, Celery), the role ha_setup writes, and
bootstrap_admin's password file."""
import os
import sys
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from localservices.node import ROOT, Profile
from strongroom.envfile import format_env, parse_env, read_env_file
from tests.support import process_environment, run_manage, start_web_process

EXAMPLE = ROOT / ".env.example"
COMMENTED_ROLE = "standalone                 # standalone | primary | secondary"


def node_from_env_file(base_dir: Path, values: dict[str, str]) -> Profile:
    """A node configured by its env file alone (nothing from the test run leaks in)."""
    base_dir.mkdir(parents=True, exist_ok=True)
    (base_dir / "node.env").write_text(format_env(values))
    return Profile("copied-example", mariadb_port=0, redis_port=0, web_port=0,
                   server_id=0, base_dir=base_dir)


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, (result.returncode, result.stderr)
    return lines[0]


def test_env_example_lists_every_variable_a_node_needs():
    example = parse_env(EXAMPLE.read_text())
    test_node = read_env_file(Path(os.environ["STRONGROOM_ENV_FILE"]))
    needed = set(test_node) | {"DB_ADMIN_USER", "DB_ADMIN_PASSWORD_FILE",
                               "STRONGROOM_HA_DIR", "STATIC_ROOT"}
    assert needed <= set(example), needed - set(example)


def test_env_example_copied_as_is_with_this_nodes_values_passes_check(tmp_path):
    test_node = read_env_file(Path(os.environ["STRONGROOM_ENV_FILE"]))
    example = parse_env(EXAMPLE.read_text())
    copied = {name: test_node.get(name, value) for name, value in example.items()}
    result = run_manage("check", node=node_from_env_file(tmp_path, copied))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_an_inline_comment_stops_manage_py_with_one_line_naming_the_variable():
    line = one_line(run_manage("check", env={"STRONGROOM_ROLE": COMMENTED_ROLE}))
    assert line.startswith("strongroom: STRONGROOM_ROLE='standalone ")
    assert "inline comments are not supported" in line


def test_an_inline_comment_in_the_env_file_is_refused_too(tmp_path):
    test_node = read_env_file(Path(os.environ["STRONGROOM_ENV_FILE"]))
    text = format_env(test_node) + "AXES_PROXY_COUNT=1   # one nginx in front\n"
    node = node_from_env_file(tmp_path, {})
    node.env_file.write_text(text)
    line = one_line(run_manage("check", node=node))
    assert line.startswith("strongroom: AXES_PROXY_COUNT='1   # one nginx in front'")


def test_a_bad_value_stops_manage_py_with_one_line():
    line = one_line(run_manage("check", env={"STRONGROOM_ROLE": "leader"}))
    assert line == ("strongroom: STRONGROOM_ROLE='leader': expected standalone, "
                    "primary, secondary or fenced")


def test_a_bad_value_stops_the_web_process_with_one_line(master_key_path):
    result = start_web_process(key_file=master_key_path, env={"DB_PORT": "33o6"})
    assert one_line(result) == "strongroom: DB_PORT='33o6' is not a valid int"


def test_a_bad_value_stops_celery_with_one_line():
    environment = process_environment(env={"DEBUG": "maybe"})
    result = subprocess.run([sys.executable, "-m", "celery", "-A", "strongroom", "worker",
                             "--pool", "solo"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert one_line(result) == ("strongroom: DEBUG='maybe' is not a boolean "
                                "(use true or false)")


def test_a_missing_secret_file_is_one_line_naming_the_variable(tmp_path):
    missing = tmp_path / "db_password"
    line = one_line(run_manage("check", env={"DB_PASSWORD_FILE": str(missing)}))
    assert line.startswith(f"strongroom: DB_PASSWORD_FILE={missing}: ")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_password_file_with_a_trailing_newline_logs_in(tmp_path, newline):
    """`openssl rand -hex 24 > file` ends the file with a newline."""
    password = Path(read_env_file(Path(os.environ["STRONGROOM_ENV_FILE"]))
                    ["DB_PASSWORD_FILE"]).read_text()
    password_file = tmp_path / "db_password"
    password_file.write_bytes((password + newline).encode())
    result = run_manage("shell", "-c", "from django.db import connection; "
                        "connection.ensure_connection(); print('logged in')",
                        env={"DB_PASSWORD_FILE": str(password_file)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "logged in"


def test_the_role_ha_setup_wrote_wins_over_the_env_files(tmp_path):
    ha_dir = tmp_path / "ha"
    ha_dir.mkdir()
    (ha_dir / "ha.env").write_text("STRONGROOM_ROLE=primary\n")
    test_node = read_env_file(Path(os.environ["STRONGROOM_ENV_FILE"]))
    node = node_from_env_file(tmp_path, {**test_node, "STRONGROOM_ROLE": "standalone",
                                         "STRONGROOM_HA_DIR": str(ha_dir)})
    result = run_manage("ha_status", node=node)
    assert "role primary" in result.stdout, result.stderr


@pytest.mark.django_db(databases="__all__")
def test_bootstrap_admin_reads_an_existing_password_file_and_keeps_it(tmp_path):
    password_file = tmp_path / "admin_password"
    password_file.write_text("Tangerine-lighthouse-47\n")
    out = StringIO()
    call_command("bootstrap_admin", "--password-file", str(password_file), stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("Tangerine-lighthouse-47")
    assert password_file.read_text() == "Tangerine-lighthouse-47\n"
    assert "admin" in out.getvalue()


@pytest.mark.django_db(databases="__all__")
def test_bootstrap_admin_refuses_a_weak_password_from_the_file(tmp_path):
    password_file = tmp_path / "admin_password"
    password_file.write_text("password\n")
    with pytest.raises(CommandError, match="too short|too common"):
        call_command("bootstrap_admin", "--password-file", str(password_file),
                     stdout=StringIO())
    assert not get_user_model().objects.exists()
    assert password_file.read_text() == "password\n"


@pytest.mark.django_db(databases="__all__")
def test_bootstrap_admin_writes_a_new_password_file_readable_by_its_owner_only(tmp_path):
    password_file = tmp_path / "secrets" / "admin_password"
    out = StringIO()
    call_command("bootstrap_admin", "--username", "root-admin",
                 "--password-file", str(password_file), stdout=out)
    password = password_file.read_text().strip()
    assert get_user_model().objects.get(username="root-admin").check_password(password)
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert "root-admin" in out.getvalue()


def test_a_secret_file_is_taken_verbatim_even_when_it_starts_with_a_dollar(tmp_path):
    """django-environ reads a value starting with `$` as the name of another variable."""
    secret_file = tmp_path / "django_secret_key"
    secret_file.write_text("$ecret-key-made-by-hand-0123456789-abcdefghij #1\n")
    result = run_manage("shell", "-c", "from django.conf import settings; "
                        "print(settings.SECRET_KEY)",
                        env={"SECRET_KEY_FILE": str(secret_file)})
    assert result.returncode == 0, result.stderr
    assert (result.stdout.strip().splitlines()[-1]
            == "$ecret-key-made-by-hand-0123456789-abcdefghij #1")
