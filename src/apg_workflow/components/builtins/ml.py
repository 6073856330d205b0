"""``ml.predict``: a scikit-learn model from the storage root, applied to input rows.

scikit-learn, joblib and skops come with the ``ml`` extra (``pip install 'apg-workflow[ml]'``); they
are imported when a model is first loaded, so the platform runs without them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import INVALID_INPUT
from apg_workflow.components.builtins.helpers import VariableName, output_variable
from apg_workflow.components.builtins.integration.storage import confine, storage_root
from apg_workflow.components.errors import BpmnError, ConfigurationError

_PICKLES = (".joblib", ".pkl", ".pickle")
_SKOPS = ".skops"
_INSTALL = "pip install 'apg-workflow[ml]'"


def storage_file(context: ComponentContext, relative: str, field: str) -> Path:
    """The existing file ``relative`` names in the storage root (confined as the file components'
    paths are); a ConfigurationError when there is no such file."""
    path = confine(storage_root(context), relative, field)
    if not path.is_file():
        raise ConfigurationError(f"there is no file '{relative}' in the storage root")
    return path


class PredictConfig(ComponentConfig):
    model: str = Field(
        min_length=1,
        max_length=1000,
        description="The model file, relative to the storage root: a scikit-learn estimator or pipeline "
        "saved with skops (`.skops`) or joblib (`.joblib`, `.pkl`).",
    )
    method: Literal["predict", "predict_proba"] = Field(
        "predict", description="`predict`: one value per row; `predict_proba`: each class's probability."
    )
    rows_input: VariableName = Field(
        "rows",
        description="The input variable holding the rows: a list of rows, each a list of feature values "
        "or an object of feature name → value.",
    )
    features: list[str] | None = Field(
        None,
        description="The feature order for rows given as objects; by default the names the model was "
        "fitted with (`feature_names_in_`).",
    )
    trusted_types: list[str] = Field(
        default_factory=list,
        description="For `.skops` files: types beyond scikit-learn's own that may be loaded, e.g. "
        "`numpy.float64`. A file holding other types is refused with their names.",
    )
    output_variable: VariableName = output_variable("predictions")

    @field_validator("model")
    @classmethod
    def _format(cls, value: str) -> str:
        if not value.lower().endswith((*_PICKLES, _SKOPS)):
            raise ValueError(f"'{value}' must end in .skops, .joblib, .pkl or .pickle")
        return value


def _missing_library(exc: ModuleNotFoundError) -> ConfigurationError:
    return ConfigurationError(f"ml.predict needs {exc.name}, which is not installed: {_INSTALL}")


@lru_cache(maxsize=8)
def _load(path: Path, modified: int, size: int, trusted: tuple[str, ...]) -> Any:
    """The model in ``path``; cached while the file keeps its modification time and size."""
    try:
        if path.suffix.lower() == _SKOPS:
            import skops.io

            untrusted = [t for t in skops.io.get_untrusted_types(file=path) if t not in trusted]
            if untrusted:
                raise ConfigurationError(
                    f"the model file holds types that are not trusted: {', '.join(untrusted)}; "
                    "list them in trusted_types if you trust the file"
                )
            return skops.io.load(path, trusted=list(trusted) or None)
        import joblib

        return joblib.load(path)
    except ModuleNotFoundError as exc:
        raise _missing_library(exc) from None
    except ConfigurationError:
        raise
    except Exception as exc:  # a corrupt or foreign file: unpickling can raise anything
        raise ConfigurationError(
            f"cannot load the model '{path.name}': {type(exc).__name__}: {exc}"
        ) from None


def _matrix(rows: Any, features: Sequence[str] | None, name: str) -> list[list[Any]]:
    """The rows as a list of lists, objects put in ``features`` order."""
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"the input '{name}' must be a non-empty list of rows")
    matrix = []
    for index, row in enumerate(rows):
        if isinstance(row, Mapping):
            if features is None:
                raise ValueError("rows are objects but the model has no feature names: set features")
            absent = [f for f in features if f not in row]
            if absent:
                raise ValueError(f"row {index} lacks {', '.join(absent)}")
            matrix.append([row[f] for f in features])
        elif isinstance(row, list):
            matrix.append(row)
        else:
            raise ValueError(f"row {index} must be a list or an object")
    return matrix


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value a variable can hold."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def _predict(model: Any, config: PredictConfig, rows: Any) -> list[Any]:
    method = getattr(model, config.method, None)
    if not callable(method):
        raise ConfigurationError(f"the model ({type(model).__name__}) has no {config.method} method")
    names = getattr(model, "feature_names_in_", None)
    features = config.features or (list(names) if names is not None else None)
    try:
        matrix = _matrix(rows, features, config.rows_input)
        result = method(matrix)
    except (ValueError, TypeError) as exc:
        raise BpmnError(INVALID_INPUT, f"ml.predict: the rows do not suit the model: {exc}") from None
    if config.method == "predict":
        return [_plain(value) for value in result]
    classes = [str(_plain(c)) for c in getattr(model, "classes_", range(len(result[0])))]
    return [{c: float(p) for c, p in zip(classes, probabilities, strict=True)} for probabilities in result]


class Predict(Component[PredictConfig]):
    type = "ml.predict"
    category = "advanced"
    title = "Predict with a model"
    description = (
        "Applies a scikit-learn model or pipeline, saved in the storage root, to rows of input data: "
        "`predict` gives one value per row, `predict_proba` each class's probability. Prefer files "
        "saved with skops (`skops.io.dump`): joblib and pickle files can run any code when loaded, so "
        "keep only models you trust in the storage root. Rows that do not suit the model raise the BPMN "
        f"error `invalid-input`. Needs the `ml` extra ({_INSTALL})."
    )
    Config = PredictConfig
    outputs = {
        "type": "object",
        "properties": {
            "predictions": {
                "type": "array",
                "description": "one value per row, or an object of class → probability per row",
            }
        },
    }
    examples = (
        {
            "config": {
                "model": "models/churn.skops",
                "method": "predict_proba",
                "features": ["tenure_months", "monthly_spend", "support_calls"],
            },
            "inputs": {"rows": [{"tenure_months": 3, "monthly_spend": 80.0, "support_calls": 5}]},
            "outputs": {"predictions": [{"0": 0.18, "1": 0.82}]},
        },
        {
            "config": {"model": "models/iris.joblib", "output_variable": "species"},
            "inputs": {"rows": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
            "outputs": {"species": ["setosa", "virginica"]},
        },
    )

    async def run(
        self, context: ComponentContext, config: PredictConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if config.rows_input not in inputs:
            raise BpmnError(INVALID_INPUT, f"ml.predict: the input '{config.rows_input}' is missing")
        path = storage_file(context, config.model, "model")
        stat = path.stat()
        trusted = tuple(config.trusted_types)

        def work() -> list[Any]:
            model = _load(path, stat.st_mtime_ns, stat.st_size, trusted)
            return _predict(model, config, inputs[config.rows_input])

        return {config.output_variable: await asyncio.to_thread(work)}


__all__ = ["Predict", "storage_file"]
