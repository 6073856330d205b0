"""data.xml_parse: the shape it reads XML into, and its hardening."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.unit.components.test_data_catalogue import fails, run

ORDER = """<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by the shop -->
<o:order xmlns:o="urn:shop" xmlns:x="urn:extra" id="7" x:channel="web">
  <o:customer>Ada</o:customer>
  <o:line sku="A-1">2</o:line>
  <o:line sku="B-7">1</o:line>
  <o:empty/>
  <o:note>Fragile &amp; <b>heavy</b> parcel</o:note>
  <?render fast?>
</o:order>"""


def test_xml_becomes_objects_lists_text_and_attributes() -> None:
    assert run("data.xml_parse", {}, {"text": ORDER})["result"] == {
        "order": {
            "@id": "7",
            "@channel": "web",
            "customer": "Ada",
            "line": [{"@sku": "A-1", "#text": "2"}, {"@sku": "B-7", "#text": "1"}],
            "empty": None,
            "note": {"b": "heavy", "#text": "Fragile &  parcel"},
        }
    }


def test_namespace_prefixes_keys_and_forced_lists_are_configurable() -> None:
    config = {
        "strip_namespaces": False,
        "attribute_prefix": "_",
        "text_key": "value",
        "force_list": ["customer"],
    }
    order = run("data.xml_parse", config, {"text": ORDER})["result"]["o:order"]
    assert order["_id"] == "7" and order["_x:channel"] == "web"
    assert order["o:customer"] == ["Ada"]
    assert order["o:line"][0] == {"_sku": "A-1", "value": "2"}


def test_malformed_xml_is_reported_with_its_position() -> None:
    message = fails("data.xml_parse", {}, {"text": "<a>\n  <b></a>"}, "invalid-input")
    assert message == (
        "data.xml_parse: the XML is not well-formed at line 2, column 10: "
        "Opening and ending tag mismatch: b line 2 and a"
    )


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""


def test_billion_laughs_is_refused_at_once() -> None:
    started = time.monotonic()
    message = fails("data.xml_parse", {}, {"text": BILLION_LAUGHS}, "invalid-input")
    assert time.monotonic() - started < 1
    assert "DOCTYPE and entity declarations are not accepted" in message


def test_external_entities_read_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for doctype in (
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>',
        f'<!DOCTYPE r SYSTEM "file://{secret}">',
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ):
        message = fails("data.xml_parse", {}, {"text": f"{doctype}<r>&x;</r>"}, "invalid-input")
        assert "TOP-SECRET" not in message


@pytest.mark.parametrize("text", ["", "not xml", "<a/><b/>"])
def test_text_that_is_not_one_document_is_refused(text: str) -> None:
    assert fails("data.xml_parse", {}, {"text": text}, "invalid-input").startswith("data.xml_parse: ")
