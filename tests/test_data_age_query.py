"""Issue 12: a secondary asks for its data's age on every API request, with one plain
query whose answer is the one the ORM gave (the replicated heartbeat, aware, in UTC)."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from ha.monitoring import staleness
from ha.models import Heartbeat

pytestmark = pytest.mark.django_db(databases="__all__")


def test_the_age_is_the_replicated_heartbeat_asked_in_one_query():
    beat_at = datetime(2026, 11, 26, 3, 14, 15, 926535, tzinfo=dt_timezone.utc)
    Heartbeat.objects.create(id=1, node="primary", beat_at=beat_at)
    with CaptureQueriesContext(connections[router.db_for_read(Heartbeat)]) as queries:
        age = staleness.data_age()
    assert len(queries) == 1
    assert age.as_of == Heartbeat.objects.get(id=1).beat_at == beat_at
    assert age.as_of.utcoffset() == timedelta(0)
    assert age.headers()[staleness.AS_OF_HEADER] == "2026-11-26T03:14:15.926535+00:00"


def test_only_the_primarys_own_row_counts():
    Heartbeat.objects.create(id=2, node="elsewhere", beat_at=datetime.now(dt_timezone.utc))
    assert staleness.data_age().as_of is None


def test_a_secondary_that_never_heard_from_the_primary_says_unknown():
    age = staleness.data_age()
    assert age.as_of is None and age.seconds is None
    assert age.headers() == {staleness.AGE_HEADER: "unknown"}
