"""STRONGROOM_WEB_THREADS, set where make run or make bench starts, reaches gunicorn:
the node's processes get only its env file, so the launcher puts it on the command
line (it once sat in gunicorn.conf.py, which never saw it)."""
import subprocess
import sys

from localservices.node import ROOT
from tests.support import process_environment

COMMAND = ("import sys; from localservices.node import Profile; "
           "from localservices.processes import process_command; "
           "node = Profile('primary', mariadb_port=1, redis_port=2, web_port=3, server_id=1, "
           "base_dir=__import__('pathlib').Path(sys.argv[1])); "
           "print('\\0'.join(process_command(node, 'web')))")


def web_command(tmp_path, threads: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", COMMAND, str(tmp_path)], cwd=ROOT,
                          env=process_environment(env={"STRONGROOM_WEB_THREADS": threads}),
                          capture_output=True, text=True)


def test_the_thread_count_is_on_gunicorns_command_line(tmp_path):
    # Above 1, gunicorn runs gthread workers in place of sync ones.
    made = web_command(tmp_path, "3")
    assert made.returncode == 0, made.stderr
    command = made.stdout.strip().split("\0")
    assert command[command.index("--threads") + 1] == "3"


def test_a_bad_thread_count_stops_the_launcher_with_its_name(tmp_path):
    made = web_command(tmp_path, "many")
    assert made.returncode != 0
    assert "STRONGROOM_WEB_THREADS must be a whole number" in made.stderr
