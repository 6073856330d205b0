"""Values shared by the objects of a document, each with its short forms (an expression as a plain
string, a retry policy as a number, inputs as a mapping, …), and the functions that turn them into
model values and back. The writer uses a short form whenever it says everything."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from apg_workflow.model import (
    ComponentRef,
    DataMapping,
    Expression,
    Form,
    LoopCharacteristics,
    MultiInstance,
    RetryPolicy,
    StandardLoop,
    freeze,
    thaw,
)

EXTENSION_PREFIX = "x-"
_RETRY_DEFAULTS = RetryPolicy()


def schema_extra(**more: Any) -> dict[str, Any]:
    """Extra JSON Schema keywords of an object: ``x-…`` keys are allowed, plus ``more``."""
    return {"patternProperties": {f"^{EXTENSION_PREFIX}": {}}, **more}


class Strict(BaseModel):
    """Unknown keys are errors (typos must not pass silently), except ``x-…`` extension keys, which are
    allowed and ignored. Values are not coerced: ``"3"`` is not a number."""

    model_config = ConfigDict(
        extra="forbid", strict=True, use_attribute_docstrings=True, json_schema_extra=schema_extra()
    )

    @model_validator(mode="before")
    @classmethod
    def _ignore_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith(EXTENSION_PREFIX))
            }
        return data


def by_shape(expected: str, **tests: Callable[[Any], bool]) -> Discriminator:
    """Pick the branch of a union by the shape of the value (``~text`` for a string, …)."""

    def pick(value: Any) -> str | None:
        return next((f"~{tag}" for tag, test in tests.items() if test(value)), None)

    return Discriminator(pick, custom_error_type="shape", custom_error_message=f"expected {expected}")


def by_type(types: Iterable[str], *, error_type: str) -> Discriminator:
    """Pick the branch of a union by the object's ``type`` key (tags ``~userTask``, …). An unknown or
    missing type is reported as ``error_type``, which :mod:`.explain` turns into a suggestion."""
    known = frozenset(types)

    def pick(value: Any) -> str | None:
        kind = value.get("type") if isinstance(value, dict) else None
        return f"~{kind}" if isinstance(kind, str) and kind in known else None

    return Discriminator(pick, custom_error_type=error_type, custom_error_message="unknown or missing 'type'")


def is_text(value: Any) -> bool:
    return isinstance(value, str)


def is_object(value: Any) -> bool:
    return isinstance(value, dict)


def is_list(value: Any) -> bool:
    return isinstance(value, list)


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_true(value: Any) -> bool:
    return value is True


def present(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the ``None`` ones: what the writer leaves out."""
    return {key: value for key, value in values.items() if value is not None}


def unless(value: Any, default: Any) -> Any:
    """``None`` (left out by the writer) when ``value`` is the default."""
    return None if value == default else value


# Expressions ----------------------------------------------------------------------------------


class ExpressionObject(Strict):
    """An expression in a named language."""

    expression: str
    """The expression text."""
    language: str | None = None
    """Its language (``python``, ``feel``, ``juel``, …); absent means the platform default."""


ExpressionValue = Annotated[
    Annotated[str, Tag("~text")] | Annotated[ExpressionObject, Tag("~object")],
    by_shape("an expression: a string, or an object {expression, language}", text=is_text, object=is_object),
]


def expression(value: str | ExpressionObject | None) -> Expression | None:
    if value is None or isinstance(value, str):
        return None if value is None else Expression(value)
    return Expression(value.expression, value.language)


def expression_value(expr: Expression | None) -> str | dict[str, str] | None:
    if expr is None:
        return None
    if expr.language is None:
        return expr.text
    return {"expression": expr.text, "language": expr.language}


# Data mappings --------------------------------------------------------------------------------


class MappingItem(Strict):
    """One data mapping: ``target`` receives the value of the expression ``source``."""

    target: str
    """The variable written."""
    source: str
    """The expression read."""
    language: str | None = None
    """The language of ``source``; absent means the platform default."""


MappingsValue = Annotated[
    Annotated[dict[str, ExpressionValue], Tag("~mapping")] | Annotated[list[MappingItem], Tag("~list")],
    by_shape(
        "a mapping {target: source expression} or a list of {target, source, language}",
        mapping=is_object,
        list=is_list,
    ),
]


