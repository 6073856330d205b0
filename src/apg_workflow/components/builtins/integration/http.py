"""HTTP components: a request to any API, a GraphQL operation, and a webhook notification."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any, Literal
from urllib.parse import quote

from pydantic import ConfigDict, Field, model_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.integration.http_client import (
    HttpClient,
    HttpPolicy,
    HttpRequest,
    HttpResult,
)
from apg_workflow.components.builtins.integration.signing import event_body, signed_headers, standard_key
from apg_workflow.components.builtins.integration.support import connection_settings, render
from apg_workflow.components.errors import BpmnError, ConfigurationError

PLACEHOLDER_INPUTS = {
    "type": "object",
    "description": "Variables that `${name}` placeholders in the configuration refer to.",
}
RESPONSE_OUTPUTS = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "description": "HTTP status code"},
        "headers": {"type": "object", "description": "response headers, names in lower case"},
        "body": {"description": "JSON-decoded when the response is JSON, text when textual, else base64"},
        "body_encoding": {"enum": ["json", "text", "base64", "none"]},
        "url": {"type": "string", "description": "the URL that answered, after redirects"},
        "attempts": {"type": "integer", "description": "how many times the request was sent"},
    },
}


class HttpCallConfig(ComponentConfig):
    """Transport settings shared by the components that call HTTP endpoints."""

    connection: str | None = Field(
        None,
        description="Name of an `http` connection: base URL, credentials, default headers and the hosts "
        "allowed past the SSRF guard (private and loopback addresses are refused otherwise).",
    )
    timeout: float = Field(
        30.0, gt=0, le=300, description="Seconds one attempt may take, redirects included."
    )
    retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Extra attempts, within this job, after a 429, 500, 502, 503 or 504 answer, a timeout "
        "or a "
        "connection failure. Then the element's retry policy applies.",
    )
    max_retry_delay: float = Field(
        30.0,
        ge=0,
        le=300,
        description="Longest wait between attempts; a `Retry-After` asking for more hands the retry to the "
        "element's retry policy.",
    )
    max_response_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        le=100 * 1024 * 1024,
        description="Largest response body accepted; a larger one raises the BPMN error "
        "`http-response-too-large`.",
    )

    def policy(self, *, follow_redirects: bool = True, max_redirects: int = 5) -> HttpPolicy:
        return HttpPolicy(
            timeout=self.timeout,
            retries=self.retries,
            max_retry_delay=self.max_retry_delay,
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            max_response_bytes=self.max_response_bytes,
        )


async def call(
    context: ComponentContext, config: HttpCallConfig, request: HttpRequest, policy: HttpPolicy
) -> HttpResult:
    async with HttpClient(context, config.connection) as client:
        return await client.send(request, policy)


def _url(template: str, inputs: Mapping[str, Any]) -> str:
    """A URL template rendered with inserted values percent-encoded (a lone placeholder is taken as is)."""
    return str(render(template, inputs, "url", quote=lambda text: quote(text, safe="")))


class HttpRequestConfig(HttpCallConfig):
    model_config = ConfigDict(populate_by_name=True)

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = Field(
        "GET", description="HTTP method."
    )
    url: str = Field(
        description="Absolute URL, or a path relative to the connection's base_url. `${name}` placeholders "
        "are filled from the inputs, percent-encoded."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers (placeholders allowed)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Query parameters; a list value repeats the parameter."
    )
    json_body: Any = Field(
        None, alias="json", description="A JSON body (any JSON value; placeholders keep the input's type)."
    )
    body: str | None = Field(
        None, description="A raw text body; set `Content-Type` in headers. Not with `json`."
    )
    raise_for_status: bool = Field(
        True,
        description="Raise the BPMN error `http-<status>` (e.g. `http-404`) for a 4xx answer or a 501/505…; "
        "when false every answer is returned as outputs.",
    )
    follow_redirects: bool = Field(
        True, description="Follow redirects, checking every hop against the SSRF guard."
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Most redirects followed.")
    idempotency_key: bool = Field(
        True,
        description="Send the job id as the `Idempotency-Key` header, so the server can drop a "
        "retry's repeat.",
    )

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequestConfig:
        if self.json_body is not None and self.body is not None:
            raise ValueError("give either json or body, not both")
        return self


class HttpRequestComponent(Component[HttpRequestConfig]):
    type = "http.request"
    category = "integration"
    title = "HTTP request"
    description = (
        "Calls an HTTP API: any method, headers, query parameters, a JSON or text body, credentials from a "
        "connection (bearer, basic, API key, OAuth2 client credentials). Transient answers (429, 5xx) are "
        "retried honouring `Retry-After`; other 4xx/5xx answers raise the BPMN error `http-<status>` unless "
        "`raise_for_status` is false. Private and loopback addresses are refused unless the connection's "
        "`allowed_hosts` lists them. GET, HEAD, PUT, DELETE and OPTIONS are idempotent by HTTP semantics; "
        "POST and PATCH rely on the `Idempotency-Key` header (the job id)."
    )
    Config = HttpRequestConfig
    inputs = PLACEHOLDER_INPUTS
    outputs = RESPONSE_OUTPUTS
    idempotent = False
    examples = (
        {
            "config": {"connection": "crm", "method": "GET", "url": "/customers/${customer_id}"},
            "inputs": {"customer_id": 42},
            "outputs": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "body": {"id": 42, "name": "Ada Lovelace"},
                "body_encoding": "json",
                "url": "https://crm.example.com/api/customers/42",
                "attempts": 1,
            },
        },
        {
            "config": {"method": "POST", "url": "https://api.example.com/orders", "json": "${order}"},
            "inputs": {"order": {"sku": "A-1", "quantity": 2}},
            "outputs": {
                "status": 201,
                "headers": {"content-type": "application/json", "location": "/orders/981"},
                "body": {"id": 981},
                "body_encoding": "json",
                "url": "https://api.example.com/orders",
                "attempts": 1,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: HttpRequestConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        headers = {k: str(v) for k, v in render(config.headers, inputs, "headers").items()}
        if config.idempotency_key:
            headers.setdefault("Idempotency-Key", context.job_id)
        request = HttpRequest(
            method=config.method,
            url=_url(config.url, inputs),
            headers=headers,
            params=render(config.params, inputs, "params"),
            json_body=render(config.json_body, inputs, "json"),
            content=None if config.body is None else str(render(config.body, inputs, "body")),
        )
        policy = config.policy(follow_redirects=config.follow_redirects, max_redirects=config.max_redirects)
        result = await call(context, config, request, policy)
        if config.raise_for_status:
            result.raise_for_status()
        return result.outputs()


class GraphqlConfig(HttpCallConfig):
    url: str = Field(description="The GraphQL endpoint: absolute, or relative to the connection's base_url.")
    query: str = Field(description="The GraphQL document (query or mutation), with `$variables`.")
    variables: dict[str, Any] = Field(
        default_factory=dict, description="GraphQL variables; `${name}` placeholders take input values."
    )
    operation_name: str | None = Field(None, description="Which operation of the document to run.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    fail_on_errors: bool = Field(
        True, description="Raise the BPMN error `graphql-error` when the answer carries `errors`."
    )


class GraphqlComponent(Component[GraphqlConfig]):
    type = "http.graphql"
    category = "integration"
    title = "GraphQL request"
    description = (
        "Runs a GraphQL query or mutation (POST with `query`, `variables`, `operationName`) and returns its "
        "`data`. GraphQL `errors` raise the BPMN error `graphql-error` unless `fail_on_errors` is false; "
        "HTTP failures behave as in http.request."
    )
    Config = GraphqlConfig
    inputs = PLACEHOLDER_INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "data": {"description": "the operation's result"},
            "errors": {"type": "array", "description": "GraphQL errors (empty when none)"},
            "status": {"type": "integer"},
        },
    }
    idempotent = False
    examples = (
        {
            "config": {
                "connection": "github",
                "url": "/graphql",
                "query": "query($login: String!) { user(login: $login) { name } }",
                "variables": {"login": "${login}"},
            },
            "inputs": {"login": "octocat"},
            "outputs": {"data": {"user": {"name": "The Octocat"}}, "errors": [], "status": 200},
        },
    )

    async def run(
        self, context: ComponentContext, config: GraphqlConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        payload: dict[str, Any] = {
            "query": config.query,
            "variables": render(config.variables, inputs, "variables"),
        }
        if config.operation_name:
            payload["operationName"] = config.operation_name
        headers = {"Idempotency-Key": context.job_id, "Accept": "application/json", **config.headers}
        request = HttpRequest("POST", _url(config.url, inputs), headers=headers, json_body=payload)
        result = await call(context, config, request, config.policy())
        result.raise_for_status()
        body = result.body if isinstance(result.body, dict) else {}
        errors = body.get("errors") or []
        if errors and config.fail_on_errors:
            first = errors[0].get("message", errors[0]) if isinstance(errors[0], dict) else errors[0]
            raise BpmnError("graphql-error", f"GraphQL error: {first}")
        return {"data": body.get("data"), "errors": errors, "status": result.status}


class WebhookConfig(HttpCallConfig):
    url: str = Field(description="Where to deliver: absolute, or relative to the connection's base_url.")
    event: str = Field(description="The event type sent as `type`, e.g. `order.shipped`.", min_length=1)
    payload: Any = Field(None, description="The event's `data` (placeholders keep the input's type).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")


class WebhookComponent(Component[WebhookConfig]):
    type = "http.webhook"
    category = "integration"
    title = "Send a webhook"
    description = (
        'POSTs an event as `{"type", "timestamp", "data"}` JSON with the Standard Webhooks `webhook-id` '
        "(the job id, the same on every retry so the receiver can drop repeats) and `webhook-timestamp` "
        "headers, and a `webhook-signature` when the connection has a `webhook_secret` (`whsec_…`). "
        "Any 2xx answer counts as delivered."
    )
    Config = WebhookConfig
    inputs = PLACEHOLDER_INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "delivered": {"type": "boolean"},
            "status": {"type": "integer"},
            "webhook_id": {"type": "string"},
        },
    }
    idempotent = True
    examples = (
        {
            "config": {
                "connection": "partner",
                "url": "/hooks/orders",
                "event": "order.shipped",
                "payload": {"order_id": "${order_id}"},
            },
            "inputs": {"order_id": 981},
            "outputs": {"delivered": True, "status": 204, "webhook_id": "job-7f3a"},
        },
    )

    async def run(
        self, context: ComponentContext, config: WebhookConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        now = context.now().astimezone(UTC)
        body = event_body(config.event, now, render(config.payload, inputs, "payload"))
        secret = _webhook_secret(context, config.connection)
        if secret is not None:
            signed = signed_headers(secret, context.job_id, now, body)
        else:
            signed = {
                "webhook-id": context.job_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "content-type": "application/json",
            }
        headers = {**signed, **config.headers}
        request = HttpRequest("POST", _url(config.url, inputs), headers=headers, content=body)
        result = await call(context, config, request, config.policy())
        result.raise_for_status()
        return {"delivered": True, "status": result.status, "webhook_id": context.job_id}


def _webhook_secret(context: ComponentContext, connection: str | None) -> str | None:
    """The connection's Standard Webhooks signing secret, if it has one (checked for its format)."""
    if connection is None:
        return None
    secret = connection_settings(context, connection, "http").get("webhook_secret")
    if not secret:
        return None
    try:
        standard_key(str(secret))
    except ValueError as exc:
        raise ConfigurationError(f"connection '{connection}': webhook_secret: {exc}") from None
    return str(secret)


COMPONENTS = (HttpRequestComponent, GraphqlComponent, WebhookComponent)
