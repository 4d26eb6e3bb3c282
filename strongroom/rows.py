"""Hand-written statements for the per-request hot path (issue 12): the token with its
user, the account with its resource; the audit row, the password's history row and the
account's conditional UPDATE. Compiling such a query through the ORM cost more CPU
than the rest of an audited retrieval; here the SQL is written once, each row becomes
model instances with the same conversions the ORM applies (each field's own database
converters), and each value written is prepared by its own field as save() and
update() prepare it, so callers get and store ordinary model objects."""
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


def insert(obj) -> None:
    """What obj.save(force_insert=True) does for a new row, without compiling the same
    INSERT on every call. For models without save signals (none of this project's have
    any) whose primary key is either set already or given by the database."""
    model = type(obj)
    using = router.db_for_write(model)
    connection = connections[using]
    fields = _insert_fields(model)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, using), values)
        if model._meta.pk.db_returning:
            obj.pk = cursor.lastrowid
    obj._state.adding, obj._state.db = False, using


def update_unchanged(obj, *, fields: tuple[str, ...], was: dict) -> bool:
    """UPDATE of `fields` (attribute names) of obj's row where each column named in `was`
    still holds that value (none of them NULL): what
    type(obj).objects.filter(pk=obj.pk, **was).update(**those fields) does, except that
    the row is always reached by its primary key (see _update_sql). False if no row
    matched."""
    model = type(obj)
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    values = [meta.get_field(name).get_db_prep_save(getattr(obj, name), connection)
              for name in fields]
    values += [f.get_db_prep_value(value, connection, prepared=False) for f, value in
               zip([meta.pk, *(meta.get_field(name) for name in was)], [obj.pk, *was.values()])]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, using, fields, tuple(was)), values)
        return cursor.rowcount > 0


@functools.cache
def _insert_fields(model) -> tuple:
    # An auto-increment key (db_returning) is the database's to give; others are sent.
    return tuple(f for f in model._meta.concrete_fields
                 if not (f.primary_key and f.db_returning))


@functools.cache
def _insert_sql(model, using: str) -> str:
    quote = connections[using].ops.quote_name
    fields = _insert_fields(model)
    return (f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})")


@functools.cache
def _update_sql(model, using: str, fields: tuple[str, ...], unchanged: tuple[str, ...]) -> str:
    quote = connections[using].ops.quote_name
    meta = model._meta
    column = lambda name: quote(meta.get_field(name).column)  # noqa: E731
    where = " AND ".join(f"{column(name)} = %s" for name in (meta.pk.name, *unchanged))
    # Through the primary key, whatever else is compared: the other writers of a row
    # (the key rotation's reseal batches) lock it first, then its secondary index
    # entries. Given `id = … AND key_id = …`, MariaDB picks the key_id index (extended
    # by the primary key, it looks as selective) and would take the two in the
    # opposite order: a deadlock.
    return (f"UPDATE {quote(meta.db_table)} FORCE INDEX (PRIMARY) SET "
            f"{', '.join(f'{column(name)} = %s' for name in fields)} WHERE {where}")
