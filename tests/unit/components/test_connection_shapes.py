"""Connection shapes: what components get, what people see (redacted), and errors that never quote a
secret; the scrubbing of error messages, outputs and log records."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from apg_workflow.components import ConfigurationError
from apg_workflow.components.connection_files import read_connections_file
from apg_workflow.components.connections import (
    InvalidConnection,
    JobConnections,
    LazyLookup,
    check_name,
    parse_connection,
    static_lookup,
)
from apg_workflow.components.redaction import (
    RedactingFilter,
    ScrubbingLogger,
    SecretSet,
    known_secrets,
    scrub,
    scrub_data,
)

SECRET = "s3cr3t-Value-42"
EXAMPLES: dict[str, dict[str, Any]] = {
    "bearer": {
        "type": "http",
        "base_url": "https://api.example.com",
        "auth": {"kind": "bearer", "token": SECRET},
    },
    "basic": {
        "type": "http",
        "auth": {"kind": "basic", "username": "ada", "password": SECRET},
        "allowed_hosts": ["10.0.0.0/8", "intranet.example.com"],
    },
    "api_key": {"type": "http", "auth": {"kind": "api_key", "header": "X-Api-Key", "value": SECRET}},
    "oauth2": {
        "type": "http",
        "auth": {
            "kind": "oauth2_client_credentials",
            "token_url": "https://login.example.com/token",
            "client_id": "app",
            "client_secret": SECRET,
            "scope": "read",
        },
    },
    "headers": {
        "type": "http",
        "headers": {"Authorization": f"Token {SECRET}", "Accept": "application/json"},
    },
    "database": {"type": "database", "url": f"postgresql+asyncpg://app:{SECRET}@db.internal:5432/sales"},
    "smtp": {
        "type": "smtp",
        "host": "mail",
        "port": 587,
        "username": "bot",
        "password": SECRET,
        "starttls": True,
    },
    "s3": {
        "type": "s3",
        "endpoint_url": "http://127.0.0.1:9000",
        "access_key_id": "AKIA1",
        "secret_access_key": SECRET,
        "bucket": "docs",
    },
    "redis": {"type": "redis", "url": f"redis://:{SECRET}@cache:6379/0"},
}


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_components_get_the_settings_and_people_see_them_redacted(kind: str) -> None:
    connection = parse_connection(EXAMPLES[kind])
    settings = connection.settings()
    assert settings["type"] == EXAMPLES[kind]["type"]
    assert SECRET in repr(settings)  # what context.connection() returns, in clear
    redacted = connection.redacted()
    assert SECRET not in repr(redacted) and "***" in repr(redacted)
    assert SECRET not in repr(connection) and SECRET not in str(connection)
    assert any(SECRET in value for value in connection.secret_values())


def test_the_redacted_view_keeps_what_is_not_secret() -> None:
    database = parse_connection(
        {"type": "database", "url": "postgresql://app:p%40ss@db:5432/sales?sslmode=require"}
    )
    assert database.redacted()["url"] == "postgresql://app:***@db:5432/sales?sslmode=require"
    assert {"p%40ss", "p@ss"} <= database.secret_values()  # as written and decoded
    query = parse_connection({"type": "redis", "url": "redis://cache:6379/0?password=hush&db=1"})
    assert query.redacted()["url"] == "redis://cache:6379/0?password=***&db=1"
    headers = parse_connection(EXAMPLES["headers"]).redacted()["headers"]
    assert headers == {"Authorization": "***", "Accept": "application/json"}
    assert parse_connection(EXAMPLES["bearer"]).redacted()["base_url"] == "https://api.example.com"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"type": "http", "auth": {"kind": "bearer"}}, "invalid http connection: auth.token: Field required"),
        ({"type": "http", "auth": {"kind": "magic", "token": SECRET}}, "auth: Input tag 'magic'"),
        ({"type": "smtp", "host": "h", "port": 70000, "password": SECRET}, "port: Input should be less than"),
        (
            {"type": "smtp", "host": "h", "port": 465, "ssl": True, "starttls": True, "password": SECRET},
            "exclude",
        ),
        ({"type": "database", "url": SECRET}, "url: not a URL"),
        ({"type": "database", "url": f"postgresql://u:{SECRET}@h:port/db"}, "url: not a valid URL"),
        ({"type": "redis", "url": f"http://:{SECRET}@h"}, "url: must start with redis://"),
        (
            {
                "type": "s3",
                "endpoint_url": "http://h",
                "access_key_id": "a",
                "secret_access_key": SECRET,
                "x": 1,
            },
            "x: Extra",
        ),
        ({"type": "http", "allowed_hosts": ["10.0.0.0/33"]}, "is not a host name or a CIDR network"),
        ({"type": "ftp", "password": SECRET}, "'type' must be one of http, database, smtp, s3, redis"),
        ([SECRET], "a connection must be an object"),
    ],
)
def test_invalid_settings_are_explained_without_quoting_a_secret(data: Any, expected: str) -> None:
    with pytest.raises(InvalidConnection) as caught:
        parse_connection(data)
    assert expected in caught.value.message
    assert SECRET not in caught.value.message


def test_connection_names_are_checked() -> None:
    assert check_name("crm.prod_1") == "crm.prod_1"
    for bad in ("", "-x", "a b", "x" * 101):
        with pytest.raises(InvalidConnection, match="invalid connection name"):
            check_name(bad)


def test_scrubbing_replaces_every_secret_longest_first() -> None:
    secrets = {"abc", "abcdef"}
    assert scrub("key abcdef and abc", secrets) == "key *** and ***"
    assert scrub_data({"k": ["x abc", {"abcdef": 1}], "n": 2}, secrets) == {
        "k": ["x ***", {"***": 1}],
        "n": 2,
    }
    assert scrub("nothing here", ()) == "nothing here"


def test_a_job_remembers_the_secrets_it_was_handed() -> None:
    lookup = static_lookup({"crm": parse_connection(EXAMPLES["bearer"])}, origin="test")
    used = JobConnections(lookup)
    assert not used.secrets
    assert used("crm")["auth"]["token"] == SECRET
    assert SECRET in set(used.secrets) and SECRET in set(known_secrets)
    with pytest.raises(ConfigurationError, match="no connection 'erp' in test"):
        used("erp")


def test_a_lazy_lookup_loads_once_and_only_when_asked() -> None:
    loads: list[int] = []

    def load() -> Any:
        loads.append(1)
        return static_lookup({"crm": parse_connection(EXAMPLES["bearer"])}, origin="test")

    lazy = LazyLookup(load)
    assert loads == []
    lazy("crm")
    lazy("crm")
    assert loads == [1]


def test_log_records_lose_known_secrets_in_message_arguments_and_traceback() -> None:
    secrets = SecretSet([SECRET])
    try:
        raise RuntimeError(f"login failed for {SECRET}")
    except RuntimeError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "token %s", (SECRET,), exc_info=sys.exc_info()
        )
    record.detail = f"extra {SECRET}"
    assert RedactingFilter(secrets).filter(record)
    text = logging.Formatter("%(message)s %(detail)s").format(record)
    assert SECRET not in text and text.startswith("token *** extra ***")
    assert "RuntimeError: login failed for ***" in text


def test_a_component_logger_scrubs_before_the_wrapped_logger_sees_the_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = SecretSet()
    logger = ScrubbingLogger(logging.getLogger("apg_workflow.test"), secrets)
    secrets.add([SECRET])  # a connection resolved while the component runs
    with caplog.at_level(logging.INFO):
        logger.info("calling with %s", {"token": SECRET})
    assert caplog.messages == ["calling with {'token': '***'}"]


def test_connection_files_are_read_and_their_errors_never_quote_them(tmp_path: Path) -> None:
    good = tmp_path / "connections.yaml"
    good.write_text(f"crm:\n  type: http\n  auth: {{kind: bearer, token: {SECRET}}}\n")
    assert read_connections_file(good)["crm"].settings()["auth"]["token"] == SECRET
    cases = {
        "broken.yaml": f'crm:\n  type: http\n  auth: {{kind: bearer, token: "{SECRET}\n',
        "broken.json": f'{{"crm": {{"type": "http", "token": "{SECRET}"',
        "wrong.yaml": f"crm:\n  type: http\n  auth: {{kind: bearer, tokn: {SECRET}}}\n",
        "list.yaml": f"- {SECRET}\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(InvalidConnection) as caught:
            read_connections_file(path)
        assert str(path) in caught.value.message and SECRET not in caught.value.message
