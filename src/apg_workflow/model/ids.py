"""Deterministic ids for elements written without one (JSON, YAML and DSL sources)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, MutableSet

_NON_WORD = re.compile(r"[^0-9A-Za-z_]+")


def slug(text: str) -> str:
    """``"Complete Forms!"`` → ``"Complete_Forms"``: a valid XML NCName built from a label."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = _NON_WORD.sub("_", ascii_text).strip("_")
    if not cleaned or not (cleaned[0].isalpha() or cleaned[0] == "_"):
        cleaned = f"_{cleaned}"
    return cleaned


def unique_id(base: str, taken: Container[str]) -> str:
    """``base`` itself if free, else ``base_2``, ``base_3``, …"""
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def claim_id(base: str, taken: MutableSet[str]) -> str:
    """Like :func:`unique_id`, and records the id as taken."""
    chosen = unique_id(base, taken)
    taken.add(chosen)
    return chosen


def element_id_for(name: str | None, kind: str, taken: MutableSet[str]) -> str:
    """The id an element without one gets: from its name, else from its kind (``userTask_1``)."""
    if name:
        return claim_id(slug(name), taken)
    return claim_id(f"{kind}_1", taken) if f"{kind}_1" not in taken else claim_id(kind, taken)


def flow_id_for(source: str, target: str, taken: MutableSet[str]) -> str:
    """The id a sequence flow without one gets: ``Flow_<source>_<target>``."""
    return claim_id(f"Flow_{source}_{target}", taken)
