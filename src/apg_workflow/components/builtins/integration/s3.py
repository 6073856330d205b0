"""S3 components: download an object and upload one, on AWS S3 or any S3-compatible store (MinIO, Ceph,
Cloudflare R2…). boto3 runs in a thread; a connection's ``endpoint_url`` selects a non-AWS store and
path-style addressing."""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pydantic import Field, model_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.integration.storage import (
    confine,
    load,
    relative_name,
    save,
    storage_root,
)
from apg_workflow.components.builtins.integration.support import connection_settings, content_bytes, render
from apg_workflow.components.errors import BpmnError, ConfigurationError, RetryableError

T = TypeVar("T")
INPUTS = {
    "type": "object",
    "description": "Variables that `${name}` placeholders in the configuration refer to.",
}
MAX_BYTES = 100 * 1024 * 1024
OBJECT_OUTPUTS = {
    "bucket": {"type": "string"},
    "key": {"type": "string"},
    "size": {"type": "integer", "description": "bytes"},
}
_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "NoSuchBucket",
    "AllAccessDisabled",
}


class S3Config(ComponentConfig):
    connection: str = Field(
        description="Name of an `s3` connection: endpoint_url (empty for AWS), access_key_id, "
        "secret_access_key, "
        "region and a default bucket."
    )
    bucket: str | None = Field(None, description="The bucket; defaults to the connection's bucket.")
    key: str = Field(description="The object key; placeholders allowed, e.g. `invoices/${invoice_id}.pdf`.")


async def with_s3(
    context: ComponentContext,
    config: S3Config,
    inputs: Mapping[str, Any],
    action: Callable[[Any, str, str], T],
) -> T:
    """Run ``action(client, bucket, key)`` in a thread, translating S3 failures."""
    settings = connection_settings(context, config.connection, "s3", ("access_key_id", "secret_access_key"))
    bucket = config.bucket or settings.get("bucket")
    if not bucket:
        raise ConfigurationError(
            f"no bucket: set one in the configuration or in connection '{config.connection}'"
        )
    key = str(render(config.key, inputs, "key"))

    def call() -> T:
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.get("endpoint_url") or None,
            aws_access_key_id=settings["access_key_id"],
            aws_secret_access_key=settings["secret_access_key"],
            region_name=settings.get("region") or "us-east-1",
            config=BotoConfig(
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path" if settings.get("endpoint_url") else "auto"},
            ),
        )
        try:
            return action(client, str(bucket), key)
        finally:
            client.close()

    try:
        return await asyncio.to_thread(call)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = f"S3 {code or 'error'} for s3://{bucket}/{key}: {error.get('Message') or exc}"
        if code in _NOT_FOUND:
            raise BpmnError("s3-not-found", f"there is no object s3://{bucket}/{key}") from None
        if code in _REFUSED:
            raise ConfigurationError(message) from None
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        raise (
            RetryableError(message)
            if status >= 500 or code == "SlowDown"
            else BpmnError(f"s3-{code}", message)
        ) from None
    except EndpointConnectionError as exc:
        raise RetryableError(f"S3 is unreachable: {exc}") from None
    except BotoCoreError as exc:
        raise RetryableError(f"S3 failed: {exc}") from None


class S3GetConfig(S3Config):
    mode: Literal["text", "json", "binary"] = Field(
        "text", description="Return the object as UTF-8 text, parsed JSON, or base64 (binary)."
    )
    to_file: str | None = Field(
        None,
        description="Save the object under this path of the storage root instead of returning its content.",
    )
    max_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        le=MAX_BYTES,
        description="Largest object accepted; a larger one raises the BPMN error `s3-object-too-large`.",
    )


