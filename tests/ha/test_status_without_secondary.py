"""A primary whose secondary never reported (none joined yet) says so in English."""
import pytest
from django.utils import timezone

from ha.monitoring.observe import FAILED, observe_primary

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_primary_no_secondary_ever_reported_to_says_none_has_yet():
    seen = observe_primary(now=timezone.now())
    assert seen.ha == FAILED
    assert seen.ha_reason == ("no secondary has reported to this primary yet: none has "
                              "joined, or the secondary or the link is down")
