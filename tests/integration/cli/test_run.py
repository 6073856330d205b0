"""`apg-workflow run`: the CLI contract of ARCHITECTURE.md that other tools script against."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

APPROVAL = """\
name: Approval
id: approval
activities:
  - {id: start, type: startEvent}
  - {id: review, type: userTask, name: Review}
  - {id: decide, type: exclusiveGateway, default: to_rejected}
  - {id: notify, type: serviceTask, component: log, config: {message: "approved $amount"}}
  - {id: cool_off, type: intermediateCatchEvent, timer: {duration: PT2H}}
  - {id: approved, type: endEvent}
  - {id: rejected, type: endEvent}
flows:
  - {from: start, to: review}
  - {from: review, to: decide}
  - {from: decide, to: notify, condition: "ok"}
  - {id: to_rejected, from: decide, to: rejected}
  - {from: notify, to: cool_off}
  - {from: cool_off, to: approved}
"""


def test_completed_run_prints_the_contract_object(cli, write) -> None:
    result = cli(
        "run",
        write("a.yaml", APPROVAL),
        "--input",
        '{"amount": 5}',
        "--tasks",
        '{"review": {"ok": true}}',
        "--virtual-time",
        "--json",
    )
    assert result.exit_code == 0, result.text
    assert result.json == {
        "status": "completed",
        "variables": {"amount": 5, "ok": True, "logged": "approved 5"},
        "completed": ["start", "review", "decide", "notify", "cool_off", "approved"],
        "active": [],
        "error": None,
    }


def test_tasks_by_name_and_star(cli, write) -> None:
    path = write("a.yaml", APPROVAL)
    by_name = cli("run", path, "--tasks", '{"Review": {"ok": false}}', "--json")
    assert by_name.json["completed"][-1] == "rejected"
    star = cli("run", path, "--tasks", '{"*": {"ok": false}}', "--json")
    assert star.json["status"] == "completed" and star.json["variables"] == {"ok": False}


def test_waiting_executions_exit_zero_and_name_what_they_wait_for(cli, write) -> None:
    result = cli("run", write("a.yaml", APPROVAL), "--json")
    assert result.exit_code == 0
    assert result.json["status"] == "waiting"
    assert result.json["active"] == ["review"]


def test_without_virtual_time_a_long_timer_leaves_the_run_waiting_only_if_asked(cli, write) -> None:
    dsl = 'WORKFLOW "Quick"\n  START "s"\n  WAIT "w"\n    duration: "1s"\n  END "e"\n'
    result = cli("run", write("q.apg", dsl), "--json")
    assert result.json["status"] == "completed"  # one real second


def test_a_failed_execution_exits_non_zero_with_the_error(cli, write) -> None:
    failing = """\
name: Fails
activities:
  - {id: start, type: startEvent}
  - {id: call, type: serviceTask, component: mail.sendd}
  - {id: end, type: endEvent}
flows: [{from: start, to: call}, {from: call, to: end}]
"""
    result = cli("run", write("f.yaml", failing), "--json")
    assert result.exit_code == 1
    assert result.json["status"] == "failed"
    assert "mail.sendd" in result.json["error"]


def test_call_activity_and_decision_from_more_files(cli, write) -> None:
    main = """\
name: Main
id: main
activities:
  - {id: start, type: startEvent}
  - {id: price, type: callActivity, called_element: pricing, propagate_all: true}
  - {id: end, type: endEvent}
flows: [{from: start, to: price}, {from: price, to: end}]
"""
    pricing = """\
name: Pricing
id: pricing
activities:
  - {id: p_start, type: startEvent}
  - {id: discount_rule, type: businessRuleTask, decision_ref: discount, result_variable: discount}
  - {id: p_end, type: endEvent}
flows: [{from: p_start, to: discount_rule}, {from: discount_rule, to: p_end}]
"""
    dmn = ROOT / "tests" / "fixtures" / "dmn" / "dmn11_discount.dmn"
    result = cli(
        "run",
        write("main.yaml", main),
        write("pricing.yaml", pricing),
        dmn,
        "--input",
        '{"customerType": "Business", "years": 12}',
        "--json",
    )
    assert result.exit_code == 0, result.text
    assert result.json["status"] == "completed"
    assert result.json["variables"]["discount"] == 15
    assert result.json["completed"] == ["start", "p_start", "discount_rule", "p_end", "price", "end"]


def test_process_selection_and_bad_arguments(cli, write) -> None:
    path = write("a.yaml", APPROVAL)
    assert cli("run", path, "--process", "nope").exit_code == 2
    assert cli("run", path, "--input", "{not json").exit_code == 2
    assert cli("run", path, "--tasks", '{"review": 1}').exit_code == 2


def test_human_trace_shows_each_element(cli, write) -> None:
    result = cli("run", write("a.yaml", APPROVAL), "--tasks", '{"*": {"ok": true}}', "--virtual-time")
    assert result.exit_code == 0
    for element in ("review", "notify", "cool_off", "approved"):
        assert element in result.stdout
    assert "completed" in result.stdout


def test_module_entry_point_runs(write) -> None:
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "apg_workflow",
            "run",
            str(write("a.yaml", APPROVAL)),
            "--tasks",
            '{"*": {"ok": true}}',
            "--virtual-time",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert '"status": "completed"' in process.stdout.splitlines()[-1]