def mappings(value: dict[str, str | ExpressionObject] | list[MappingItem] | None) -> tuple[DataMapping, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple(DataMapping(target, expression(source)) for target, source in value.items())  # type: ignore[arg-type]
    return tuple(DataMapping(item.target, Expression(item.source, item.language)) for item in value)


def mappings_value(items: tuple[DataMapping, ...]) -> dict[str, Any] | list[dict[str, str]] | None:
    """A mapping when the targets are unique (the usual case), else the list form, which keeps repeats."""
    if not items:
        return None
    if len({item.target for item in items}) == len(items):
        return {item.target: expression_value(item.source) for item in items}
    return [
        {"target": item.target, "source": item.source.text}
        | ({"language": item.source.language} if item.source.language else {})
        for item in items
    ]


# Retry policies -------------------------------------------------------------------------------


class RetryObject(Strict):
    """How often and how fast a failed job is tried again."""

    max_attempts: int = Field(_RETRY_DEFAULTS.max_attempts, ge=1)
    """Attempts in all, the first one included."""
    initial_backoff: str = _RETRY_DEFAULTS.initial_backoff
    """Wait before the second attempt: ISO 8601 (``PT10S``) or ``10s``, ``1m``."""
    multiplier: float = Field(_RETRY_DEFAULTS.multiplier, ge=1)
    """Each further wait is the previous one times this."""
    max_backoff: str = _RETRY_DEFAULTS.max_backoff
    """The longest wait between attempts."""
    jitter: bool = _RETRY_DEFAULTS.jitter
    """Randomise waits a little so that retries of many jobs spread out."""


RetryValue = Annotated[
    Annotated[int, Tag("~count"), Field(ge=1)] | Annotated[RetryObject, Tag("~object")],
    by_shape(
        "a number of attempts or an object {max_attempts, initial_backoff, …}",
        count=is_integer,
        object=is_object,
    ),
]


def retry_value(policy: RetryPolicy | None) -> int | dict[str, Any] | None:
    """The number of attempts alone when the rest is default, else the fields that differ."""
    if policy is None:
        return None
    differ = {
        name: getattr(policy, name)
        for name in ("initial_backoff", "multiplier", "max_backoff", "jitter")
        if getattr(policy, name) != getattr(_RETRY_DEFAULTS, name)
    }
    if not differ:
        return policy.max_attempts
    return present({"max_attempts": unless(policy.max_attempts, _RETRY_DEFAULTS.max_attempts)} | differ)


# Components, forms, names ---------------------------------------------------------------------


class ComponentObject(Strict):
    """The component that does the work, and its configuration."""

    type: str
    """The component type, e.g. ``http.request``."""
    config: dict[str, Any] = {}
    """Its configuration: any JSON object."""


ComponentValue = Annotated[
    Annotated[str, Tag("~text")] | Annotated[ComponentObject, Tag("~object")],
    by_shape("a component type (text) or an object {type, config}", text=is_text, object=is_object),
]


def component_ref(value: str | ComponentObject | None, config: dict[str, Any] | None) -> ComponentRef | None:
    if value is None:
        return None
    if isinstance(value, str):
        return ComponentRef(type=value, config=freeze(config or {}))
    return ComponentRef(type=value.type, config=freeze(value.config))


def component_entry(ref: ComponentRef | None) -> dict[str, Any]:
    """The short form: ``component: http.request`` with its ``config`` beside it."""
    if ref is None:
        return {}
    return {"component": ref.type, "config": thaw(ref.config) or None}


class FormObject(Strict):
    """A user-task form: a stored form's key, an inline JSON Schema, or both."""

    key: str | None = None
    """The key of a stored form."""
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    """An inline JSON Schema of the data the form collects."""


FormValue = Annotated[
    Annotated[str, Tag("~text")] | Annotated[FormObject, Tag("~object")],
    by_shape("a form key (text) or an object {key, schema}", text=is_text, object=is_object),
]


def form(value: str | FormObject | None) -> Form | None:
    if value is None or isinstance(value, str):
        return None if value is None else Form(key=value)
    return Form(key=value.key, schema=None if value.schema_ is None else freeze(value.schema_))


def form_value(value: Form | None) -> str | dict[str, Any] | None:
    if value is None:
        return None
    if value.key is not None and value.schema is None:
        return value.key
    return present({"key": value.key, "schema": None if value.schema is None else thaw(value.schema)})


NamesValue = Annotated[
    Annotated[str, Tag("~text")] | Annotated[list[str], Tag("~list")],
    by_shape("a name or a list of names", text=is_text, list=is_list),
]


def names(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


# Loops ----------------------------------------------------------------------------------------


class LoopObject(Strict):
    """A standard loop: the activity repeats while ``condition`` holds."""

    condition: ExpressionValue | None = None
    """Repeat while this is true."""
    test_before: bool = False
    """Test the condition before each run (a *while* loop) instead of after it (*do … while*)."""
    maximum: int | None = Field(None, ge=0)
    """The most runs allowed."""


class MultiInstanceObject(Strict):
    """Multi-instance: one instance per item of ``collection``, or ``cardinality`` instances."""

    sequential: bool = False
    """One instance after the other instead of all in parallel."""
    cardinality: ExpressionValue | None = None
    """How many instances to run (when there is no collection)."""
    collection: ExpressionValue | None = None
    """The collection to run one instance per item of."""
    element_variable: str | None = None
    """The variable each instance receives its item in."""
    output_collection: str | None = None
    """The variable collecting what each instance contributes."""
    output_element: ExpressionValue | None = None
    """What each instance contributes to ``output_collection``."""
    completion_condition: ExpressionValue | None = None
    """Stop the remaining instances as soon as this is true."""


def standard_loop(value: LoopObject) -> StandardLoop:
    return StandardLoop(
        condition=expression(value.condition), test_before=value.test_before, maximum=value.maximum
    )


def multi_instance(value: MultiInstanceObject) -> MultiInstance:
    return MultiInstance(
        sequential=value.sequential,
        cardinality=expression(value.cardinality),
        input_collection=expression(value.collection),
        input_element=value.element_variable,
        output_collection=value.output_collection,
        output_element=expression(value.output_element),
        completion_condition=expression(value.completion_condition),
    )


def loop_entry(loop: LoopCharacteristics | None) -> dict[str, Any]:
    if isinstance(loop, StandardLoop):
        written = {
            "condition": expression_value(loop.condition),
            "test_before": unless(loop.test_before, False),
            "maximum": loop.maximum,
        }
        return {"loop": present(written)}
    if isinstance(loop, MultiInstance):
        written = {
            "sequential": unless(loop.sequential, False),
            "cardinality": expression_value(loop.cardinality),
            "collection": expression_value(loop.input_collection),
            "element_variable": loop.input_element,
            "output_collection": loop.output_collection,
            "output_element": expression_value(loop.output_element),
            "completion_condition": expression_value(loop.completion_condition),
        }
        return {"multi_instance": present(written)}
    return {}
