"""Every health endpoint's reason is a sentence for every role: "this node is a
read-only fenced" was not (issue 19, item 13)."""
import pytest

pytestmark = pytest.mark.django_db(databases="__all__")

EXPECTED = {
    ("standalone", "/health/primary"): "this node is a standalone node and accepts writes",
    ("secondary", "/health/primary"): "this node is a secondary: it is read-only",
    ("fenced", "/health/primary"):
        "this node is a fenced old primary: it is read-only until it rejoins",
    ("standalone", "/health/replica"): "this node is a standalone node, not a secondary",
    ("fenced", "/health/replica"):
        "this node is a fenced old primary, not a secondary",
}


@pytest.mark.parametrize("role, path", EXPECTED)
def test_each_role_gets_a_health_reason_in_plain_english(client, settings, role, path):
    settings.NODE_ROLE = role
    assert client.get(path).json()["reason"] == EXPECTED[(role, path)]
