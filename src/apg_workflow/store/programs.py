"""Compiled programs of workflow versions, cached per process: a version never changes, so it is
read and compiled once. The compiler (formats + sandbox) is injected by the composition root."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine.program import Program
from apg_workflow.store import queries as q
from apg_workflow.store.records import Source

Compiler = Callable[[Sequence[Source]], Program]


class ProgramCache:
    def __init__(self, compiler: Compiler, *, size: int = 256) -> None:
        self._compile = compiler
        self._size = size
        self._programs: OrderedDict[int, Program] = OrderedDict()

    async def get(self, conn: AsyncConnection, version_id: int) -> Program:
        program = self.cached(version_id)
        if program is not None:
            return program
        program = self._compile(await q.version_sources(conn, version_id))
        self._programs[version_id] = program
        if len(self._programs) > self._size:
            self._programs.popitem(last=False)
        return program

    def cached(self, version_id: int) -> Program | None:
        """The program of ``version_id`` if it is compiled already."""
        program = self._programs.get(version_id)
        if program is not None:
            self._programs.move_to_end(version_id)
        return program

    def compile(self, sources: Sequence[Source]) -> Program:
        """Compile sources that are about to be deployed (raises what the compiler raises)."""
        return self._compile(sources)


__all__ = ["Compiler", "ProgramCache"]
