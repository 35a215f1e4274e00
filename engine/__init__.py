"""onewindow's engine: BPMN definitions, cases, time limits and their storage, free of HTTP."""

__version__ = "0.1.0"
