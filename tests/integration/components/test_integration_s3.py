"""s3.get / s3.put against moto's S3 server on loopback (a real HTTP S3 endpoint, signatures and all)."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from apg_workflow.components import BpmnError, ConfigurationError, RetryableError
from apg_workflow.components.builtins.integration.s3 import S3Get, S3Put
from apg_workflow.components.builtins.integration.storage import PathNotAllowed

from .conftest import RunComponent

pytestmark = pytest.mark.asyncio


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def archive(s3_endpoint: str) -> dict[str, dict[str, Any]]:
    """An ``s3`` connection with a fresh bucket as its default."""
    settings = {
        "type": "s3",
        "endpoint_url": s3_endpoint,
        "access_key_id": "test",
        "secret_access_key": "test",
        "region": "eu-west-1",
        "bucket": f"shop-{uuid.uuid4().hex[:8]}",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="eu-west-1",
    )
    client.create_bucket(
        Bucket=settings["bucket"], CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return {"archive": settings}


def s3_client(archive: dict[str, dict[str, Any]]) -> Any:
    settings = archive["archive"]
    return boto3.client(
        "s3",
        endpoint_url=settings["endpoint_url"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="eu-west-1",
    )


async def test_put_json_then_get_it_back(
    run_component: RunComponent, archive: dict[str, dict[str, Any]]
) -> None:
    order = {"id": 7, "total": 99.5, "customer": "Zoë"}
    put = await run_component(
        S3Put,
        {
            "connection": "archive",
            "key": "orders/${order.id}.json",
            "content": "${order}",
            "metadata": {"source": "apg"},
        },
        {"order": order},
        connections=archive,
    )
    bucket = archive["archive"]["bucket"]
    assert put["bucket"] == bucket and put["key"] == "orders/7.json" and put["etag"]
    stored = s3_client(archive).get_object(Bucket=bucket, Key="orders/7.json")
    assert json.loads(stored["Body"].read()) == order
    assert stored["ContentType"] == "application/json" and stored["Metadata"] == {"source": "apg"}
    got = await run_component(
        S3Get, {"connection": "archive", "key": "orders/7.json", "mode": "json"}, connections=archive
    )
    assert got["content"] == order
    assert (got["bucket"], got["key"], got["etag"], got["metadata"]) == (
        bucket,
        "orders/7.json",
        put["etag"],
        {"source": "apg"},
    )


async def test_files_of_the_storage_root_go_up_and_come_down(
    run_component: RunComponent, archive: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    data = bytes(range(256)) * 10
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "blob.bin").write_bytes(data)
    await run_component(
        S3Put,
        {"connection": "archive", "key": "blobs/a.bin", "from_file": "in/blob.bin"},
        connections=archive,
        storage_root=tmp_path,
    )
    out = await run_component(
        S3Get,
        {"connection": "archive", "key": "blobs/a.bin", "to_file": "out/a.bin"},
        connections=archive,
        storage_root=tmp_path,
    )
    assert out["path"] == "out/a.bin" and out["size"] == len(data) and "content" not in out
    assert (tmp_path / "out" / "a.bin").read_bytes() == data
    b64 = await run_component(
        S3Get, {"connection": "archive", "key": "blobs/a.bin", "mode": "binary"}, connections=archive
    )
    assert base64.b64decode(b64["content"]) == data
    with pytest.raises(PathNotAllowed):
        await run_component(
            S3Get,
            {"connection": "archive", "key": "blobs/a.bin", "to_file": "../escape.bin"},
            connections=archive,
            storage_root=tmp_path,
        )
    assert not (tmp_path.parent / "escape.bin").exists()


async def test_missing_objects_limits_and_bad_connections(
    run_component: RunComponent, archive: dict[str, dict[str, Any]]
) -> None:
    with pytest.raises(BpmnError) as caught:
        await run_component(S3Get, {"connection": "archive", "key": "absent.txt"}, connections=archive)
    assert caught.value.code == "s3-not-found"
    await run_component(
        S3Put, {"connection": "archive", "key": "big.txt", "content": "x" * 100}, connections=archive
    )
    with pytest.raises(BpmnError) as caught:
        await run_component(
            S3Get, {"connection": "archive", "key": "big.txt", "max_bytes": 10}, connections=archive
        )
    assert caught.value.code == "s3-object-too-large"
    with pytest.raises(ConfigurationError, match="NoSuchBucket"):
        await run_component(
            S3Get, {"connection": "archive", "bucket": "no-such-bucket", "key": "x"}, connections=archive
        )
    with pytest.raises(ConfigurationError, match="exactly one of content and from_file"):
        await run_component(S3Put, {"connection": "archive", "key": "k"}, connections=archive)
    unreachable = {"archive": {**archive["archive"], "endpoint_url": "http://127.0.0.1:1"}}
    with pytest.raises(RetryableError, match="unreachable"):
        await run_component(S3Get, {"connection": "archive", "key": "x"}, connections=unreachable)
