"""Deploying workflows: read the files, validate, and store a new version when they changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.expressions import syntax_error
from apg_workflow.formats import FormatError
from apg_workflow.model import Definitions, Expression, MessageDefinition, Problem, Severity, SignalDefinition
from apg_workflow.model.validation import validate
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.programs import checksum, compile_parsed, parse_sources, read_source
from apg_workflow.services.errors import InvalidDefinition
from apg_workflow.store import Deployment, Source, Trigger, deploy_txn


async def deploy(rt: Runtime, paths: Sequence[Path]) -> Deployment:
    """Deploy the definition in ``paths[0]`` with the called processes and DMN decision tables of
    the other files. Its key is the id of its main process."""
    if not paths:
        raise InvalidDefinition("no file to deploy")
    try:
        sources = [read_source(Path(p)) for p in paths]
    except FormatError as exc:
        raise InvalidDefinition(exc.message, exc.problems) from None
    return await deploy_sources(rt, sources)


BeforeDeploy = Callable[[AsyncConnection, str], Awaitable[None]]
AfterDeploy = Callable[[AsyncConnection, Deployment], Awaitable[None]]


async def deploy_sources(
    rt: Runtime,
    sources: Sequence[Source],
    *,
    before: BeforeDeploy | None = None,
    after: AfterDeploy | None = None,
) -> Deployment:
    """Validate and store ``sources``. In the same transaction, ``before(conn, key)`` runs first and
    may refuse by raising; ``after(conn, deployment)`` runs last."""
    try:
        definitions, decisions = parse_sources(sources)
        program = compile_parsed(definitions, decisions)
    except FormatError as exc:
        raise InvalidDefinition(exc.message, exc.problems) from None
    errors = tuple(p for d in definitions for p in check_definition(d) if p.severity is Severity.ERROR)
    if errors:
        raise InvalidDefinition(f"{sources[0].name} has {len(errors)} error(s)", errors)
    main = definitions[0].main_process
    triggers = []
    for proc in program.processes.values():
        for start in proc.process.start_events:
            message, signal = start.definition(MessageDefinition), start.definition(SignalDefinition)
            if isinstance(message, MessageDefinition) and message.message_ref:
                name = program.messages.get(message.message_ref, message.message_ref)
                triggers.append(Trigger("message", name, proc.process.id, start.id))
            if isinstance(signal, SignalDefinition) and signal.signal_ref:
                name = program.signals.get(signal.signal_ref, signal.signal_ref)
                triggers.append(Trigger("signal", name, proc.process.id, start.id))

    async def work(conn: AsyncConnection) -> Deployment:
        if before is not None:
            await before(conn, main.id)
        deployment = await deploy_txn(
            conn,
            tenant_id=rt.tenant,
            key=main.id,
            name=main.name,
            checksum=checksum(sources),
            main_process=main.id,
            sources=sources,
            triggers=triggers,
            now=rt.clock(),
        )
        if after is not None:
            await after(conn, deployment)
        return deployment

    return await rt.db.transaction(work)


def _check_expression(expression: Expression, kind: str) -> str | None:
    return syntax_error(expression.text, expression.language, kind=kind)


def check_definition(definitions: Definitions) -> tuple[Problem, ...]:
    """Every problem the validator finds, expressions checked with their language's syntax."""
    return validate(definitions, check_expression=_check_expression)


__all__ = ["AfterDeploy", "BeforeDeploy", "check_definition", "deploy", "deploy_sources"]
