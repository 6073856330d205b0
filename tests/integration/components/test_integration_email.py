"""email.send against a real SMTP server (aiosmtpd) on loopback, plain and with STARTTLS + AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apg_workflow.components import BpmnError, ConfigurationError, RetryableError
from apg_workflow.components.builtins.integration.email import EmailSend

from .conftest import RunComponent

pytestmark = pytest.mark.asyncio


class Inbox:
    """An aiosmtpd handler keeping what it receives; addresses at refused.example are refused."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def last(self) -> EmailMessage:
        content = self.envelopes[-1].content
        assert isinstance(content, bytes)
        return message_from_bytes(content, policy=policy.default)  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def mail(port: int, **extra: Any) -> dict[str, dict[str, Any]]:
    return {
        "mail": {
            "type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "starttls": False,
            "sender": "Shop <shop@example.com>",
            **extra,
        }
    }


async def test_templated_text_and_html_with_an_attachment_arrive(
    run_component: RunComponent, smtp_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp_server
    (tmp_path / "invoices").mkdir()
    (tmp_path / "invoices" / "7.pdf").write_bytes(b"%PDF-1.4 fake invoice")
    out = await run_component(
        EmailSend,
        {
            "connection": "mail",
            "to": "${customer.email}",
            "cc": ["Ops <ops@example.com>"],
            "bcc": "audit@example.com",
            "subject": "Order {{ order.id }} has shipped",
            "text": "Hello {{ customer.name }}, {{ order.lines | length }} items are on their way.",
            "html": "<p>Hello <b>{{ customer.name }}</b></p>",
            "attachments": ["invoices/${order.id}.pdf"],
        },
        {
            "customer": {"name": "Ada <script>", "email": "ada@example.com"},
            "order": {"id": 7, "lines": [1, 2]},
        },
        connections=mail(port),
        storage_root=tmp_path,
        job_id="job-42",
    )
    assert out["accepted"] == ["ada@example.com", "ops@example.com", "audit@example.com"]
    assert out["rejected"] == {} and out["message_id"] == "<job-42@example.com>"
    envelope = inbox.envelopes[-1]
    assert envelope.mail_from == "shop@example.com"
    assert envelope.rcpt_tos == ["ada@example.com", "ops@example.com", "audit@example.com"]
    received = inbox.last()
    assert received["Subject"] == "Order 7 has shipped"
    assert received["From"] == "Shop <shop@example.com>"
    assert received["To"] == "ada@example.com" and received["Cc"] == "Ops <ops@example.com>"
    assert received["Bcc"] is None
    assert received["Message-ID"] == "<job-42@example.com>"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and text.get_content().strip() == "Hello Ada <script>, 2 items are on their way."
    assert html is not None and "<b>Ada &lt;script&gt;</b>" in html.get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "7.pdf" and attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake invoice"


async def test_starttls_with_login(
    run_component: RunComponent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"shop",
            b"pw",
        )
        return AuthResult(success=ok, handled=False)

    inbox, port = Inbox(), _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        config = {
            "connection": "mail",
            "to": "ada@example.com",
            "subject": "Hi",
            "text": "secure",
            "timeout": 5,
        }
        out = await run_component(
            EmailSend, config, connections=mail(port, starttls=True, username="shop", password="pw")
        )
        assert out["accepted"] == ["ada@example.com"]
        assert inbox.last().get_content().strip() == "secure"
        with pytest.raises(ConfigurationError, match="refused the credentials"):
            await run_component(
                EmailSend, config, connections=mail(port, starttls=True, username="shop", password="wrong")
            )
    finally:
        controller.stop()


async def test_implicit_tls(
    run_component: RunComponent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        out = await run_component(
            EmailSend,
            {"connection": "mail", "to": "ada@example.com", "subject": "Hi", "text": "over TLS"},
            connections=mail(port, ssl=True),
        )
    finally:
        controller.stop()
    assert out["accepted"] == ["ada@example.com"]
    assert inbox.last().get_content().strip() == "over TLS"


async def test_refused_recipients(run_component: RunComponent, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    out = await run_component(
        EmailSend,
        {
            "connection": "mail",
            "to": ["ada@example.com", "ghost@refused.example"],
            "subject": "Hi",
            "text": "x",
        },
        connections=mail(port),
    )
    assert out["accepted"] == ["ada@example.com"]
    assert "no such user" in out["rejected"]["ghost@refused.example"]
    with pytest.raises(BpmnError) as caught:
        await run_component(
            EmailSend,
            {"connection": "mail", "to": "ghost@refused.example", "subject": "Hi", "text": "x"},
            connections=mail(port),
        )
    assert caught.value.code == "email-rejected"
    assert len(inbox.envelopes) == 1


async def test_bad_input_is_refused_before_anything_is_sent(
    run_component: RunComponent, smtp_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp_server
    base = {"connection": "mail", "to": "ada@example.com", "subject": "Hi", "text": "x"}
    with pytest.raises(ConfigurationError, match=r"line break|linefeed"):
        await run_component(
            EmailSend,
            {**base, "subject": "{{ s }}"},
            {"s": "Hi\nBcc: victim@example.com"},
            connections=mail(port),
        )
    with pytest.raises(ConfigurationError, match=r"subject template failed.*'missing' is undefined"):
        await run_component(EmailSend, {**base, "subject": "{{ missing }}"}, connections=mail(port))
    with pytest.raises(ConfigurationError, match="template failed"):
        await run_component(EmailSend, {**base, "text": "{{ ''.__class__.__mro__ }}"}, connections=mail(port))
    with pytest.raises(ConfigurationError, match="not an e-mail address"):
        await run_component(EmailSend, {**base, "to": "not-an-address"}, connections=mail(port))
    with pytest.raises(ConfigurationError, match="text or an html body"):
        await run_component(EmailSend, {"connection": "mail", "to": "a@example.com", "subject": "x"})
    with pytest.raises(ConfigurationError, match=r"contains '\.\.'"):
        await run_component(
            EmailSend, {**base, "attachments": ["../secret"]}, connections=mail(port), storage_root=tmp_path
        )
    assert inbox.envelopes == []


async def test_an_unreachable_server_is_transient(run_component: RunComponent) -> None:
    with pytest.raises(RetryableError):
        await run_component(
            EmailSend,
            {"connection": "mail", "to": "a@example.com", "subject": "x", "text": "x", "timeout": 5},
            connections=mail(_free_port()),
        )
