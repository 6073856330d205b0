"""What the integration components share: reading a typed connection, and ``${name}`` placeholders.

Configuration values are written once in the designer; the data of a run comes in as inputs. A string
in a configuration may therefore refer to inputs with ``${name}`` (``${order.id}``, ``${items.0}`` reach
into objects and lists; ``$${`` writes a literal ``${``). A string that is exactly one placeholder takes
the input's value with its type (an object stays an object); elsewhere the value is inserted as text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from apg_workflow.components.base import ComponentContext
from apg_workflow.components.errors import ConfigurationError

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}")
_MISSING = object()


def connection_settings(
    context: ComponentContext, name: str, kind: str, required: tuple[str, ...] = ()
) -> Mapping[str, Any]:
    """The named connection, checked to be of ``kind`` and to hold the ``required`` keys."""
    try:
        settings = context.connection(name)
    except LookupError:
        raise ConfigurationError(f"there is no connection named '{name}'") from None
    if not isinstance(settings, Mapping):
        raise ConfigurationError(f"connection '{name}' is not a set of settings")
    declared = settings.get("type", kind)
    if declared != kind:
        raise ConfigurationError(
            f"connection '{name}' is a '{declared}' connection, this needs a '{kind}' one"
        )
    missing = [key for key in required if not settings.get(key)]
    if missing:
        raise ConfigurationError(f"connection '{name}' lacks {', '.join(repr(k) for k in missing)}")
    return settings


def content_bytes(content: Any, mode: str, encoding: str = "utf-8") -> bytes:
    """Content given in a configuration as bytes: base64 text in ``binary`` mode; else text, a non-string
    value written as JSON."""
    if mode == "binary":
        try:
            return base64.b64decode(str(content), validate=True)
        except binascii.Error:
            raise ConfigurationError("binary mode needs the content as base64 text") from None
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, default=str)
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise ConfigurationError(f"the content cannot be written as {encoding}: {exc}") from None


def _lookup(inputs: Mapping[str, Any], path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def render(
    value: Any, inputs: Mapping[str, Any], field: str, quote: Callable[[str], str] | None = None
) -> Any:
    """``value`` with its ``${name}`` placeholders replaced by inputs, through lists and objects.
    ``quote`` escapes text inserted into a larger string (e.g. a URL path segment)."""
    if isinstance(value, Mapping):
        return {key: render(item, inputs, f"{field}.{key}", quote) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, inputs, f"{field}[{i}]", quote) for i, item in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group(1):
        return _resolve(inputs, whole.group(1), field)

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "${"
        text = _as_text(_resolve(inputs, match.group(1), field))
        return quote(text) if quote else text

    return _PLACEHOLDER.sub(substitute, value)


def _resolve(inputs: Mapping[str, Any], path: str, field: str) -> Any:
    found = _lookup(inputs, path)
    if found is _MISSING:
        known = ", ".join(sorted(inputs)) or "none"
        raise ConfigurationError(f"'{field}' refers to ${{{path}}}, which the inputs lack (inputs: {known})")
    return found


__all__ = ["connection_settings", "content_bytes", "render"]
