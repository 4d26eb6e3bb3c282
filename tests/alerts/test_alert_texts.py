"""Every alert's text says what happened, on which node, since when, and what to do:
one text per event."""
from datetime import datetime, timezone

import pytest

from alerts.events import EVENT_TITLES, alert_subject, alert_text

SINCE = datetime(2026, 11, 25, 17, 0, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("event", list(EVENT_TITLES))
def test_each_event_says_what_where_since_when_and_what_to_do(event):
    text = alert_text(event=event, node="vault-b", peer="vault-a:3306", since=SINCE,
                      detail="")
    first, happened, to_do = text.splitlines()
    assert first == f"{EVENT_TITLES[event]} on vault-b since 2026-11-25 17:00:05 UTC."
    assert "vault-b" in happened
    assert to_do.startswith("What to do: ")
    assert alert_subject(event=event, node="vault-b") == \
        f"[Strongroom] {EVENT_TITLES[event]} on vault-b"


def test_the_six_events_have_six_different_texts():
    texts = {alert_text(event=event, node="n", peer="p", since=SINCE, detail="")
             for event in EVENT_TITLES}
    assert len(texts) == 6


def test_the_databases_error_is_in_the_replication_failed_text():
    text = alert_text(event="replication_failed", node="vault-b", peer="vault-a:3306",
                      since=SINCE, detail="Duplicate entry '7' for key 'PRIMARY'")
    assert "Detail: Duplicate entry '7' for key 'PRIMARY'" in text.splitlines()


def test_a_text_given_in_local_time_says_utc_correctly():
    from datetime import timedelta

    paris = timezone(timedelta(hours=1))
    text = alert_text(event="ha_failed", node="n", peer="p", detail="",
                      since=datetime(2026, 11, 25, 18, 0, 5, tzinfo=paris))
    assert text.startswith("High Availability Failed on n since 2026-11-25 17:00:05 UTC.")
