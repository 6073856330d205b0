"""The advanced components against real counterparts: scripts in the sandbox hitting its limits,
scikit-learn models trained here and saved with joblib and skops, DMN files from the repository."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from apg_workflow.components import BpmnError, ConfigurationError
from apg_workflow.runtime.registry import platform_registry
from tests.conftest import ROOT
from tests.integration.components.support import run

pytestmark = pytest.mark.asyncio
DMN = ROOT / "tests" / "fixtures" / "dmn"


# python.script ----------------------------------------------------------------------------------


async def test_script_returns_what_it_creates_or_changes() -> None:
    example = platform_registry().get("python.script").examples[0]
    assert await run("python.script", example["config"], example["inputs"]) == example["outputs"]
    script = "count = count + 1\nunused = name.upper()\nname = name"
    assert await run("python.script", {"script": script}, {"count": 1, "name": "ada"}) == {
        "count": 2,
        "unused": "ADA",
    }


async def test_script_with_listed_outputs_returns_just_those() -> None:
    config = {"script": "a = 1\nb = 2\nc = x", "outputs": ["c", "a"]}
    assert await run("python.script", config, {"x": "kept"}) == {"c": "kept", "a": 1}
    with pytest.raises(ConfigurationError, match="did not set d"):
        await run("python.script", {"script": "a = 1", "outputs": ["d"]})


async def test_script_does_not_change_the_inputs_it_is_given() -> None:
    inputs: dict[str, Any] = {"items": [1, 2]}
    assert await run("python.script", {"script": "items.append(3)"}, inputs) == {"items": [1, 2, 3]}
    assert inputs == {"items": [1, 2]}


SLOW = "data = list(range(100000))\nfor i in range(900000):\n    total = sum(data)"


async def test_script_over_its_time_limit_is_stopped_without_blocking_the_worker() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match=r"the script failed: .*longer than 0\.3 s"):
        await run("python.script", {"script": SLOW, "timeout_seconds": 0.3})
    task.cancel()
    assert time.monotonic() - started < 2
    assert ticks >= 10  # the event loop went on while the script ran in its thread


async def test_script_over_its_memory_limit_is_stopped() -> None:
    script = "parts = []\nfor i in range(100000):\n    parts.append('x' * 100)"
    with pytest.raises(ConfigurationError, match="more than 1 MB"):
        await run("python.script", {"script": script, "max_memory_mb": 1})
    assert len((await run("python.script", {"script": script, "max_memory_mb": 64}))["parts"]) == 100_000


async def test_script_errors_name_the_line() -> None:
    with pytest.raises(ConfigurationError, match=r"ZeroDivisionError.*line 2"):
        await run("python.script", {"script": "a = 1\nb = a / 0"})


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("import os", "import"),
        ("open('/etc/passwd').read()", "open"),
        ("x = (", "cannot run"),
        ("().__class__.__bases__[0].__subclasses__()", "__class__"),
    ],
)
async def test_unsafe_or_broken_scripts_are_refused_with_the_configuration(script: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        await run("python.script", {"script": script})


@pytest.mark.parametrize(
    "config", [{"script": "a = 1", "timeout_seconds": 0}, {"script": "a", "max_memory_mb": 5000}]
)
async def test_script_limits_are_bounded(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"timeout_seconds|max_memory_mb"):
        await run("python.script", config)


# text.classify ----------------------------------------------------------------------------------

SUPPORT = {
    "rules": [
        {"label": "billing", "keywords": ["invoice", "refund", "charged twice"]},
        {"label": "urgent", "pattern": r"\b(asap|urgent(ly)?)\b", "priority": 10},
        {"label": "technical", "keywords": ["error", "crash", "login"]},
    ],
    "default": "general",
}


async def test_classify_example() -> None:
    example = platform_registry().get("text.classify").examples[0]
    assert await run("text.classify", example["config"], example["inputs"]) == example["outputs"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("My LOGIN fails with an error", "technical"),
        ("Where is my invoice? Also the app crashes", "billing"),  # 1 match each: the first rule wins
        ("Invoice and refund, plus a crash", "billing"),  # more matches win between equal priorities
        ("Urgently need a login reset", "urgent"),
        ("Crashed? No: an errorless day", "general"),  # whole words only
        ("", "general"),
    ],
)
async def test_classify_ranks_by_priority_then_matches_then_order(text: str, label: str) -> None:
    assert (await run("text.classify", SUPPORT, {"text": text}))["label"] == label


async def test_classify_options() -> None:
    config = {
        "rules": [{"label": "bill", "keywords": ["bill"]}],
        "case_sensitive": True,
        "whole_words": False,
        "text_input": "body",
        "output_variable": "category",
        "matches_variable": "why",
    }
    assert await run("text.classify", config, {"body": "Billing and billing"}) == {
        "category": "bill",
        "why": [{"label": "bill", "priority": 0, "terms": ["bill"]}],
    }
    assert (await run("text.classify", config, {"body": "BILL"}))["category"] is None
    assert (await run("text.classify", {**config, "max_chars": 3}, {"body": "my bill"}))["category"] is None


async def test_classify_without_a_text_is_a_bpmn_error() -> None:
    with pytest.raises(BpmnError, match="'text' must be a text") as raised:
        await run("text.classify", SUPPORT, {"text": 42})
    assert raised.value.code == "invalid-input"


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([], "rules"),
        ([{"label": "x"}], "needs keywords or a pattern"),
        ([{"label": "x", "keywords": ["  "]}], "needs keywords or a pattern"),
        ([{"label": "x", "pattern": "(unclosed"}], "invalid regular expression"),
    ],
)
async def test_classify_refuses_bad_rules(rules: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        await run("text.classify", {"rules": rules})


# ml.predict -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_model() -> Any:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    labels = iris.target_names[iris.target]
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(iris.data, labels)


@pytest.fixture
def models(tmp_path: Path, iris_model: Any) -> Path:
    import joblib
    import skops.io

    (tmp_path / "models").mkdir()
    joblib.dump(iris_model, tmp_path / "models" / "iris.joblib")
    skops.io.dump(iris_model, tmp_path / "models" / "iris.skops")
    return tmp_path


@pytest.mark.parametrize("file", ["models/iris.joblib", "models/iris.skops"])
async def test_predict_with_a_saved_pipeline(models: Path, file: str) -> None:
    example = platform_registry().get("ml.predict").examples[1]
    outputs = await run(
        "ml.predict", {**example["config"], "model": file}, example["inputs"], storage_root=models
    )
    assert outputs == example["outputs"]


async def test_predict_proba_gives_each_class_probability(models: Path) -> None:
    config = {
        "model": "models/iris.skops",
        "method": "predict_proba",
        "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
    }
    rows = [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "extra": "x"}]
    (probabilities,) = (await run("ml.predict", config, {"rows": rows}, storage_root=models))["predictions"]
    assert set(probabilities) == {"setosa", "versicolor", "virginica"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert max(probabilities, key=probabilities.__getitem__) == "setosa"


async def test_predict_rereads_a_model_that_was_replaced(models: Path) -> None:
    import joblib
    from sklearn.dummy import DummyClassifier

    rows = {"rows": [[5.1, 3.5, 1.4, 0.2]]}
    config = {"model": "models/iris.joblib"}
    assert (await run("ml.predict", config, rows, storage_root=models))["predictions"] == ["setosa"]
    constant = DummyClassifier(strategy="constant", constant="versicolor").fit([[0, 0, 0, 0]], ["versicolor"])
    path = models / "models" / "iris.joblib"
    joblib.dump(constant, path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert (await run("ml.predict", config, rows, storage_root=models))["predictions"] == ["versicolor"]


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({}, "the input 'rows' is missing"),
        ({"rows": []}, "non-empty list of rows"),
        ({"rows": [[1.0, 2.0]]}, "features"),
        ({"rows": [{"a": 1}]}, "no feature names: set features"),
        ({"rows": [[1, 2, 3, "four"]]}, "four"),
        ({"rows": ["text"]}, "row 0 must be a list or an object"),
    ],
)
async def test_predict_on_rows_that_do_not_suit_is_a_bpmn_error(
    models: Path, inputs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(BpmnError, match=problem) as raised:
        await run("ml.predict", {"model": "models/iris.joblib"}, inputs, storage_root=models)
    assert raised.value.code == "invalid-input"


async def test_predict_refuses_models_outside_the_storage_root(models: Path, tmp_path_factory: Any) -> None:
    outside = tmp_path_factory.mktemp("outside")
    shutil.copy(models / "models" / "iris.joblib", outside / "evil.joblib")
    (models / "models" / "link.joblib").symlink_to(outside / "evil.joblib")
    rows = {"rows": [[1, 2, 3, 4]]}
    with pytest.raises(ConfigurationError, match="leads outside the storage root"):
        await run("ml.predict", {"model": "models/link.joblib"}, rows, storage_root=models)
    for path, problem in (("../evil.joblib", "contains '..'"), ("/etc/model.joblib", "is an absolute path")):
        with pytest.raises(ConfigurationError, match=problem):
            await run("ml.predict", {"model": path}, rows, storage_root=models)
    with pytest.raises(ConfigurationError, match=re.escape("no file 'models/none.joblib'")):
        await run("ml.predict", {"model": "models/none.joblib"}, rows, storage_root=models)
    with pytest.raises(ConfigurationError, match="no storage root"):
        await run("ml.predict", {"model": "models/iris.joblib"}, rows)


async def test_predict_refuses_files_it_cannot_trust_or_read(models: Path) -> None:
    import skops.io

    skops.io.dump({"model": Path("x")}, models / "models" / "odd.skops")
    with pytest.raises(ConfigurationError, match=r"not trusted: pathlib.*trusted_types"):
        await run("ml.predict", {"model": "models/odd.skops"}, {"rows": [[1]]}, storage_root=models)
    (models / "models" / "broken.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ConfigurationError, match=re.escape("cannot load the model 'broken.joblib'")):
        await run("ml.predict", {"model": "models/broken.joblib"}, {"rows": [[1]]}, storage_root=models)
    with pytest.raises(ConfigurationError, match=r"must end in \.skops"):
        await run("ml.predict", {"model": "models/iris.txt"}, {"rows": [[1]]}, storage_root=models)


async def test_predict_without_the_ml_extra_says_how_to_install_it(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(models / "models" / "iris.joblib", models / "models" / "copy.joblib")
    monkeypatch.setitem(sys.modules, "joblib", None)  # as if it were not installed
    with pytest.raises(
        ConfigurationError, match=re.escape("needs joblib, which is not installed: pip install")
    ):
        await run(
            "ml.predict", {"model": "models/copy.joblib"}, {"rows": [[1, 2, 3, 4]]}, storage_root=models
        )


async def test_predict_with_a_model_lacking_the_method(models: Path) -> None:
    import joblib
    from sklearn.linear_model import LinearRegression

    joblib.dump(LinearRegression().fit([[0], [1]], [0, 1]), models / "models" / "line.joblib")
    config = {"model": "models/line.joblib", "method": "predict_proba"}
    with pytest.raises(ConfigurationError, match="has no predict_proba"):
        await run("ml.predict", config, {"rows": [[3]]}, storage_root=models)
    assert await run("ml.predict", {**config, "method": "predict"}, {"rows": [[3]]}, storage_root=models) == {
        "predictions": [pytest.approx(3.0)]
    }


# decision.evaluate ------------------------------------------------------------------------------


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    shutil.copy(DMN / "dmn11_discount.dmn", tmp_path / "rules" / "discount.dmn")
    shutil.copy(DMN / "dmn14_eligibility.dmn", tmp_path / "rules" / "eligibility.dmn")
    return tmp_path


async def test_decision_from_a_file_in_the_storage_root(rules: Path) -> None:
    example = platform_registry().get("decision.evaluate").examples[0]
    assert (
        await run("decision.evaluate", example["config"], example["inputs"], storage_root=rules)
        == (example["outputs"])
    )


async def test_decision_with_required_decisions_and_matched_rules(rules: Path) -> None:
    config = {"file": "rules/eligibility.dmn", "matched_rules_variable": "why"}
    inputs = {"Applicant": {"birthDate": "1990-05-01", "country": "fr"}}
    outputs = await run("decision.evaluate", config, inputs, storage_root=rules)
    assert outputs["result"] == "ELIGIBLE"
    assert [rule["rule_id"] for rule in outputs["why"]] == ["adult_eu"]
    assert outputs["why"][0]["annotations"] == ["adult in a served country"]
    minor = {"Applicant": {"birthDate": "2020-01-01", "country": "FR"}}
    assert (await run("decision.evaluate", config, minor, storage_root=rules))["result"] == "INELIGIBLE"


async def test_decision_from_inline_xml_by_name() -> None:
    xml = (DMN / "dmn11_discount.dmn").read_text()
    config = {"xml": xml, "decision": "Discount", "output_variable": "percent"}
    assert await run("decision.evaluate", config, {"customerType": "Private", "years": 12}) == {"percent": 5}


async def test_decision_problems_are_configuration_errors(rules: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a usable DMN file"):
        await run("decision.evaluate", {"xml": "<definitions/>"})
    with pytest.raises(ConfigurationError, match="either file or xml"):
        await run("decision.evaluate", {})
    with pytest.raises(ConfigurationError, match=r"no decision 'nope' \(decisions: discount\)"):
        await run("decision.evaluate", {"file": "rules/discount.dmn", "decision": "nope"}, storage_root=rules)
    with pytest.raises(ConfigurationError, match=re.escape("no file 'rules/none.dmn'")):
        await run("decision.evaluate", {"file": "rules/none.dmn"}, storage_root=rules)
    with pytest.raises(ConfigurationError, match=r"'Size' \(size\) failed: .*UNIQUE.*small.*positive"):
        await run("decision.evaluate", {"xml": UNIQUE}, {"n": 3})


UNIQUE = """<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="size" name="Size">
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i"><inputExpression id="ie" typeRef="number"><text>n</text></inputExpression></input>
      <output id="o" name="size" typeRef="string"/>
      <rule id="small"><inputEntry id="a"><text>&lt; 10</text></inputEntry>
        <outputEntry id="b"><text>"small"</text></outputEntry></rule>
      <rule id="positive"><inputEntry id="c"><text>&gt; 0</text></inputEntry>
        <outputEntry id="d2"><text>"positive"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""
