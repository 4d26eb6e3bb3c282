"""/health/replica?max_lag_ms= answers a stable 400 with a JSON reason for anything but
a bounded whole number of milliseconds; never a 500 (issue 19, item 5: "²" passed
str.isdigit() and made int() raise, as did a 5,000-digit number)."""
import pytest
from django.utils import timezone

from ha.monitoring.observe import ALIVE, Observation
from ha.monitoring.status import _store

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def healthy_secondary(settings):
    # A replica with both statuses Alive: the only state in which the lag is compared.
    settings.NODE_ROLE = "secondary"
    _store(Observation(ha=ALIVE, replication=ALIVE, immediate=True,
                       details={"lag_ms": 12}), now=timezone.now())


@pytest.mark.parametrize("raw", ["²", "١٢", "5" * 5000, "-1", "1.5", "", " 7", "86400001"])
def test_a_bad_max_lag_is_a_400_that_says_what_is_wrong(client, healthy_secondary, raw):
    response = client.get("/health/replica", {"max_lag_ms": raw})
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and "max_lag_ms" in body["reason"]


@pytest.mark.parametrize("raw, code", [("0", 503), ("12", 200), ("86400000", 200)])
def test_a_good_max_lag_is_judged_not_refused(client, healthy_secondary, raw, code):
    response = client.get("/health/replica", {"max_lag_ms": raw})
    assert response.status_code == code
    assert response.json()["reason"] != ""


def test_a_bad_max_lag_is_refused_on_any_role(client):
    assert client.get("/health/replica", {"max_lag_ms": "²"}).status_code == 400
