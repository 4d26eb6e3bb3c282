"""The node's systemd units, as the installer writes them, pass `systemd-analyze
verify`, and run each service as its own unprivileged user, writing only under the
node's directory."""
import subprocess
from pathlib import Path

from localservices.node import Profile
from localservices.units import render_units


def node(tmp_path: Path) -> Profile:
    return Profile("primary", mariadb_port=3307, redis_port=6380, web_port=8000, server_id=1,
                   base_dir=tmp_path / "node", node_name="vault-a.example.com",
                   service_user="strongroom", https_port=443, bind_address="0.0.0.0",
                   services="systemd")


def verify(directory: Path, units: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in units.items():
        (directory / name).write_text(text)
    return subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *(str(directory / name) for name in units)],
                          capture_output=True, text=True)


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    units = render_units(node(tmp_path))
    assert sorted(units) == [f"strongroom-{name}.service"
                             for name in ("beat", "db", "redis", "web", "worker")]
    result = verify(tmp_path, units)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_checker_catches_a_broken_unit(tmp_path):
    """So the test above can fail: a unit whose program does not exist is refused."""
    broken = render_units(node(tmp_path))["strongroom-web.service"].replace(
        "ExecStart=", "ExecStart=/nonexistent/python ", 1)
    result = verify(tmp_path, {"strongroom-web.service": broken})
    assert result.returncode != 0 and "/nonexistent/python" in result.stderr


def test_each_service_runs_as_its_own_user_and_writes_only_under_the_node(tmp_path):
    profile = node(tmp_path)
    users = {}
    for name, text in render_units(profile).items():
        settings = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        users[name] = settings["User"]
        assert settings["ReadWritePaths"] == str(profile.base_dir), name
        assert settings["ProtectSystem"] == "strict" and settings["NoNewPrivileges"] == "yes"
    assert users == {"strongroom-db.service": "mysql", "strongroom-redis.service": "strongroom",
                     "strongroom-web.service": "strongroom",
                     "strongroom-worker.service": "strongroom",
                     "strongroom-beat.service": "strongroom"}


def test_the_app_units_read_the_nodes_env_file_and_keep_beats_schedule_in_the_node(tmp_path):
    profile = node(tmp_path)
    units = render_units(profile)
    for name in ("web", "worker", "beat"):
        assert f"Environment=STRONGROOM_ENV_FILE={profile.env_file}" in units[
            f"strongroom-{name}.service"]
    assert f"--schedule {profile.run_dir}/celerybeat-schedule" in units["strongroom-beat.service"]
    assert "--bind 127.0.0.1:8000" in units["strongroom-web.service"]
