"""The shipped MIB loads in the tools an NMS operator uses, and names the OIDs the
SNMP channel sends."""
import glob
import subprocess
from pathlib import Path

import pytest

from alerts.channels.snmp import NOTIFICATIONS, OBJECTS

MIB = Path(__file__).resolve().parents[2] / "docs" / "STRONGROOM-MIB.txt"
NAMES = {"ha_alive": "strongroomHaAlive", "ha_failed": "strongroomHaFailed",
         "replication_alive": "strongroomReplicationAlive",
         "replication_failed": "strongroomReplicationFailed",
         "semisync_alive": "strongroomZeroDataLossAlive",
         "semisync_failed": "strongroomZeroDataLossFailed",
         "node": "strongroomAlertNode", "peer": "strongroomAlertPeer",
         "since": "strongroomAlertSince", "text": "strongroomAlertText",
         "transition": "strongroomAlertTransition"}


@pytest.fixture(scope="module")
def ietf_mibs() -> str:
    """SNMPv2-SMI and friends as text: Debian ships them in erlang-snmp (install-deps)."""
    found = sorted(glob.glob("/usr/lib/erlang/lib/snmp-*/mibs"))
    assert found, "the IETF base MIBs are missing: apt-get install erlang-snmp"
    return found[-1]


def test_smilint_accepts_the_mib_without_a_single_warning(ietf_mibs):
    result = subprocess.run(["smilint", "-l", "6", "-s", str(MIB)], capture_output=True,
                            text=True, env={"SMIPATH": ietf_mibs})
    assert result.returncode == 0 and result.stdout + result.stderr == ""


@pytest.mark.parametrize("name", list(NOTIFICATIONS) + list(OBJECTS))
def test_snmptranslate_resolves_each_oid_the_channel_sends_to_its_mib_name(ietf_mibs, name):
    sent = {**NOTIFICATIONS, **{key: oid.removesuffix(".0") for key, oid in OBJECTS.items()}}
    result = subprocess.run(
        ["snmptranslate", "-M", f"{ietf_mibs}:{MIB.parent}", "-m", "STRONGROOM-MIB",
         "-On", f"STRONGROOM-MIB::{NAMES[name]}"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f".{sent[name]}"
