"""Keyset pagination: a page is "the next N rows after (or before) this key" in a stable
order, so a page costs the same on page 1 and page 2,000 and nothing counts the rows.

The cursor is the page edge's key (e.g. name and id) in a URL-safe token. It carries
no permission: the query it narrows is still the caller's own permission-filtered one,
so a forged cursor only moves where in the caller's rows the page starts."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

PAGE_SIZE = 50
AFTER, BEFORE = "a", "b"


class BadCursor(ValueError):
    """A cursor that is not one this module made (edited, truncated, from elsewhere)."""


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None


def encode_cursor(direction: str, key: tuple) -> str:
    raw = json.dumps([direction, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, types: tuple[type, ...]) -> tuple[str, tuple]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, *key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor("That page link is not valid.") from None
    if direction not in (AFTER, BEFORE) or len(key) != len(types) or not all(
            type(value) is kind for value, kind in zip(key, types)):
        raise BadCursor("That page link is not valid.")
    return direction, tuple(key)


def _beyond(fields: tuple[str, ...], key: tuple, lookup: str) -> Q:
    """Rows strictly after (`gt`) or before (`lt`) `key` in the order of `fields`. The
    leading `gte`/`lte` on the first field is redundant but lets MariaDB take a plain
    range scan of that field's index instead of evaluating the OR row by row."""
    if len(fields) == 1:
        return Q(**{f"{fields[0]}__{lookup}": key[0]})
    alternatives = Q()
    for depth in range(len(fields)):
        equal = {field: value for field, value in zip(fields[:depth], key[:depth])}
        alternatives |= Q(**equal, **{f"{fields[depth]}__{lookup}": key[depth]})
    return Q(**{f"{fields[0]}__{lookup}e": key[0]}) & alternatives


def keyset_page(queryset: QuerySet, *, fields: tuple[str, ...], types: tuple[type, ...],
                cursor: str = "", size: int = PAGE_SIZE, parts: tuple[QuerySet, ...] = ()
                ) -> Page:
    """One page of `queryset` ordered by `fields` (unique together). Where one column is
    unique, order by it alone: MariaDB walks a unique index for ORDER BY name, but
    sorts the whole table for ORDER BY name, id.
    Raises BadCursor for a cursor this module did not make.

    `parts`: when given, the rows are the union of these querysets (of `queryset`'s
    model; `queryset` then only adds select_related and the like). Each part is paged
    on its own, through its own index, and the database orders the few candidates: an
    OR of the parts in one query makes MariaDB scan and sort the whole table instead."""
    fetch = _union_fetch(queryset, parts, size) if parts else _fetch(queryset, size)
    if not cursor:
        return _forward(fetch, fields, size, first=True)
    direction, key = decode_cursor(cursor, types=types)
    if direction == AFTER:
        page = _forward(fetch, fields, size, first=False, beyond=_beyond(fields, key, "gt"))
        # Past the end (its rows deleted since): the first page, not an empty one.
        return page if page.rows else _forward(fetch, fields, size, first=True)
    rows = fetch(_beyond(fields, key, "lt"), tuple(f"-{field}" for field in fields))
    if len(rows) <= size:
        # Back at the start: show a full first page rather than a short one.
        return _forward(fetch, fields, size, first=True)
    rows = rows[:size][::-1]
    return Page(rows, _edge(AFTER, rows[-1], fields), _edge(BEFORE, rows[0], fields))


def _fetch(queryset: QuerySet, size: int):
    def fetch(condition: Q, order: tuple[str, ...]) -> list:
        return list(queryset.filter(condition).order_by(*order)[:size + 1])
    return fetch


def _union_fetch(queryset: QuerySet, parts: tuple[QuerySet, ...], size: int):
    """The first size + 1 rows of the union are among the first size + 1 of each part."""
    def fetch(condition: Q, order: tuple[str, ...]) -> list:
        candidates: set = set()
        for part in parts:
            candidates.update(part.filter(condition).order_by(*order)
                              .values_list("pk", flat=True)[:size + 1])
        return list(queryset.filter(condition, pk__in=candidates).order_by(*order)[:size + 1])
    return fetch


def _forward(fetch, fields: tuple[str, ...], size: int, *, first: bool,
             beyond: Q = Q()) -> Page:
    rows = fetch(beyond, fields)
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, _edge(AFTER, rows[-1], fields) if more else None,
                None if first or not rows else _edge(BEFORE, rows[0], fields))


def _edge(direction: str, row: Any, fields: tuple[str, ...]) -> str:
    return encode_cursor(direction, tuple(getattr(row, field) for field in fields))
