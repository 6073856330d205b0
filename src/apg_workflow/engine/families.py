"""Imports every element family so that its behaviours are registered (see :mod:`.behaviour`)."""

from apg_workflow.engine import activities, events, gateways, jobs, subprocess

__all__ = ["activities", "events", "gateways", "jobs", "subprocess"]
