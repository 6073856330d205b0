"""The worker: claims due jobs in batches with a lease, runs their components concurrently (at
most ``concurrency`` at once, each with a timeout) and reports each result in the transaction that
steps its execution, fenced by the job's claim: a report from a claim that expired is refused.

The jobs a completion makes ready go straight to this worker while it has room (no round trip
through the queue), the first of them in the task that ran the completed one. So do the jobs that
any other transition of this process makes ready (a start, a delivered command, a fired timer):
the worker is the process's local worker (:class:`~apg_workflow.store.transitions.LocalWorker`),
they are claimed for it in the transition's own write and handed over after the commit. It never
runs more than ``concurrency`` jobs at once: jobs handed over beyond that wait, claimed, for a
slot. It wakes on a commit in this process, on PostgreSQL ``NOTIFY``, or every poll interval; each
poll it also delivers inbox commands whose producer died before delivering them, and releases
queued executions that a concurrency limit no longer holds back (:mod:`apg_workflow.store.limits`;
normally the transition that frees a slot does). On stop it claims nothing more, lets running jobs
finish for ``shutdown_grace_seconds``, then releases the rest for another worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import deque
from datetime import timedelta

from apg_workflow.components import ComponentRegistry
from apg_workflow.components.connections import ConnectionSource
from apg_workflow.engine.commands import CompleteJob, FailJob
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.jobs import run_job
from apg_workflow.runtime.wakeups import wait_any
from apg_workflow.store import Claimant, CommandRejected, Fence, JobRecord, NotFound, StaleClaim, limits
from apg_workflow.store import queries as q
from apg_workflow.store.tables import commands, jobs

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        registry: ComponentRegistry,
        *,
        concurrency: int | None = None,
        name: str | None = None,
        connections: ConnectionSource | None = None,
    ) -> None:
        self.rt = runtime
        self.registry = registry
        self.connections = connections  # each job's tenant's, for its components
        self.concurrency = concurrency or runtime.settings.worker_concurrency
        self.name = name or worker_name()
        self.lease = timedelta(seconds=runtime.settings.lease_seconds)
        self._running: dict[str, tuple[asyncio.Task[None], JobRecord]] = {}
        self._handed: deque[JobRecord] = deque()  # claimed for this worker, waiting for a slot
        self._releasing: set[asyncio.Future[None]] = set()
        self._finished = asyncio.Event()
        self._backlog = False  # the last claim filled every free slot: more jobs may be due
        self._stopping = False

    @property
    def running(self) -> int:
        return len(self._running)

    def claimant(self) -> Claimant | None:
        """Claims for this worker while it has room (it is a ``LocalWorker`` of the transitions)."""
        room = self.concurrency - len(self._running) - len(self._handed)
        return Claimant(self.name, room, self.lease) if room > 0 and not self._stopping else None

    def hand_over(self, jobs: list[JobRecord]) -> None:
        """Take jobs claimed for this worker (by a transition of this process, or its own claim):
        each starts now if a slot is free, else when one frees."""
        self._handed.extend(jobs)
        if self._stopping:  # committed after the drain began: back to the queue
            task = asyncio.ensure_future(self._release_handed())
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)
            return
        while self._handed and len(self._running) < self.concurrency:
            self._start(self._handed.popleft())

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then drain."""
        settings = self.rt.settings
        wake = self.rt.wakeups.jobs
        listener = asyncio.create_task(self.rt.db.listen(q.JOBS_CHANNEL, wake.set, stop))
        transitions = self.rt.transitions
        if transitions.local is None:
            transitions.local = self
        log.info("worker %s started (concurrency %d)", self.name, self.concurrency)
        try:
            loop = asyncio.get_running_loop()
            next_poll = 0.0
            while not stop.is_set():
                polling = loop.time() >= next_poll
                if polling:
                    next_poll = loop.time() + settings.poll_interval_seconds
                if polling or wake.is_set() or (self._backlog and self._finished.is_set()):
                    wake.clear()
                    self._finished.clear()
                    await self._claim_and_start()
                    if polling and not self._backlog:
                        await self._deliver_orphans()
                        await self._release_queued()
                # A job ending matters only when jobs may be waiting for its slot.
                events = (stop, wake, self._finished) if self._backlog else (stop, wake)
                await wait_any(*events, timeout=next_poll - loop.time())
        finally:
            if transitions.local is self:
                transitions.local = None
            await self._drain(settings.shutdown_grace_seconds)
            await listener
            log.info("worker %s stopped", self.name)

    async def _claim_and_start(self) -> None:
        """Claim what fits; when it all fills up, more may wait (claim again once a job ends)."""
        room = self.concurrency - len(self._running) - len(self._handed)
        if room <= 0:
            self._backlog = True
            return
        now = self.rt.clock()
        try:
            claimed = await self.rt.db.transaction(
                lambda conn: q.claim_jobs(conn, worker=self.name, now=now, until=now + self.lease, limit=room)
            )
        except Exception:
            log.exception("claiming jobs failed; trying again")
            await asyncio.sleep(self.rt.settings.poll_interval_seconds)
            return
        self.hand_over(claimed)  # others may have taken slots while this claim was on its way
        self._backlog = len(claimed) == room

    def _start(self, job: JobRecord) -> None:
        task = asyncio.create_task(self._work(job), name=f"job {job.id}")
        self._running[job.id] = (task, job)

    async def _work(self, job: JobRecord) -> None:
        """Run ``job``, then, in the same task, the next job that its completion made ready and this
        worker claimed (a chain of service tasks runs without a hand-over), or else one waiting for
        a slot."""
        task = asyncio.current_task()
        assert task is not None
        current: JobRecord | None = job
        try:
            while current is not None:
                claimed = await self._run(current)
                self._running.pop(current.id, None)
                current = claimed[0] if claimed else None
                if current is None and self._handed and not self._stopping:
                    current = self._handed.popleft()
                if current is not None:
                    self._running[current.id] = (task, current)
                if len(claimed) > 1:
                    self.hand_over(claimed[1:])
        finally:
            if current is not None:
                self._running.pop(current.id, None)
            self._finished.set()

    async def _run(self, job: JobRecord) -> list[JobRecord]:
        """Run one job and report it; the jobs claimed for this worker by the report."""
        try:
            lookup = await self.connections.for_tenant(job.tenant_id) if self.connections else None
            result = await run_job(
                self.registry,
                job,
                timeout=self.rt.settings.job_timeout_seconds,
                clock=self.rt.clock,
                connections=lookup,
                storage_root=self.rt.settings.storage_root,
            )
            return await self._report(job, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s: reporting its result failed; it runs again when its lease ends", job.id)
            return []

    async def _report(self, job: JobRecord, result: CompleteJob | FailJob) -> list[JobRecord]:
        fence = Fence(jobs, job.id, job.claims)
        room = 0 if self._stopping else self.concurrency - len(self._running) - len(self._handed) + 1
        claimant = Claimant(self.name, room, self.lease) if room > 0 else None
        transitions = self.rt.transitions
        try:
            outcome = await transitions.apply(job.execution_id, result, fence=fence, claimant=claimant)
        except StaleClaim as exc:
            log.info("%s; its result is dropped", exc.message)
            return []
        except (CommandRejected, NotFound) as exc:
            if isinstance(result, CompleteJob) and isinstance(exc, CommandRejected):
                # The result could not be stored (not JSON data): the attempt fails without retry.
                failure = FailJob(
                    job_id=job.id,
                    attempt=job.attempt,
                    message=f"the result could not be stored: {exc.reason}",
                    retryable=False,
                )
                return await self._report(job, failure)
            log.info("job %s refused by its execution (%s); dropped", job.id, exc.message)
            await transitions.discard(fence)
            return []
        return outcome.claimed

    async def _deliver_orphans(self) -> None:
        """Inbox commands left behind by a process that died before delivering them."""
        now = self.rt.clock()
        try:
            claims = await self.rt.db.transaction(
                lambda conn: q.claim_rows(
                    conn, commands, worker=self.name, now=now, until=now + self.lease, limit=100
                )
            )
            for claim in claims:
                await self.rt.transitions.deliver_claimed(claim)
        except Exception:
            log.exception("delivering inbox commands failed; trying again later")

    async def _release_queued(self) -> None:
        """Queued executions that a slot could take (normally released when the slot frees)."""
        try:
            released = await limits.release_queued(self.rt.transitions)
        except Exception:
            log.exception("releasing queued executions failed; trying again later")
            return
        if released:
            log.info("worker %s released %d queued execution(s)", self.name, released)

    async def _release_handed(self) -> None:
        """Jobs handed over while stopping: back to the queue for another worker."""
        ids = [job.id for job in self._handed]
        self._handed.clear()
        if ids:
            now = self.rt.clock()
            await self.rt.db.transaction(lambda conn: q.release(conn, jobs, ids, worker=self.name, now=now))

    async def _drain(self, grace: float) -> None:
        self._stopping = True
        if self._running:
            log.info(
                "worker %s: waiting up to %gs for %d running job(s)", self.name, grace, len(self._running)
            )
            await asyncio.wait([task for task, _ in self._running.values()], timeout=grace)
        left = list(self._running.values())
        for task, _ in left:
            task.cancel()
        await asyncio.gather(*(task for task, _ in left), return_exceptions=True)
        await self._release_handed()
        if left:
            ids = [job.id for _, job in left]
            now = self.rt.clock()
            await self.rt.db.transaction(lambda conn: q.release(conn, jobs, ids, worker=self.name, now=now))
            log.info("worker %s released %d job(s)", self.name, len(ids))


__all__ = ["Worker", "worker_name"]
