"""data.regex_extract."""

from __future__ import annotations

import time

from tests.unit.components.test_data_catalogue import fails, run

TEXT = "Invoices: INV-2024-0042 (paid), inv-2023-0007 (open)\nINV-2024-0050 (open)"


def test_named_groups_become_objects_and_all_matches_are_listed() -> None:
    result = run("data.regex_extract", {"pattern": r"INV-(?P<year>\d{4})-(?P<no>\d+)"}, {"text": TEXT})
    assert result["count"] == 2 and result["match"] == "INV-2024-0042"
    assert result["matches"][1] == {
        "match": "INV-2024-0050",
        "groups": {"year": "2024", "no": "0050"},
        "start": 53,
        "end": 66,
    }


def test_positional_groups_flags_and_limits() -> None:
    config = {
        "pattern": r"^inv-(\d{4})-(\d+) \((\w+)\)$",
        "ignore_case": True,
        "multiline": True,
        "max_matches": 1,
    }
    result = run("data.regex_extract", config, {"text": "INV-2024-0050 (open)\ninv-2023-0007 (paid)"})
    assert result == {
        "matched": True,
        "match": "INV-2024-0050 (open)",
        "groups": ["2024", "0050", "open"],
        "matches": [
            {"match": "INV-2024-0050 (open)", "groups": ["2024", "0050", "open"], "start": 0, "end": 20}
        ],
        "count": 1,
    }
    assert run("data.regex_extract", {"pattern": "a.b", "dotall": True}, {"text": "a\nb"})["match"] == "a\nb"


def test_no_match_is_empty_or_a_bpmn_error_when_required() -> None:
    assert run("data.regex_extract", {"pattern": "xyz"}, {"text": TEXT}) == {
        "matched": False,
        "match": None,
        "groups": None,
        "matches": [],
        "count": 0,
    }
    assert "does not match" in fails(
        "data.regex_extract", {"pattern": "xyz", "required": True}, {"text": TEXT}, "no-match"
    )


def test_catastrophic_backtracking_is_stopped_by_the_timeout() -> None:
    started = time.monotonic()
    message = fails(
        "data.regex_extract", {"pattern": "(a|aa)+c", "timeout": 0.2}, {"text": "a" * 60}, "invalid-input"
    )
    assert time.monotonic() - started < 2
    assert "took longer than 0.2 s" in message
