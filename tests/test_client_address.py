"""Item 7: behind the TLS reverse proxy, the client's address comes from
X-Forwarded-For as far as the configured number of proxies vouches for it — the
same address for the lockout and for the audit trail."""
import pytest
from axes.models import AccessAttempt

from audit.models import AuditEvent
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")
PROXY = "127.0.0.1"


@pytest.fixture
def one_proxy(settings):
    settings.CLIENT_PROXY_COUNT = 1
    settings.AXES_IPWARE_PROXY_COUNT = 1  # what main configured (and ignored)
    return settings


def login(client, username: str, password: str, forwarded_for: str):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def test_the_audit_row_carries_the_client_address_the_proxy_saw(client, bob, one_proxy):
    assert login(client, "bob", PASSWORD, "203.0.113.7").status_code == 302
    assert AuditEvent.objects.get(action="login").source_ip == "203.0.113.7"


def test_a_forged_forwarded_for_entry_is_not_believed(client, bob, one_proxy):
    # The client sent its own X-Forwarded-For; the proxy appended the real address.
    login(client, "bob", "wrong", "198.51.100.66, 203.0.113.7")
    assert AuditEvent.objects.get(action="login_failed").source_ip == "203.0.113.7"
    assert AccessAttempt.objects.using("local").get().ip_address == "203.0.113.7"


def test_a_lockout_of_bob_from_one_address_leaves_bob_elsewhere_free(client, bob, one_proxy):
    for _ in range(one_proxy.AXES_FAILURE_LIMIT):
        login(client, "bob", "wrong", "203.0.113.7")
    assert login(client, "bob", PASSWORD, "203.0.113.7").status_code == 429
    lockout = AuditEvent.objects.get(action="lockout")
    assert lockout.source_ip == "203.0.113.7"
    assert login(client, "bob", PASSWORD, "203.0.113.8").status_code == 302


def test_without_a_proxy_the_header_is_ignored(client, bob, settings):
    settings.CLIENT_PROXY_COUNT = 0
    login(client, "bob", PASSWORD, "203.0.113.7")
    assert AuditEvent.objects.get(action="login").source_ip == PROXY


def test_two_proxies_take_the_address_the_outer_one_saw(client, bob, settings):
    settings.CLIENT_PROXY_COUNT = 2
    login(client, "bob", PASSWORD, "198.51.100.66, 203.0.113.7, 10.0.0.5")
    assert AuditEvent.objects.get(action="login").source_ip == "203.0.113.7"
