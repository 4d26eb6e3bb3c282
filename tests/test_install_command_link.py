"""install puts strongroom-node on root's PATH: a link to the installing checkout's
script, made again by each install, never over a file that is not a link."""
import os

import pytest

from localservices.installer import COMMAND, link_command
from localservices.process import ServiceError


def test_the_link_points_at_this_checkouts_script_and_a_second_install_keeps_it(tmp_path):
    link = link_command(tmp_path / "sbin")
    assert link == tmp_path / "sbin" / "strongroom-node"
    assert os.readlink(link) == str(COMMAND)
    assert link_command(tmp_path / "sbin") == link and os.readlink(link) == str(COMMAND)
    assert sorted(path.name for path in (tmp_path / "sbin").iterdir()) == ["strongroom-node"]


def test_a_link_to_another_checkout_follows_the_one_that_installed_last(tmp_path):
    (tmp_path / "strongroom-node").symlink_to("/tmp/gone-clone/scripts/strongroom-node")
    assert os.readlink(link_command(tmp_path)) == str(COMMAND)


def test_a_file_there_that_is_not_a_link_is_left_alone_and_named(tmp_path):
    (tmp_path / "strongroom-node").write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(ServiceError, match="strongroom-node exists and is not a link"):
        link_command(tmp_path)
    assert (tmp_path / "strongroom-node").read_text() == "#!/bin/sh\necho mine\n"