def _download(client: Any, bucket: str, key: str, limit: int) -> tuple[bytes, dict[str, Any]]:
    response = client.get_object(Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        if int(response.get("ContentLength") or 0) > limit:
            raise BpmnError("s3-object-too-large", f"s3://{bucket}/{key} is larger than {limit} bytes")
        data = body.read(limit + 1)
    finally:
        body.close()
    if len(data) > limit:
        raise BpmnError("s3-object-too-large", f"s3://{bucket}/{key} is larger than {limit} bytes")
    return data, {
        "bucket": bucket,
        "key": key,
        "content_type": response.get("ContentType"),
        "etag": str(response.get("ETag", "")).strip('"'),
        "metadata": dict(response.get("Metadata") or {}),
        "last_modified": response["LastModified"].isoformat() if response.get("LastModified") else None,
    }


class S3Get(Component[S3GetConfig]):
    type = "s3.get"
    category = "integration"
    title = "S3: download an object"
    description = (
        "Downloads an object and returns it (text, JSON or base64) or saves it under the storage root. "
        "A missing "
        "object raises the BPMN error `s3-not-found`."
    )
    Config = S3GetConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            **OBJECT_OUTPUTS,
            "content": {"description": "the object's content (absent with to_file)"},
            "path": {"type": "string", "description": "where it was saved (with to_file)"},
            "content_type": {"type": "string"},
            "etag": {"type": "string"},
            "metadata": {"type": "object"},
            "last_modified": {"type": "string"},
        },
    }
    examples = (
        {
            "config": {"connection": "archive", "key": "orders/${order_id}.json", "mode": "json"},
            "inputs": {"order_id": 7},
            "outputs": {
                "bucket": "shop",
                "key": "orders/7.json",
                "size": 24,
                "content": {"id": 7, "total": 99.5},
                "content_type": "application/json",
                "etag": "9b2cf535f27731c974343645a3985328",
                "metadata": {},
                "last_modified": "2024-05-01T09:30:00+00:00",
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: S3GetConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        target = None
        if config.to_file is not None:
            root = storage_root(context)
            target = (root, confine(root, str(render(config.to_file, inputs, "to_file")), "to_file"))
        data, details = await with_s3(
            context, config, inputs, lambda c, b, k: _download(c, b, k, config.max_bytes)
        )
        outputs: dict[str, Any] = {**details, "size": len(data)}
        key = details["key"]
        if target is not None:
            await save(*target, data)
            outputs["path"] = relative_name(*target)
        elif config.mode == "binary":
            outputs["content"] = base64.b64encode(data).decode("ascii")
        else:
            try:
                text = data.decode("utf-8")
                outputs["content"] = json.loads(text) if config.mode == "json" else text
            except ValueError as exc:
                raise BpmnError("s3-bad-content", f"{key} is not {config.mode}: {exc}") from None
        return outputs


class S3PutConfig(S3Config):
    content: Any = Field(
        None,
        description="What to upload: text (a non-string value as JSON), or base64 in binary mode. "
        "Placeholders allowed. Not with from_file.",
    )
    mode: Literal["text", "binary"] = Field("text", description="How `content` is given: text, or base64.")
    from_file: str | None = Field(
        None, description="Upload this file of the storage root instead of `content`."
    )
    content_type: str | None = Field(None, description="MIME type; guessed from the key when not given.")
    metadata: dict[str, str] = Field(
        default_factory=dict, description="User metadata stored with the object."
    )

    @model_validator(mode="after")
    def _one_source(self) -> S3PutConfig:
        if (self.content is None) == (self.from_file is None):
            raise ValueError("give exactly one of content and from_file")
        return self


class S3Put(Component[S3PutConfig]):
    type = "s3.put"
    category = "integration"
    title = "S3: upload an object"
    description = (
        "Uploads text, JSON, bytes or a file of the storage root as an object, "
        "replacing any object at the key."
    )
    Config = S3PutConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            **OBJECT_OUTPUTS,
            "etag": {"type": "string"},
            "version_id": {"type": ["string", "null"]},
        },
    }
    examples = (
        {
            "config": {
                "connection": "archive",
                "key": "reports/${day}.csv",
                "from_file": "reports/${day}.csv",
            },
            "inputs": {"day": "2024-05-01"},
            "outputs": {
                "bucket": "shop",
                "key": "reports/2024-05-01.csv",
                "size": 2048,
                "etag": "9b2cf535f27731c974343645a3985328",
                "version_id": None,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: S3PutConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        key = str(render(config.key, inputs, "key"))
        if config.from_file is not None:
            root = storage_root(context)
            data = await load(
                root,
                confine(root, str(render(config.from_file, inputs, "from_file")), "from_file"),
                MAX_BYTES,
            )
        else:
            data = content_bytes(render(config.content, inputs, "content"), config.mode)
        content_type = config.content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"

        def upload(client: Any, bucket: str, key: str) -> dict[str, Any]:
            response = client.put_object(
                Bucket=bucket, Key=key, Body=data, ContentType=content_type, Metadata=config.metadata
            )
            return {
                "bucket": bucket,
                "key": key,
                "size": len(data),
                "etag": str(response.get("ETag", "")).strip('"'),
                "version_id": response.get("VersionId"),
            }

        return await with_s3(context, config, inputs, upload)


COMPONENTS = (S3Get, S3Put)
