"""Random models in the semantic subset survive every format, alone and chained, unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from apg_workflow.formats import FORMATS, dump, load
from apg_workflow.model import Definitions
from tests.strategies import definitions

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(model: Definitions, fmt: str) -> Definitions:
    return load(dump(model, fmt), format=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@PROPERTY
@given(model=definitions())
def test_each_format_round_trips_without_loss(fmt: str, model: Definitions) -> None:
    again = roundtrip(model, fmt)
    # BPMN export adds an automatic layout; geometry is not part of the semantics.
    assert again.without_diagrams() == model


@PROPERTY
@given(model=definitions())
def test_chained_conversions_keep_semantics(model: Definitions) -> None:
    current = model
    for fmt in ("dsl", "bpmn", "yaml", "json", "dsl"):
        current = roundtrip(current, fmt)
    assert current.without_diagrams() == model


@PROPERTY
@given(model=definitions())
def test_bpmn_export_is_stable(model: Definitions) -> None:
    """Writing what was read gives the same XML: the layout is deterministic and nothing drifts."""
    first = dump(model, "bpmn")
    assert dump(load(first, format="bpmn"), "bpmn") == first
