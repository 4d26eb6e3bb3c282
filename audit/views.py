import csv

from django.contrib.auth.decorators import permission_required
from django.http import StreamingHttpResponse
from django.shortcuts import render

from audit.forms import AuditFilterForm
from audit.selectors import events_filtered, events_in_chunks, events_page, outbox_pending
from ha.router import is_read_only_node

CSV_COLUMNS = ["id", "occurred_at", "node", "actor", "action", "object_type", "object_id",
               "object_repr", "source_ip", "reason", "detail", "row_hash"]


# OWASP's rule for CSV injection: a cell a spreadsheet would evaluate as a formula
# (or that could start one after a tab/CR) is prefixed with a single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def _filtered(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, events_filtered(**filters)


def _cursor(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    # A mangled link shows the newest page ("²".isdigit() is true, int() refuses it).
    return int(value) if value.isascii() and value.isdigit() else None


@permission_required("audit.view_auditevent", raise_exception=True)
def event_list(request):
    form, events = _filtered(request)
    page = events_page(events=events, before=_cursor(request, "before"),
                       after=_cursor(request, "after"))
    query = request.GET.copy()
    for name in ("before", "after", "page"):
        query.pop(name, None)
    pending = list(outbox_pending()) if is_read_only_node() else []
    return render(request, "audit/event_list.html",
                  {"form": form, "page": page, "query": query.urlencode(), "pending": pending})


@permission_required("audit.view_auditevent", raise_exception=True)
def event_csv(request):
    _, events = _filtered(request)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for values in events_in_chunks(events, *CSV_COLUMNS):
            yield writer.writerow([csv_cell(value) for value in values])

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="strongroom-audit.csv"'
    return response
