"""R-H11 in one process: two-factor turned off in the product. An administrator resets
a user's two-factor from the user's page, a user turns their own off after giving the
password again; both audited as otp_removed, both refused on a read-only node, and a
session whose device is gone is not stuck at the code page."""
import pytest

from accounts.models import TotpDevice
from tests.support import PASSWORD
from tests.test_login import _enrol, current_code, login

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_session_whose_device_an_operator_deleted_is_not_stuck_at_verify(client, bob):
    device = _enrol(client, bob)
    login(client, "bob", PASSWORD)
    device.refresh_from_db()
    client.post("/accounts/verify/", {"token": current_code(device, offset=1), "next": "/"})
    TotpDevice.objects.filter(user=bob).delete()  # outside the product, e.g. a shell
    assert client.get("/").status_code == 200
