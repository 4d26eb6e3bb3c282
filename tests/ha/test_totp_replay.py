"""Item 8 on the real pair: a one-time code used on the secondary is refused on the
primary once the secondary's login row has been shipped to the primary's trail."""
import uuid

import pytest
from django_otp.oath import TOTP

from tests.ha.support import WebClient
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha
PASSWORD = "Totp-replay-test-7"

# Run on the primary: a password user with a confirmed authenticator; prints the seed
# (only to this test's pipe) so the test can compute codes like the user's phone.
ENROL = """
from django.contrib.auth.models import Group, User
from accounts.roles import PASSWORD_USER
from accounts.services import totp_device_start
from vault.startup import start_up
start_up()  # as the web and worker processes do: the seed is sealed
user = User.objects.create_user({name!r}, password={password!r})
user.groups.add(Group.objects.get(name=PASSWORD_USER))
device = totp_device_start(user=user)
device.confirmed = True
device.save(update_fields=["confirmed"])
print(device.bin_key.hex())
"""


def current_code(seed: bytes) -> str:
    return f"{TOTP(seed).token():06d}"


def test_a_code_used_on_the_secondary_is_refused_on_the_primary(pair):
    name = f"erin-{uuid.uuid4().hex[:6]}"
    enrolled = run_manage("shell", "-c",
                          ENROL.format(name=name, password=PASSWORD), node=pair.primary.profile)
    assert enrolled.returncode == 0, enrolled.stderr
    seed = bytes.fromhex(enrolled.stdout.strip().splitlines()[-1])
    pair.wait_replicated()

    code = current_code(seed)
    on_secondary = WebClient(pair.secondary.url)
    on_secondary.login(name, PASSWORD)
    status, _, headers = on_secondary.post("/accounts/verify/", {"token": code, "next": "/"})
    assert status == 302 and headers["Location"] == "/"
    wait_until(lambda: pair.pending_outbox() == 0, timeout=30,
               what="the secondary's login rows to reach the primary")

    on_primary = WebClient(pair.primary.url)
    on_primary.login(name, PASSWORD)
    status, body, _ = on_primary.post("/accounts/verify/", {"token": code, "next": "/"})
    assert status == 200 and "That code is not valid" in body
    status, _, headers = on_primary.get("/")
    assert status == 302 and headers["Location"].startswith("/accounts/verify/")
