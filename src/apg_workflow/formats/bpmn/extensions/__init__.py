"""Extension dialects: our ``apg:`` elements, and Camunda 7, Camunda 8 (Zeebe) and SpiffWorkflow
mapped onto model fields. Importing the package registers them all in :mod:`..registry`."""

from apg_workflow.formats.bpmn.extensions import apg, camunda, spiff, zeebe

__all__ = ["apg", "camunda", "spiff", "zeebe"]
