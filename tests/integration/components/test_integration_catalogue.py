"""The integration family's catalogue entries: what the designer and docs/components.md show."""

from __future__ import annotations

import json

import pytest

from apg_workflow.components import Component, ComponentRegistry
from apg_workflow.components.builtins.integration import COMPONENTS

EXPECTED = {
    "http.request",
    "http.graphql",
    "http.webhook",
    "sql.query",
    "sql.execute",
    "redis.get",
    "redis.set",
    "redis.publish",
    "file.read",
    "file.write",
    "file.list",
    "file.delete",
    "s3.get",
    "s3.put",
    "email.send",
    "chat.slack",
    "chat.teams",
}


def test_the_family_registers_every_component() -> None:
    assert set(ComponentRegistry(COMPONENTS).types()) == EXPECTED


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.type)
def test_catalogue_entry_is_complete(component: type[Component]) -> None:
    entry = component.describe()
    json.dumps(entry)
    assert entry["category"] == "integration" and entry["title"] and len(entry["description"]) > 40
    schema = entry["schema"]
    for name, field in schema["properties"].items():
        assert field.get("description"), f"{component.type}: config field '{name}' has no description"
    assert entry["examples"], f"{component.type} has no example"
    declared = set(entry["outputs"].get("properties", {}))
    for example in entry["examples"]:
        component().parse_config(example["config"])
        assert set(example["outputs"]) <= declared, f"{component.type}: example outputs not declared"


def test_idempotency_flags_follow_the_side_effects() -> None:
    flags = {c.type: c.idempotent for c in COMPONENTS}
    assert flags["sql.query"] and flags["redis.get"] and flags["file.read"] and flags["s3.get"]
    assert not flags["http.request"] and not flags["sql.execute"] and not flags["email.send"]
    assert not flags["redis.publish"] and not flags["chat.slack"]
