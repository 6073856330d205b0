"""email.send: a templated message (text and/or HTML, attachments from the storage root) over SMTP."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import PurePosixPath
from typing import Any

import aiosmtplib
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Field, model_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.integration.storage import confine, load, storage_root
from apg_workflow.components.builtins.integration.support import connection_settings, render
from apg_workflow.components.errors import BpmnError, ConfigurationError, RetryableError

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
Recipients = str | list[str]
ADDRESS_DESCRIPTION = (
    "Addresses (`ada@example.com` or `Ada <ada@example.com>`), as a list or comma-separated; "
    "`${name}` takes an "
    "input holding an address or a list of them."
)


class EmailConfig(ComponentConfig):
    connection: str = Field(
        description="Name of an `smtp` connection: host, port, username, password, starttls, ssl, sender."
    )
    to: Recipients = Field(description=ADDRESS_DESCRIPTION)
    cc: Recipients = Field(default_factory=list, description=ADDRESS_DESCRIPTION)
    bcc: Recipients = Field(
        default_factory=list, description=ADDRESS_DESCRIPTION + " Not shown to recipients."
    )
    sender: str | None = Field(None, description="The From address; defaults to the connection's sender.")
    reply_to: str | None = Field(None, description="The Reply-To address.")
    subject: str = Field(
        description="Subject, a Jinja template over the inputs: `Order {{ order.id }} shipped`."
    )
    text: str | None = Field(None, description="Plain-text body, a Jinja template over the inputs.")
    html: str | None = Field(
        None, description="HTML body, a Jinja template over the inputs (values are HTML-escaped)."
    )
    attachments: list[str] = Field(
        default_factory=list,
        description="Paths of files under the storage root to attach (placeholders allowed).",
    )
    max_attachment_bytes: int = Field(
        20 * 1024 * 1024, gt=0, le=100 * 1024 * 1024, description="Largest total size of the attachments."
    )
    timeout: float = Field(60.0, gt=0, le=600, description="Seconds the SMTP conversation may take.")

    @model_validator(mode="after")
    def _has_body(self) -> EmailConfig:
        if self.text is None and self.html is None:
            raise ValueError("give a text or an html body (or both)")
        return self


def _template(source: str, inputs: Mapping[str, Any], field: str, html: bool = False) -> str:
    try:
        return (_HTML if html else _TEXT).from_string(source).render(dict(inputs))
    except TemplateError as exc:
        where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise ConfigurationError(f"the {field} template failed{where}: {exc.message or exc}") from None
    except Exception as exc:  # any error evaluating a user's template is that template's fault
        raise ConfigurationError(f"the {field} template failed: {type(exc).__name__}: {exc}") from None


def _addresses(value: Any, field: str) -> list[Address]:
    items = value if isinstance(value, list) else [value] if value else []
    result = []
    for name, address in getaddresses([str(item) for item in items]):
        if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", address):
            raise ConfigurationError(f"'{address or name}' in {field} is not an e-mail address")
        result.append(Address(display_name=name, addr_spec=address))
    return result


class EmailSend(Component[EmailConfig]):
    type = "email.send"
    category = "integration"
    title = "Send an e-mail"
    description = (
        "Sends an e-mail through an SMTP server (STARTTLS or implicit TLS per the connection): subject and "
        "bodies are sandboxed Jinja templates over the inputs, text and HTML alternatives, attachments "
        "from the "
        "storage root. The Message-ID derives from the job id, so a retried job sends the same message id. "
        "A refused recipient raises the BPMN error `email-rejected`."
    )
    Config = EmailConfig
    inputs = {"type": "object", "description": "Variables the templates and `${name}` placeholders refer to."}
    outputs = {
        "type": "object",
        "properties": {
            "message_id": {"type": "string"},
            "accepted": {"type": "array", "items": {"type": "string"}},
            "rejected": {"type": "object", "description": "refused recipient -> the server's reason"},
        },
    }
    idempotent = False
    examples = (
        {
            "config": {
                "connection": "mail",
                "to": "${customer.email}",
                "subject": "Order {{ order.id }} has shipped",
                "text": "Hello {{ customer.name }},\nyour order {{ order.id }} is on its way.",
                "attachments": ["invoices/${order.id}.pdf"],
            },
            "inputs": {"customer": {"name": "Ada", "email": "ada@example.com"}, "order": {"id": 7}},
            "outputs": {
                "message_id": "<job-7f3a@example.com>",
                "accepted": ["ada@example.com"],
                "rejected": {},
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: EmailConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        smtp = connection_settings(context, config.connection, "smtp", ("host",))
        recipients = {
            field: _addresses(render(getattr(config, field), inputs, field), field)
            for field in ("to", "cc", "bcc")
        }
        envelope = list(dict.fromkeys(a.addr_spec for addresses in recipients.values() for a in addresses))
        if not envelope:
            raise ConfigurationError("give at least one recipient")
        message = await self._message(context, config, inputs, smtp, recipients)
        try:
            refused, _ = await aiosmtplib.send(
                message,
                recipients=envelope,
                hostname=str(smtp["host"]),
                port=int(smtp.get("port") or (465 if smtp.get("ssl") else 587)),
                username=smtp.get("username") or None,
                password=smtp.get("password") or None,
                use_tls=bool(smtp.get("ssl")),
                start_tls=None
                if smtp.get("starttls") is None or smtp.get("ssl")
                else bool(smtp.get("starttls")),
                timeout=config.timeout,
            )
        except aiosmtplib.SMTPAuthenticationError:
            raise ConfigurationError(
                f"the SMTP server refused the credentials of '{config.connection}'"
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{r.recipient}: {r.message}" for r in exc.recipients)
            raise BpmnError("email-rejected", f"every recipient was refused ({reasons})") from None
        except aiosmtplib.SMTPResponseException as exc:
            text = f"the SMTP server answered {exc.code}: {exc.message}"
            raise (
                RetryableError(text) if 400 <= exc.code < 500 else BpmnError("email-rejected", text)
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryableError(f"cannot send through {smtp['host']}: {exc}") from None
        rejected = {address: str(response.message) for address, response in refused.items()}
        accepted = [address for address in envelope if address not in rejected]
        return {"message_id": message["Message-ID"], "accepted": accepted, "rejected": rejected}

    async def _message(
        self,
        context: ComponentContext,
        config: EmailConfig,
        inputs: Mapping[str, Any],
        smtp: Mapping[str, Any],
        recipients: Mapping[str, list[Address]],
    ) -> EmailMessage:
        sender = _addresses(
            render(config.sender or smtp.get("sender") or smtp.get("username"), inputs, "sender"), "sender"
        )
        if len(sender) != 1:
            raise ConfigurationError("give one sender address (in the configuration or the connection)")
        message = EmailMessage()
        try:
            message["From"] = sender[0]
            for field in ("to", "cc"):
                if recipients[field]:
                    message[field.title()] = recipients[field]
            if config.reply_to:
                message["Reply-To"] = _addresses(render(config.reply_to, inputs, "reply_to"), "reply_to")
            message["Subject"] = _template(config.subject, inputs, "subject").strip()
        except ValueError as exc:  # a header with a line break: refused rather than injected
            raise ConfigurationError(f"invalid e-mail header: {exc}") from None
        domain = sender[0].domain
        message["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '-', context.job_id)}@{domain}>"
        if config.text is not None:
            message.set_content(_template(config.text, inputs, "text"))
        if config.html is not None:
            html = _template(config.html, inputs, "html", html=True)
            if config.text is None:
                message.set_content(html, subtype="html")
            else:
                message.add_alternative(html, subtype="html")
        await self._attach(context, config, inputs, message)
        return message

    async def _attach(
        self, context: ComponentContext, config: EmailConfig, inputs: Mapping[str, Any], message: EmailMessage
    ) -> None:
        if not config.attachments:
            return
        root = storage_root(context)
        budget = config.max_attachment_bytes
        for index, template in enumerate(config.attachments):
            path = confine(root, str(render(template, inputs, f"attachments[{index}]")), "attachment")
            data = await load(root, path, budget)
            budget -= len(data)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            maintype, subtype = kind.split("/", 1)
            message.add_attachment(
                data, maintype=maintype, subtype=subtype, filename=PurePosixPath(path).name
            )


COMPONENTS = (EmailSend,)
