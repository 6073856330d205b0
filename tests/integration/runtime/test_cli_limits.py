"""`deploy --max-concurrent`: the limit of a workflow from the command line, on both dialects."""

from __future__ import annotations

from tests.integration.runtime.test_cli import Cli, cli  # noqa: F401  (fixture)


def test_deploy_sets_and_removes_the_limit_of_a_workflow(cli: Cli) -> None:  # noqa: F811
    shown = cli.json("deploy", "review.bpmn", "--max-concurrent", "1")
    assert shown["max_concurrent_executions"] == 1 and shown["created"] is True
    first, second = [cli.json("start", "review") for _ in range(2)]
    assert (first["status"], second["status"]) == ("running", "queued")
    assert cli.json("executions", "show", second["id"])["status"] == "queued"
    lifted = cli.json("deploy", "review.bpmn", "--max-concurrent", "0")
    assert lifted["max_concurrent_executions"] is None and lifted["created"] is False
    assert cli.json("executions", "show", second["id"])["status"] == "waiting"  # on its user tasks
    assert "max_concurrent_executions" not in cli.json("deploy", "review.bpmn")
