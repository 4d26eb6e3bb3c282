"""Sets of event ids written compactly as ranges ("1-5,7,9-12"): a seal lists the
ids it covers and the ids still in flight, and most runs of ids are contiguous."""
from __future__ import annotations

from typing import Iterable


def encode(ids: Iterable[int]) -> str:
    ordered = sorted(set(ids))
    parts: list[str] = []
    start = previous = None
    for value in ordered + [None]:
        if start is not None and value == previous + 1:
            previous = value
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = value
    return ",".join(parts)


def decode(text: str) -> list[int]:
    ids: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids
