"""The alert settings come strictly from the environment; the SMTP password from a file."""
import os
import subprocess
import sys

import pytest
from django.conf import settings


def manage(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_the_smtp_password_is_read_from_its_file(tmp_path):
    secret = tmp_path / "smtp_password"
    secret.write_text("smtp-Pa55-from-file")
    result = manage("shell", "-c", "from django.conf import settings; "
                    "print(settings.EMAIL_HOST_PASSWORD == 'smtp-Pa55-from-file')",
                    EMAIL_HOST_PASSWORD_FILE=str(secret))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize("env, expected", [
    ({"STRONGROOM_ALERT_MAX_ATTEMPTS": "0"}, "STRONGROOM_ALERT_MAX_ATTEMPTS must be at least 1"),
    ({"STRONGROOM_ALERT_RETRY_SECONDS": "soon"},
     "STRONGROOM_ALERT_RETRY_SECONDS='soon' is not a valid float"),
    ({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS='maybe' is not a boolean"),
    ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "exclude each other"),
    ({"STRONGROOM_ALERT_ENTERPRISE_NUMBER": "acme"},
     "STRONGROOM_ALERT_ENTERPRISE_NUMBER='acme' is not a valid int"),
])
def test_an_alert_setting_that_does_not_parse_stops_start_up_naming_it(env, expected):
    result = manage("check", **env)
    assert result.returncode != 0 and expected in result.stderr
