"""APG Workflow: BPMN 2.0 workflow orchestration for Python."""

__version__ = "0.1.0"

__all__ = ["__version__"]
