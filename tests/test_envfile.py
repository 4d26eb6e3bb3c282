"""One reader and writer of env files: what the HA commands write reads back the same."""
from strongroom.envfile import format_env, parse_env


def test_what_is_written_reads_back_the_same():
    values = {"STRONGROOM_ROLE": "secondary", "PRIMARY_DB_PORT": "3306",
              "AUDIT_SHIPPER_PASSWORD_FILE": "/etc/strongroom/ha/a=b"}
    assert parse_env(format_env(values)) == values


def test_comment_and_blank_lines_are_skipped():
    assert parse_env("# STRONGROOM_ROLE=primary\n\n  DB_PORT = 3407\n") == {"DB_PORT": "3407"}
