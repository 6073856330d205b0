"""Auto-layout: diagram geometry (BPMN DI) for definitions that come without it.

JSON, YAML and DSL sources carry no geometry; :func:`layout_definitions` adds a diagram for every
process (or collaboration) that has none, so that the BPMN export opens readably in bpmn.io,
Camunda Modeler or Signavio. The layout is a left-to-right layered (Sugiyama-style) drawing and
is deterministic: the same definitions always get the same coordinates.
"""

from apg_workflow.formats.layout.plane import layout_definitions, layout_process

__all__ = ["layout_definitions", "layout_process"]
