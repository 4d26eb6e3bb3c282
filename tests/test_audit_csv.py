"""R-A3, issue 8 item 11: the CSV export cannot carry a formula into a spreadsheet."""
import csv
import io

import pytest

from audit.models import AuditEvent
from audit.services import audit_record
from vault import services

pytestmark = pytest.mark.django_db(databases="__all__")


def _export(client, **filters) -> list[list[str]]:
    response = client.get("/audit/export.csv", filters)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_resource_named_like_a_formula_is_exported_as_text(client, alice, carol):
    services.resource_create(user=alice, name="=1+2*3", resource_type="server")
    client.force_login(carol)
    rows = _export(client, action="resource_create")
    assert [row[7] for row in rows[1:]] == ["'=1+2*3"]


def test_a_failed_login_name_like_a_formula_is_exported_as_text(client, carol):
    name = '=HYPERLINK("http://127.0.0.1/x","click")'
    client.post("/accounts/login/", {"username": name, "password": "wrong"})
    client.force_login(carol)
    rows = _export(client, action="login_failed")
    assert [row[3] for row in rows[1:]] == ["'" + name]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_cell_that_a_spreadsheet_would_evaluate_is_neutralised(client, alice, carol, start):
    audit_record(action=AuditEvent.Action.LOGIN, actor=alice, reason=f"{start}cmd|' /C calc'!A0")
    client.force_login(carol)
    rows = _export(client, action="login", actor="alice")
    assert rows[1][9] == f"'{start}cmd|' /C calc'!A0"


def test_ordinary_values_are_exported_unchanged(client, alice, carol):
    services.resource_create(user=alice, name="fw-1 (rack 4)", resource_type="network")
    client.force_login(carol)
    rows = _export(client, action="resource_create")
    assert rows[1][7] == "fw-1 (rack 4)" and rows[1][4] == "resource_create"
