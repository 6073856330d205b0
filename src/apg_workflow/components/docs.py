"""The component reference, generated from the registry: ``apg-workflow components docs >
docs/components.md``. Every component's class attributes are its documentation: description,
configuration (from the JSON Schema of its ``Config``), inputs, outputs and examples."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from apg_workflow.components.base import Component
from apg_workflow.components.registry import ComponentRegistry

_PACKAGE = "apg_workflow."

INTRO = """\
# Components

A **component** is the Python code behind a service task: `http.request` calls an API, `data.filter`
keeps the items that match, `ml.predict` applies a model. A task names its component and gives it a
configuration in the designer (in BPMN: `<apg:component type="http.request">` with a JSON
`<apg:config>`); its input mappings decide which process variables the component receives, and the
component's outputs become process variables through its output mappings.

This page is generated from the installed components (`apg-workflow components docs >
docs/components.md`); `apg-workflow components list` and `apg-workflow components show TYPE` print
the same catalogue, with `--json` for programs.

## The contract

A component is a subclass of `apg_workflow.components.Component` that declares:

- `type`: the dotted, lower-case name tasks refer to, by family (`http.request`, `data.filter`);
- `category`, `title` and `description`: where the designer's palette puts it, and what it tells
  users;
- `Config`: a pydantic model (a subclass of `ComponentConfig`) whose JSON Schema is the form the
  designer renders; a task's configuration is checked against it before the component runs;
- `inputs` and `outputs`: JSON-Schema-like shapes of the variables it reads and returns;
- `idempotent`: whether running it twice does no harm (see `job_id` below);
- `examples`: realistic `{"config", "inputs", "outputs"}` triples (`"error"` in place of `"outputs"`
  for a BPMN error);

and implements `async def run(self, context, config, inputs) -> dict`, which returns the output
variables. The `context` gives:

- `job_id`, the same on every retry of a job: **use it as the idempotency key** of side effects,
  because a job can run more than once (a worker that dies after the call but before reporting it
  leaves the job to another worker); `attempt` counts the tries;
- `logger`, which writes to the execution's log;
- `connection(name)`, the settings of a named connection with its secrets decrypted (never log them,
  return them or put them in an error message);
- `storage_root`, the directory file components are confined to (one directory per tenant on the
  server, `<APG_STORAGE_ROOT>/<tenant>`); `tenant_id`, the tenant of the execution (none in memory);
- `now()`, the execution's clock (virtual time in simulations), `sleep(seconds)`, `deadline` and
  `cancelled`.

A component tells how it failed by what it raises:

- `BpmnError(code, message)`: a business error; an error boundary event (or error event
  sub-process) with that code catches it, otherwise the execution fails. Never retried.
- `RetryableError(message)`: a transient failure (a timeout, a 503); the job is tried again under
  the task's retry policy (`apg:retry`), and becomes an incident when the tries run out.
- `ConfigurationError(message)`: the configuration cannot work; retrying cannot help, so the task
  opens an incident at once for an operator to fix and retry.
- Anything else counts as a failure under the retry policy.

## Writing your own component

```python
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from apg_workflow.components import Component, ComponentConfig, ComponentContext


class GreetConfig(ComponentConfig):
    greeting: str = Field("Hello", description="The word to greet with.")


class Greet(Component[GreetConfig]):
    type = "example.greet"
    category = "example"
    title = "Greet someone"
    description = "Returns a greeting for the input `name`."
    Config = GreetConfig
    inputs = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    outputs = {"type": "object", "properties": {"greeting": {"type": "string"}}}
    examples = ({"config": {}, "inputs": {"name": "Ada"}, "outputs": {"greeting": "Hello, Ada!"}},)

    async def run(
        self, context: ComponentContext, config: GreetConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return {"greeting": f"{config.greeting}, {inputs['name']}!"}
```

Give every configuration field a `description`, prefer `Literal` choices and bounds (`ge`, `le`,
`max_length`) to free text, and keep `run` asynchronous: run blocking work with
`asyncio.to_thread`. Test it by calling `run` with a real `ComponentContext` against real
counterparts (a loopback HTTP server, a temporary directory, a database).

## Plugins

Installed packages add components through the `apg_workflow.components` entry-point group; the
registry loads them at start-up, next to the built-ins. In the plugin's `pyproject.toml`:

```toml
[project.entry-points."apg_workflow.components"]
greeting = "apg_workflow_example_greeting:COMPONENTS"
```

The entry point names a component class or a tuple of them. A plugin cannot replace a built-in
(its type names must be new), and a plugin that fails to load is reported (`apg-workflow
components list --json` lists the problems) without stopping the platform.
`examples/custom-component/` in the repository is a complete plugin package with its test.

## Connections

Components that reach other systems take the *name* of a connection in their configuration; the
platform stores the connection's settings encrypted, per tenant, and `context.connection(name)`
hands them to the component. Their shapes:

- `http`: `base_url`, `headers`, `allowed_hosts` (hosts or CIDR ranges the SSRF guard lets
  through) and `auth`, one of `{"kind": "bearer", "token"}`, `{"kind": "basic", "username",
  "password"}`, `{"kind": "api_key", "header", "value"}` and `{"kind":
  "oauth2_client_credentials", "token_url", "client_id", "client_secret", "scope"}`;
