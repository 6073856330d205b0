"""The component catalogue over HTTP: every installed component with its configuration JSON Schema,
inputs, outputs and examples, the same entries as the command line's."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

from apg_workflow.runtime.registry import platform_registry

pytestmark = pytest.mark.asyncio


async def test_the_catalogue_lists_every_component_with_its_schema(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/components")
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert {c["type"] for c in items} == set(platform_registry().types())
    flags = [c["builtin"] for c in items]
    assert flags == sorted(flags, reverse=True)  # the built-ins first, then plugins
    http = next(c for c in items if c["type"] == "http.request")
    assert http["category"] == "integration" and http["title"] == "HTTP request"
    assert http["schema"]["properties"]["url"]["type"] == "string" and "url" in http["schema"]["required"]
    assert http["outputs"]["properties"]["status"]["type"] == "integer"
    for example in http["examples"]:
        jsonschema.validate(example["config"], http["schema"])  # the examples fit the schema

    data = (await client.get("/api/v1/components", params={"category": "data"})).json()["items"]
    assert data and all(c["category"] == "data" for c in data)


async def test_one_component(client: httpx.AsyncClient) -> None:
    shown = await client.get("/api/v1/components/data.transform")
    assert shown.status_code == 200
    body = shown.json()
    assert body["type"] == "data.transform" and body["inputs"]["required"] == ["data"]
    assert body["examples"][0]["outputs"] == {"result": ["A"]}

    missing = await client.get("/api/v1/components/no.such")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "no component 'no.such'"


async def test_the_catalogue_needs_a_caller(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/api/v1/components")).status_code == 401
