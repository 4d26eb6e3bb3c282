"""GTID positions: MariaDB's `domain-server-sequence` lists, compared domain by domain."""
from __future__ import annotations


def gtid_map(position: str) -> dict[int, int]:
    """'0-11-57,12-12-3' -> {domain: sequence}."""
    result = {}
    for gtid in filter(None, (part.strip() for part in (position or "").split(","))):
        domain, _, sequence = gtid.split("-")
        result[int(domain)] = int(sequence)
    return result


def gtid_covers(position: str, other: str) -> bool:
    """Every transaction of `other` is within `position` (domain by domain)."""
    have = gtid_map(position)
    return all(have.get(domain, -1) >= sequence for domain, sequence in gtid_map(other).items())