- `database`: `url` (any SQLAlchemy URL);
- `smtp`: `host`, `port`, `username`, `password`, `starttls`, `ssl`, `sender`;
- `s3`: `endpoint_url`, `access_key_id`, `secret_access_key`, `region`, `bucket`;
- `redis`: `url`.
"""


def is_builtin(component: type[Component]) -> bool:
    """Whether the component ships with this package (listed in ``BUILTINS`` or declared through the
    package's own entry point) rather than with a plugin."""
    return component.__module__.startswith(_PACKAGE)


def shipped(registry: ComponentRegistry) -> list[type[Component]]:
    """The built-ins among the registered components, their categories in the order of ``BUILTINS``
    (then alphabetical), by type within a category."""
    from apg_workflow.components.builtins import BUILTINS

    first: dict[str, int] = {}
    for index, component in enumerate(BUILTINS):
        first.setdefault(component.category, index)
    builtins = [c for c in registry if is_builtin(c)]
    return sorted(builtins, key=lambda c: (first.get(c.category, len(BUILTINS)), c.category, c.type))


def _type_text(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return " or ".join(_type_text(v) for v in variants if v.get("type") != "null") or "null"
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"list of {_type_text(schema.get('items') or {})}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {_type_text(schema['additionalProperties'])}"
    return str(kind)


_BOUNDS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("maxLength", "up to {} characters"),
    ("maxItems", "up to {} items"),
)


def _bounds(schema: Mapping[str, Any]) -> list[str]:
    found = ["not empty"] if schema.get("minLength") == 1 or schema.get("minItems") == 1 else []
    found += [template.format(schema[key]) for key, template in _BOUNDS if key in schema]
    if schema.get("minItems", 1) > 1:
        found.append(f"at least {schema['minItems']} items")
    for variant in schema.get("anyOf") or ():
        found.extend(_bounds(variant))
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field: Mapping[str, Any]) -> str:
    if "default" in field:
        return f"`{json.dumps(field['default'], ensure_ascii=False)}`"
    return {"array": "`[]`", "object": "`{}`"}.get(field.get("type", ""), "")


def _fields_table(schema: Mapping[str, Any]) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    if not properties:
        return ["No configuration."]
    required = set(schema.get("required") or ())
    lines = ["| field | type | default | description |", "|---|---|---|---|"]
    for name, field in properties.items():
        default = "*required*" if name in required else _default(field)
        description = field.get("description", "")
        bounds = _bounds(field)
        if bounds:
            description += f" ({', '.join(bounds)})"
        lines.append(f"| `{name}` | {_type_text(field)} | {default} | {_cell(description)} |")
    return lines


def _shape(shape: Mapping[str, Any]) -> str:
    properties: Mapping[str, Any] = shape.get("properties") or {}
    if not properties:
        return _cell(str(shape.get("description") or "any variables"))
    required = set(shape.get("required") or ())
    parts = []
    for name, prop in properties.items():
        text = f"`{name}` ({_type_text(prop)}{', required' if name in required else ''})"
        if prop.get("description"):
            text += f": {_cell(prop['description'])}"
        parts.append(text)
    return "; ".join(parts)


def component_markdown(component: type[Component]) -> str:
    """One component's section: description, configuration, inputs and outputs, examples."""
    schema = component.Config.model_json_schema()
    lines = [f"### `{component.type}` — {component.title}", "", component.description, ""]
    lines += ["**Configuration**", "", *_fields_table(schema), ""]
    for name, nested in (schema.get("$defs") or {}).items():
        lines += [f"*{name}*: {_cell(nested.get('description', ''))}".rstrip(": "), ""]
        lines += [*_fields_table(nested), ""]
    lines += [f"**Inputs**: {_shape(component.inputs)}", "", f"**Outputs**: {_shape(component.outputs)}", ""]
    if not component.idempotent:
        lines += [
            "Not idempotent: a retried job repeats its side effect unless the target dedupes by job id.",
            "",
        ]
    for number, example in enumerate(component.examples, 1):
        title = "Example" if len(component.examples) == 1 else f"Example {number}"
        lines += [
            f"**{title}**",
            "",
            "```json",
            json.dumps(dict(example), indent=2, ensure_ascii=False),
            "```",
            "",
        ]
    return "\n".join(lines)


def _by_category(components: Iterable[type[Component]]) -> dict[str, list[type[Component]]]:
    groups: dict[str, list[type[Component]]] = {}
    for component in components:
        groups.setdefault(component.category, []).append(component)
    return groups


def render(components: Iterable[type[Component]]) -> str:
    """The whole reference: the introduction, then the components by category."""
    groups = _by_category(components)
    lines = [INTRO, "## Reference", ""]
    lines += [
        f"- {category}: " + ", ".join(f"`{c.type}`" for c in members) for category, members in groups.items()
    ]
    lines.append("")
    for category, members in groups.items():
        lines += [f"## {category.capitalize()}", ""]
        lines += [component_markdown(c) for c in members]
    return "\n".join(lines).rstrip("\n") + "\n"


__all__ = ["INTRO", "component_markdown", "is_builtin", "render", "shipped"]
