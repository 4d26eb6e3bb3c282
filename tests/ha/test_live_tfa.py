"""R-H11 on the real pair: two-factor changes made on the primary (turned on, device
replaced, turned off) hold on the secondary as soon as they replicate, with no node
process restarted. Each case logs in on the secondary over HTTP, as a person would.
API tokens are not part of it: a bearer token is a credential of its own, no code asked."""
import re
import time
import uuid

import pytest
from django_otp.oath import TOTP

from tests.ha.support import WebClient
from tests.support import run_manage, wait_until

pytestmark = pytest.mark.ha
PASSWORD = "Live-two-factor-9"

# Run on the primary: the seed of the user's pending enrolment, as the phone reads it
# from the QR code (printed only to this test's pipe).
PENDING_SEED = """
from accounts.models import TotpDevice
from vault.startup import start_up
start_up()  # as the web processes do: the seed is sealed with the master key
print(TotpDevice.objects.get(user__username={name!r}, confirmed=False).bin_key.hex())
"""


def code(seed: bytes, *, steps_ahead: int = 0) -> str:
    """The phone's code; one step ahead is still accepted (tolerance 1) and is newer than
    the step the primary just used, so the secondary does not refuse it as used."""
    totp = TOTP(seed)
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


def administrator_on_primary(pair) -> WebClient:
    admin = WebClient(pair.primary.url)
    admin.login("admin", pair.primary.admin_password())
    return admin


def new_password_user(pair) -> str:
    name = f"hal-{uuid.uuid4().hex[:8]}"
    status, body, _ = administrator_on_primary(pair).post("/accounts/users/new/", {
        "username": name, "role": "Password user", "password": PASSWORD})
    assert status == 302, body[:500]
    return name


def reset_two_factor(admin: WebClient, name: str) -> None:
    """The administrator's way for a lost phone: the user's page, then its reset button."""
    status, body, _ = admin.get("/accounts/users/")
    match = re.search(rf'href="(/accounts/users/\d+/)">{re.escape(name)}<', body)
    assert status == 200 and match, body[:500]
    status, body, _ = admin.get(match.group(1))
    reset = re.search(r'action="(/accounts/users/\d+/two-factor/reset/)"', body)
    assert status == 200 and reset, body[:500]
    status, body, headers = admin.post(reset.group(1))
    assert status == 302 and headers["Location"] == "/accounts/users/", body[:500]


def turn_on_two_factor(pair, on_primary: WebClient, name: str) -> bytes:
    """The user's own enrolment on the primary: open the page, scan, type the code."""
    status, body, _ = on_primary.get("/accounts/two-factor/")
    assert status == 200 and "<svg" in body
    enrolled = run_manage("shell", "-c", PENDING_SEED.format(name=name),
                          node=pair.primary.profile)
    assert enrolled.returncode == 0, enrolled.stderr
    seed = bytes.fromhex(enrolled.stdout.strip().splitlines()[-1])
    status, body, headers = on_primary.post("/accounts/two-factor/", {"token": code(seed)})
    assert status == 302 and headers["Location"] == "/accounts/profile/", body[:500]
    return seed


def log_in_on_secondary(pair, name: str) -> tuple[WebClient, str]:
    """A fresh browser on the secondary after the password; where it was sent."""
    browser = WebClient(pair.secondary.url)
    browser.get("/accounts/login/")
    status, body, headers = browser.post("/accounts/login/",
                                         {"username": name, "password": PASSWORD})
    assert status == 302, body[:500]
    return browser, headers["Location"]


def assert_let_in(browser: WebClient) -> None:
    status, _, headers = browser.get("/")
    assert status == 200, headers.get("Location")


def assert_asked_for_code(browser: WebClient, went_to: str) -> None:
    assert went_to.startswith("/accounts/verify/")
    status, _, headers = browser.get("/")
    assert status == 302 and headers["Location"].startswith("/accounts/verify/")


def confirmed_device_id(pair, name: str) -> int:
    rows = pair.secondary.sql(
        "SELECT d.id FROM strongroom.accounts_totpdevice d JOIN strongroom.auth_user u "
        "ON u.id = d.user_id WHERE u.username = %s AND d.confirmed", (name,))
    assert len(rows) == 1, rows
    return rows[0][0]


def wait_unthrottled(pair, device_id: int) -> None:
    """A wrong code throttles the device on the secondary for a moment (local schema)."""
    wait_until(lambda: pair.secondary.sql(
        "SELECT COUNT(*) FROM strongroom_local.accounts_otplocalstate WHERE device_id = %s "
        "AND (throttled_until IS NULL OR throttled_until < UTC_TIMESTAMP(6))",
        (device_id,))[0][0] == 1, timeout=30, what="the secondary's throttle to pass")


def test_two_factor_turned_on_on_the_primary_is_asked_for_on_the_secondary(pair):
    name = new_password_user(pair)
    pair.wait_replicated()
    browser, went_to = log_in_on_secondary(pair, name)
    assert went_to == "/"
    assert_let_in(browser)

    on_primary = WebClient(pair.primary.url)
    on_primary.login(name, PASSWORD)
    seed = turn_on_two_factor(pair, on_primary, name)
    pair.wait_replicated()

    browser, went_to = log_in_on_secondary(pair, name)
    assert_asked_for_code(browser, went_to)
    status, body, headers = browser.post("/accounts/verify/",
                                         {"token": code(seed, steps_ahead=1), "next": "/"})
    assert status == 302 and headers["Location"] == "/", body[:500]
    assert_let_in(browser)


def test_a_device_replaced_on_the_primary_is_the_only_one_the_secondary_accepts(pair):
    name = new_password_user(pair)
    on_primary = WebClient(pair.primary.url)
    on_primary.login(name, PASSWORD)
    old_seed = turn_on_two_factor(pair, on_primary, name)
    # A new phone: the user, still signed in on the primary, enrols again.
    new_seed = turn_on_two_factor(pair, on_primary, name)
    pair.wait_replicated()

    browser, went_to = log_in_on_secondary(pair, name)
    assert_asked_for_code(browser, went_to)
    status, body, _ = browser.post("/accounts/verify/",
                                   {"token": code(old_seed, steps_ahead=1), "next": "/"})
    assert status == 200 and "That code is not valid" in body
    wait_unthrottled(pair, confirmed_device_id(pair, name))
    status, body, headers = browser.post("/accounts/verify/",
                                         {"token": code(new_seed, steps_ahead=1), "next": "/"})
    assert status == 302 and headers["Location"] == "/", body[:500]
    assert_let_in(browser)


def test_two_factor_turned_off_on_the_primary_lets_the_password_in_on_the_secondary(pair):
    name = new_password_user(pair)
    on_primary = WebClient(pair.primary.url)
    on_primary.login(name, PASSWORD)
    turn_on_two_factor(pair, on_primary, name)
    pair.wait_replicated()
    waiting, went_to = log_in_on_secondary(pair, name)
    assert_asked_for_code(waiting, went_to)

    reset_two_factor(administrator_on_primary(pair), name)
    pair.wait_replicated()
    removed = pair.primary.sql(
        "SELECT actor, object_repr FROM strongroom.audit_auditevent "
        "WHERE action = 'otp_removed' AND object_repr = %s", (name,))
    assert removed == [("admin", name)], removed

    assert_let_in(waiting)  # the session that waited for a code is not stuck there
    browser, went_to = log_in_on_secondary(pair, name)
    assert went_to == "/"
    assert_let_in(browser)
