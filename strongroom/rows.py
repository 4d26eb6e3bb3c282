"""Hand-written SELECTs for the per-request hot path (issue 12): the token with its user,
the account with its resource. Compiling such a query through the ORM cost more CPU
than the rest of an audited retrieval; here the SQL is written once, and each row
becomes model instances with the same conversions the ORM applies (each field's own
database converters), so callers get ordinary model objects."""
from __future__ import annotations

import functools

from django.db import connections, router


def columns(model, alias: str) -> str:
    """Every concrete column of `model` under the table alias, in field order."""
    quote = connections[router.db_for_read(model)].ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def table(model) -> str:
    return connections[router.db_for_read(model)].ops.quote_name(model._meta.db_table)


def param(model, field_name: str, value):
    """A value prepared for a comparison with `field_name`, as a filter() prepares it."""
    using = router.db_for_read(model)
    return model._meta.get_field(field_name).get_db_prep_value(value, connections[using],
                                                               prepared=False)


def instance(model, using: str, row, start: int = 0):
    """The model instance of the columns(model) that begin at `start` in `row`."""
    fields, converters = _converters(model, using)
    values = list(row[start:start + len(fields)])
    connection = connections[using]
    for index, col, field_converters in converters:
        for convert in field_converters:
            values[index] = convert(values[index], col, connection)
    return model.from_db(using, [f.attname for f in fields], values)


def width(model) -> int:
    return len(model._meta.concrete_fields)


@functools.cache
def _converters(model, using: str) -> tuple[tuple, tuple]:
    connection = connections[using]
    fields = tuple(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((index, col, tuple(found)))
    return fields, tuple(converters)
