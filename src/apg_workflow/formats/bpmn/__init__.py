"""BPMN 2.0 XML: hardened reading (:func:`read_bpmn`) and deterministic writing (:func:`write_bpmn`).

What the model does not interpret (vendor extensions, data associations, …) is preserved and
written back; our own extensions live in the ``apg`` namespace (``urn:apg-workflow:bpmn:1.0``);
Camunda 7, Camunda 8 (Zeebe) and SpiffWorkflow extensions are mapped onto model fields on read.
"""

from apg_workflow.formats.bpmn.reader import read_bpmn
from apg_workflow.formats.bpmn.writer import write_bpmn

__all__ = ["read_bpmn", "write_bpmn"]
